"""Terraform JSON output, checked structurally.

No terraform provider can be installed here (registry.terraform.io is unreachable), so
`terraform validate` cannot run; instead these tests check what validate would: every
interpolated reference names a declared resource or data source, each resource type
has the provider's required arguments, and literal `${` never leaks into a template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambic.deploy.deployable import load_deployable
from lambic.deploy.terraform import build_terraform

# Required arguments of the aws provider's resources we emit (provider docs).
REQUIRED = {
    "aws_iam_role": {"assume_role_policy"},
    "aws_iam_role_policy": {"role", "policy"},
    "aws_lambda_function": {"function_name", "role"},
    "aws_lambda_permission": {"action", "function_name", "principal"},
    "aws_api_gateway_rest_api": {"name"},
    "aws_api_gateway_deployment": {"rest_api_id"},
    "aws_api_gateway_stage": {"rest_api_id", "deployment_id", "stage_name"},
    "aws_apigatewayv2_api": {"name", "protocol_type"},
    "aws_apigatewayv2_integration": {"api_id", "integration_type"},
    "aws_apigatewayv2_route": {"api_id", "route_key"},
    "aws_apigatewayv2_stage": {"api_id", "name"},
    "aws_apigatewayv2_deployment": {"api_id"},
    "aws_cloudwatch_event_rule": set(),
    "aws_cloudwatch_event_target": {"rule", "arn"},
    "aws_s3_bucket_notification": {"bucket"},
    "aws_lambda_event_source_mapping": {"function_name"},
    "aws_sns_topic_subscription": {"topic_arn", "protocol", "endpoint"},
    "aws_dynamodb_table": {"name", "hash_key", "attribute"},
    "aws_s3_bucket": set(),
    "aws_s3_bucket_website_configuration": {"bucket"},
    "aws_s3_bucket_cors_configuration": {"bucket", "cors_rule"},
    "aws_s3_bucket_public_access_block": {"bucket"},
    "aws_s3_bucket_policy": {"bucket", "policy"},
    "aws_sqs_queue": set(),
    "aws_sqs_queue_policy": {"queue_url", "policy"},
    "aws_sns_topic": set(),
    "aws_cloudwatch_event_bus": {"name"},
    "aws_kinesis_stream": {"name"},
}
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^}]*)\}")
_REFERENCE = re.compile(r"\b((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)\.[a-z_]+")


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def check_structure(document: dict[str, Any]) -> None:
    declared = {
        f"{kind}.{name}" for kind, named in document["resource"].items() for name in named
    } | {f"data.{kind}.{name}" for kind, named in document["data"].items() for name in named}
    for kind, named in document["resource"].items():
        assert kind in REQUIRED, f"unexpected resource type {kind}"
        for name, body in named.items():
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name), name
            missing = REQUIRED[kind] - set(body)
            assert not missing, f"{kind}.{name} lacks {missing}"
    for text in _strings(document):
        for expression in _INTERPOLATION.findall(text):
            for reference in _REFERENCE.findall(expression):
                assert reference in declared, f"{reference} is not declared"


@pytest.mark.parametrize(
    ("app", "stage"),
    [
        ("hello", "dev"),
        ("web", "dev"),
        ("web", "prod"),
        ("hello", "http"),
        ("events", "dev"),
        ("policy", "dev"),
        ("trainstatus", "dev"),
        ("resources", "dev"),
        ("websocket", "dev"),
    ],
)
def test_terraform_json_is_structurally_valid(
    app: str, stage: str, copy_app: Callable[[str], Path]
) -> None:
    document = build_terraform(load_deployable(copy_app(app), stage).graph)
    json.dumps(document)
    check_structure(document)


def test_structure_check_rejects_a_dangling_reference(copy_app: Callable[[str], Path]) -> None:
    document = build_terraform(load_deployable(copy_app("hello"), "dev").graph)
    document["resource"]["aws_lambda_function"]["api_handler"]["role"] = "${aws_iam_role.gone.arn}"
    with pytest.raises(AssertionError, match=r"aws_iam_role\.gone is not declared"):
        check_structure(document)


def test_rest_api_body_interpolates_function_invoke_arns(copy_app: Callable[[str], Path]) -> None:
    document = build_terraform(load_deployable(copy_app("web"), "dev").graph)
    body = document["resource"]["aws_api_gateway_rest_api"]["rest_api"]["body"]
    assert "${aws_lambda_function.api_handler.invoke_arn}" in body
    assert "${aws_lambda_function.token_auth.invoke_arn}" in body
    assert "@@" not in body
    spec = json.loads(_INTERPOLATION.sub("X", body))
    assert spec["paths"]["/users/{user_id}"]["get"]["security"] == [{"token_auth": []}]
    function = document["resource"]["aws_lambda_function"]["token_auth"]
    assert function["reserved_concurrent_executions"] == 5


def test_lambda_architecture_becomes_the_functions_architectures(
    copy_app: Callable[[str], Path],
) -> None:
    project = copy_app("web")
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["lambda_architecture"] = "arm64"
    config_path.write_text(json.dumps(config))
    functions = build_terraform(load_deployable(project, "dev").graph)["resource"][
        "aws_lambda_function"
    ]
    assert functions["api_handler"]["architectures"] == ["arm64"]
    assert functions["token_auth"]["architectures"] == ["arm64"]


def test_declared_resources_are_terraform_resources_that_handlers_reference(
    copy_app: Callable[[str], Path],
) -> None:
    res = build_terraform(load_deployable(copy_app("resources"), "dev").graph)["resource"]
    mappings = res["aws_lambda_event_source_mapping"]
    sources = {m["function_name"]: m["event_source_arn"] for m in mappings.values()}
    assert sources["${aws_lambda_function.on_order_change.arn}"] == (
        "${aws_dynamodb_table.shop_orders.stream_arn}"
    )
    assert sources["${aws_lambda_function.on_job.arn}"] == "${aws_sqs_queue.shop_jobs.arn}"
    jobs = res["aws_sqs_queue"]["shop_jobs"]
    assert jobs["visibility_timeout_seconds"] == 3
    assert jobs["redrive_policy"] == (
        "${jsonencode({deadLetterTargetArn = aws_sqs_queue.shop_jobs_dlq.arn, "
        "maxReceiveCount = 1})}"
    )
    subscription = res["aws_sns_topic_subscription"]["shop_alerts_subscription0"]
    assert subscription == {
        "topic_arn": "${aws_sns_topic.shop_alerts.arn}",
        "protocol": "sqs",
        "endpoint": "${aws_sqs_queue.shop_alerts_copy.arn}",
        "raw_message_delivery": True,
    }
    queue_policy = json.loads(res["aws_sqs_queue_policy"]["shop_alerts_copy"]["policy"])
    assert queue_policy["Statement"][0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": ["${aws_sns_topic.shop_alerts.arn}"]}
    }
    assert res["aws_cloudwatch_event_bus"]["shop_bus"] == {"name": "shop-bus"}
    assert res["aws_kinesis_stream"]["shop_clicks"] == {
        "name": "shop-clicks",
        "shard_count": 2,
        "retention_period": 48,
        "stream_mode_details": {"stream_mode": "PROVISIONED"},
    }
    assert sources["${aws_lambda_function.on_click.arn}"] == (
        "${aws_kinesis_stream.shop_clicks.arn}"
    )


def test_a_public_website_bucket_gets_its_access_block_lifted_before_its_policy(
    copy_app: Callable[[str], Path],
) -> None:
    res = build_terraform(load_deployable(copy_app("resources"), "dev").graph)["resource"]
    block = res["aws_s3_bucket_public_access_block"]["shop_site"]
    assert (block["block_public_policy"], block["restrict_public_buckets"]) == (False, False)
    policy = res["aws_s3_bucket_policy"]["shop_site"]
    assert policy["depends_on"] == ["aws_s3_bucket_public_access_block.shop_site"]
    assert json.loads(policy["policy"])["Statement"] == [
        {
            "Sid": "PublicReadGetObject",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shop-site/*",
        }
    ]
    assert set(res["aws_s3_bucket_policy"]) == {"shop_site"}  # the audit bucket stays private
    assert res["aws_s3_bucket_cors_configuration"]["shop_site"]["cors_rule"] == [
        {"allowed_methods": ["GET"], "allowed_origins": ["*"], "max_age_seconds": 300}
    ]


def test_websocket_api_routes_and_least_privilege_policy(copy_app: Callable[[str], Path]) -> None:
    document = build_terraform(load_deployable(copy_app("websocket"), "dev").graph)
    resources = document["resource"]
    api = resources["aws_apigatewayv2_api"]["websocket_api"]
    assert (api["name"], api["protocol_type"]) == ("wsapp-dev-websocket-api", "WEBSOCKET")
    routes = {r["route_key"]: r["target"] for r in resources["aws_apigatewayv2_route"].values()}
    assert routes == {
        "$connect": "integrations/${aws_apigatewayv2_integration.websocket_connect.id}",
        "$default": "integrations/${aws_apigatewayv2_integration.websocket_message.id}",
        "$disconnect": "integrations/${aws_apigatewayv2_integration.websocket_disconnect.id}",
    }
    assert resources["aws_apigatewayv2_stage"]["websocket_api"]["name"] == "api"
    policy = json.loads(resources["aws_iam_role_policy"]["websocket_manage_connections"]["policy"])
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["execute-api:ManageConnections"],
            "Resource": "${aws_apigatewayv2_api.websocket_api.execution_arn}/api/*/@connections/*",
        }
    ]
    assert "WebsocketConnectEndpointURL" in document["output"]
