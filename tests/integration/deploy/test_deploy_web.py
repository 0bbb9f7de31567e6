"""Deploying the routes app (CORS, binary, authorizers, API key) to moto, then updating it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.aws import AWSSession
from lambic.deploy.deployer import delete, deploy, url
from lambic.deploy.errors import AWSError
from lambic.deploy.packager import package_bytes
from lambic.deploy.records import load_record
from lambic.project.config import DEFAULT_RUNTIME

from .conftest import CallLog, client

pytestmark = pytest.mark.usefixtures("aws_env")

Session = Callable[[], tuple[AWSSession, CallLog]]


def test_functions_get_handler_runtime_memory_timeout_env_and_concurrency(
    copy_app: Callable[[str], Path],
) -> None:
    project = copy_app("web")
    record = deploy(project, "dev")
    lam = client("lambda")
    api = lam.get_function(FunctionName="web-dev")
    config = api["Configuration"]
    assert (config["Handler"], config["Runtime"], config["MemorySize"], config["Timeout"]) == (
        "app.app",
        DEFAULT_RUNTIME,
        256,
        30,
    )
    assert config["Environment"]["Variables"] == {"USERS_TABLE": "users", "STAGE": "dev"}
    assert config["Role"] == "arn:aws:iam::123456789012:role/web-dev"
    auth = lam.get_function(FunctionName="web-dev-token_auth")
    assert auth["Configuration"]["Handler"] == "app.token_auth"
    assert auth["Configuration"]["MemorySize"] == 128
    assert auth["Concurrency"]["ReservedConcurrentExecutions"] == 5
    document = client("iam").get_role_policy(RoleName="web-dev", PolicyName="web-dev")
    statements = document["PolicyDocument"]["Statement"]
    assert {
        "Effect": "Allow",
        "Action": ["dynamodb:PutItem"],
        "Resource": ["arn:aws:dynamodb:*:*:table/users"],
    } in statements
    assert record.api_url == url(project, "dev")
    assert record.api_url.endswith(".execute-api.us-east-1.amazonaws.com/api/")


def test_rest_api_routes_proxy_to_the_function_and_api_gateway_may_invoke(
    copy_app: Callable[[str], Path],
) -> None:
    record = deploy(copy_app("web"), "dev")
    api_id = record.resources["api"].attrs["api_id"]
    apigw = client("apigateway")
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert {"/", "/users/{user_id}", "/admin", "/image"} <= set(resources)
    user = resources["/users/{user_id}"]
    assert {"GET", "PUT", "OPTIONS"} <= set(user["resourceMethods"])
    integration = apigw.get_integration(restApiId=api_id, resourceId=user["id"], httpMethod="PUT")
    assert integration["type"].upper() == "AWS_PROXY"  # moto echoes the case it was given
    assert integration["uri"].endswith("function:web-dev/invocations"), integration["uri"]
    assert apigw.get_stage(restApiId=api_id, stageName="api")["stageName"] == "api"
    for function in ("web-dev", "web-dev-token_auth"):
        policy = json.loads(client("lambda").get_policy(FunctionName=function)["Policy"])
        [statement] = policy["Statement"]
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert api_id in json.dumps(statement["Condition"])


def test_first_deploy_prints_each_resource_as_created_then_the_api_url(
    copy_app: Callable[[str], Path],
) -> None:
    lines: list[str] = []
    record = deploy(copy_app("web"), "dev", echo=lines.append)
    api_id = record.resources["api"].attrs["api_id"]
    assert lines == [
        "Deploying web (dev) to us-east-1: 4 changes",
        "  created   role web-dev",
        "  created   function web-dev",
        "  created   function web-dev-token_auth",
        f"  created   REST API {api_id} (web)",
        "Deployed web (dev): 4 created",
        f"  Rest API URL: https://{api_id}.execute-api.us-east-1.amazonaws.com/api/",
        "  Logs:         lambic logs --stage dev",
    ]


def test_redeploy_without_changes_makes_no_mutating_call(
    copy_app: Callable[[str], Path], counted_session: Session
) -> None:
    project = copy_app("web")
    deploy(project, "dev")
    aws, log = counted_session()
    lines: list[str] = []
    deploy(project, "dev", aws=aws, echo=lines.append)
    assert log.mutating == []
    assert log.calls == [("sts", "GetCallerIdentity")]
    assert lines[0] == "No changes: 4 resources up to date in web (dev), us-east-1"


def test_changed_setting_updates_only_that_function_configuration(
    copy_app: Callable[[str], Path], counted_session: Session
) -> None:
    project = copy_app("web")
    deploy(project, "dev")
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["lambda_functions"]["token_auth"]["lambda_timeout"] = 7
    config["stages"]["dev"]["lambda_functions"]["token_auth"]["lambda_memory_size"] = 512
    config_path.write_text(json.dumps(config))
    aws, log = counted_session()
    lines: list[str] = []
    deploy(project, "dev", aws=aws, echo=lines.append)
    assert log.mutating == ["UpdateFunctionConfiguration"]
    assert [line for line in lines if line.startswith("  updated")] == [
        "  updated   function web-dev-token_auth"
    ]
    assert lines[2] == "Deployed web (dev): 1 updated, 3 unchanged"
    lam = client("lambda")
    assert lam.get_function(FunctionName="web-dev-token_auth")["Configuration"]["Timeout"] == 7
    assert lam.get_function(FunctionName="web-dev")["Configuration"]["Timeout"] == 30


def test_added_route_reimports_the_api_and_ships_new_code(
    copy_app: Callable[[str], Path], counted_session: Session
) -> None:
    project = copy_app("web")
    first = deploy(project, "dev")
    with (project / "app.py").open("a") as source:
        source.write('\n\n@app.route("/health")\ndef health():\n    return {"ok": True}\n')
    aws, log = counted_session()
    record = deploy(project, "dev", aws=aws)
    # The one zip holds every function's code, so each gets the new code; nothing else.
    assert sorted(log.mutating) == [
        "CreateDeployment",
        "PutRestApi",
        "UpdateFunctionCode",
        "UpdateFunctionCode",
    ]
    assert record.resources["api"].attrs["api_id"] == first.resources["api"].attrs["api_id"]
    api_id = record.resources["api"].attrs["api_id"]
    paths = {r["path"] for r in client("apigateway").get_resources(restApiId=api_id)["items"]}
    assert "/health" in paths


def test_delete_removes_everything_it_created_and_the_record(
    copy_app: Callable[[str], Path],
) -> None:
    project = copy_app("web")
    # Someone else's role, function and API in the same account must survive.
    role = client("iam").create_role(RoleName="other", AssumeRolePolicyDocument="{}")
    client("lambda").create_function(
        FunctionName="other-fn",
        Role=role["Role"]["Arn"],
        Runtime="python3.11",
        Handler="x.y",
        Code={"ZipFile": package_bytes(copy_app("hello"))},
    )
    other_api = client("apigateway").create_rest_api(name="other")["id"]
    deploy(project, "dev")
    delete(project, "dev")
    assert [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]] == [
        "other-fn"
    ]
    assert [a["id"] for a in client("apigateway").get_rest_apis()["items"]] == [other_api]
    assert [r["RoleName"] for r in client("iam").list_roles()["Roles"]] == ["other"]
    assert load_record(project, "dev") is None


def test_http_api_stage_creates_routes_to_the_function(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("hello")
    record = deploy(project, "http")
    api_id = record.resources["api"].attrs["api_id"]
    v2 = client("apigatewayv2")
    assert {r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]} == {"GET /"}
    [integration] = v2.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"].endswith(":function:hello-http")
    assert record.api_url == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/"
    lines: list[str] = []
    deploy(project, "http", echo=lines.append)
    assert f"  HTTP API URL: {record.api_url}" in lines
    delete(project, "http")
    assert v2.get_apis()["Items"] == []


def test_existing_role_is_used_and_left_alone(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("hello")
    role = client("iam").create_role(RoleName="shared", AssumeRolePolicyDocument="{}")["Role"]
    (project / ".lambic" / "config.json").write_text(
        json.dumps({"app_name": "hello", "manage_iam_role": False, "iam_role_arn": role["Arn"]})
    )
    deploy(project, "dev")
    function = client("lambda").get_function(FunctionName="hello-dev")["Configuration"]
    assert function["Role"] == role["Arn"]
    delete(project, "dev")
    assert [r["RoleName"] for r in client("iam").list_roles()["Roles"]] == ["shared"]


def test_renamed_api_stage_replaces_the_old_stage(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("web")
    deploy(project, "dev")
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["api_gateway_stage"] = "v2"
    config_path.write_text(json.dumps(config))
    record = deploy(project, "dev")
    api_id = record.resources["api"].attrs["api_id"]
    stages = client("apigateway").get_stages(restApiId=api_id)["item"]
    assert [s["stageName"] for s in stages] == ["v2"]
    assert record.api_url is not None
    assert record.api_url.endswith("/v2/")


def test_failure_inside_a_create_resumes_at_the_missing_part(
    copy_app: Callable[[str], Path], counted_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto enforces Lambda's account concurrency quota only when told to.
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000")
    project = copy_app("hello")
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"] = {"reserved_concurrency": 950}
    config_path.write_text(json.dumps(config))
    with pytest.raises(AWSError, match=r"PutFunctionConcurrency failed while create function"):
        deploy(project, "dev")
    record = load_record(project, "dev")
    assert record is not None
    assert record.resources["function:api_handler"].parts["concurrency"] == ""

    config["stages"]["dev"] = {"reserved_concurrency": 5}
    config_path.write_text(json.dumps(config))
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert "CreateFunction" not in log.mutating
    assert log.mutating[0] == "PutFunctionConcurrency"
    concurrency = client("lambda").get_function_concurrency(FunctionName="hello-dev")
    assert concurrency["ReservedConcurrentExecutions"] == 5


def test_resource_deleted_outside_lambic_is_recreated_on_update(
    copy_app: Callable[[str], Path],
) -> None:
    project = copy_app("hello")
    deploy(project, "dev")
    client("lambda").delete_function(FunctionName="hello-dev")
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"] = {"lambda_timeout": 12}
    config_path.write_text(json.dumps(config))
    record = deploy(project, "dev")
    function = client("lambda").get_function(FunctionName="hello-dev")["Configuration"]
    assert function["Timeout"] == 12
    # API Gateway's permission went with the old function; it is granted again.
    [statement] = json.loads(client("lambda").get_policy(FunctionName="hello-dev")["Policy"])[
        "Statement"
    ]
    assert record.resources["api"].attrs["api_id"] in json.dumps(statement["Condition"])


def test_lambda_architecture_is_created_and_changed_with_the_code(
    copy_app: Callable[[str], Path], counted_session: Session
) -> None:
    project = copy_app("web")
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["lambda_functions"]["token_auth"]["lambda_architecture"] = "arm64"
    config_path.write_text(json.dumps(config))
    deploy(project, "dev")
    lam = client("lambda")
    auth = lam.get_function(FunctionName="web-dev-token_auth")["Configuration"]
    assert auth["Architectures"] == ["arm64"]
    assert lam.get_function(FunctionName="web-dev")["Configuration"]["Architectures"] == ["x86_64"]

    # Lambda changes the instruction set with the code (UpdateFunctionCode), only there.
    del config["stages"]["dev"]["lambda_functions"]["token_auth"]["lambda_architecture"]
    config_path.write_text(json.dumps(config))
    aws, log = counted_session()
    sent: list[dict[str, object]] = []
    aws.client("lambda").meta.events.register(
        "provide-client-params.lambda.UpdateFunctionCode",
        lambda params, **_: sent.append(dict(params)),
    )
    deploy(project, "dev", aws=aws)
    assert log.mutating == ["UpdateFunctionCode"]
    # (moto keeps the old value on UpdateFunctionCode; AWS applies what is sent)
    assert [(p["FunctionName"], p["Architectures"]) for p in sent] == [
        ("web-dev-token_auth", ["x86_64"])
    ]
