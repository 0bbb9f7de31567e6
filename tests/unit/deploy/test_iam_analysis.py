from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.deployable import load_deployable
from lambic.deploy.errors import PolicyError
from lambic.deploy.iam_analysis import analyse_project
from lambic.deploy.policy import generate_policy, resolve_policy
from lambic.project.config import load_stage_config


def _grants(project: Path, env: dict[str, str] | None = None) -> dict[str, set[str]]:
    """IAM action → resources, flattened."""
    actions: dict[str, set[str]] = {}
    for grant in analyse_project(project, env):
        for action in grant.actions:
            actions.setdefault(action, set()).update(grant.resources)
    return actions


def test_follows_resources_helpers_and_other_modules_to_named_tables(
    copy_app: Callable[[str], Path],
) -> None:
    grants = _grants(copy_app("policy"), {"STATUS_TABLE": "trainstatus"})
    # get_status_table() in chalicelib returns boto3.resource(...).Table(env var).
    assert grants["dynamodb:GetItem"] == {"arn:aws:dynamodb:*:*:table/trainstatus"}
    # batch_writer() on that table is BatchWriteItem.
    assert grants["dynamodb:BatchWriteItem"] == {"arn:aws:dynamodb:*:*:table/trainstatus"}
    # A module-level table in chalicelib.db, reached as db.users, named by an f-string.
    assert grants["dynamodb:Scan"] == {
        "arn:aws:dynamodb:*:*:table/users-table",
        "arn:aws:dynamodb:*:*:table/users-table/index/*",
    }


def test_scopes_buckets_queues_and_functions_and_maps_iam_names(
    copy_app: Callable[[str], Path],
) -> None:
    grants = _grants(copy_app("policy"), {"WORKER_FUNCTION": "worker-fn"})
    # A client stored on self in a class, bucket from a helper's os.getenv default.
    assert grants["s3:PutObject"] == {
        "arn:aws:s3:::archive-default/*",
        "arn:aws:s3:::reports-bucket/*",  # upload_file(Filename, Bucket, Key)
    }
    # list_objects_v2 through a paginator needs s3:ListBucket on the bucket itself.
    assert grants["s3:ListBucket"] == {"arn:aws:s3:::archive-default"}
    assert grants["sqs:SendMessage"] == {"arn:aws:sqs:*:*:work-queue"}
    # A client held as a class attribute, used through self in a method.
    assert grants["sns:Publish"] == {"arn:aws:sns:us-east-1:123456789012:alerts"}
    # session.client("lambda").invoke needs lambda:InvokeFunction.
    assert grants["lambda:InvokeFunction"] == {"arn:aws:lambda:*:*:function:worker-fn"}
    assert "lambda:Invoke" not in grants


def test_unresolvable_names_fall_back_to_a_wildcard_not_a_guess(
    copy_app: Callable[[str], Path],
) -> None:
    grants = _grants(copy_app("policy"), {})
    assert grants["lambda:InvokeFunction"] == {"*"}
    assert grants["events:PutEvents"] == {"*"}


def test_code_without_boto3_gets_only_the_logs_statement(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import json\nx = json.dumps({})\n")
    policy = generate_policy(tmp_path)
    assert [s["Action"] for s in policy["Statement"]] == [
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    ]


def test_stage_policy_uses_config_env_and_event_source_polling(
    copy_app: Callable[[str], Path],
) -> None:
    policy = load_deployable(copy_app("events"), "dev").policy
    by_action = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    assert by_action["sns:Publish"] == ["arn:aws:sns:us-east-1:123456789012:alerts"]
    assert by_action["sqs:ReceiveMessage"] == ["arn:aws:sqs:*:*:jobs"]
    assert by_action["dynamodb:GetRecords"][0].startswith("arn:aws:dynamodb:us-east-1:")
    policy = load_deployable(copy_app("policy"), "dev").policy
    by_action = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    assert by_action["dynamodb:GetItem"] == ["arn:aws:dynamodb:*:*:table/trainstatus"]
    assert by_action["lambda:InvokeFunction"] == ["arn:aws:lambda:*:*:function:worker-fn"]


def test_autogen_off_reads_the_policy_file(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("hello")
    (project / ".lambic").mkdir(exist_ok=True)
    (project / ".lambic" / "config.json").write_text(
        json.dumps({"app_name": "hello", "autogen_policy": False})
    )
    config = load_stage_config(project, "dev")
    with pytest.raises(PolicyError, match=r"policy-dev\.json does not exist"):
        resolve_policy(config)
    custom = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    (project / ".lambic" / "policy-dev.json").write_text(json.dumps(custom))
    assert resolve_policy(config) == custom


def test_invoking_a_function_by_literal_name_or_arn_grants_invoke_function_on_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.py").write_text(
        "import boto3, json\n"
        "lam = boto3.client('lambda')\n"
        "def handler(event, context):\n"
        "    lam.invoke(FunctionName='app-dev-worker', InvocationType='Event', Payload=b'{}')\n"
        "    boto3.client('lambda').invoke(\n"
        "        FunctionName='arn:aws:lambda:eu-west-1:123456789012:function:other')\n"
    )
    grants = _grants(tmp_path)
    assert grants["lambda:InvokeFunction"] == {
        "arn:aws:lambda:*:*:function:app-dev-worker",
        "arn:aws:lambda:eu-west-1:123456789012:function:other",
    }
