"""Deploying a WebSocket app to moto: the API, its routes, permissions, policy; update; delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.aws import AWSSession
from lambic.deploy.deployer import delete, deploy

from .conftest import CallLog, client

pytestmark = pytest.mark.usefixtures("aws_env")

Session = Callable[[], tuple[AWSSession, CallLog]]


def _routes(api_id: str) -> dict[str, str]:
    v2 = client("apigatewayv2")
    integrations = {
        i["IntegrationId"]: i["IntegrationUri"] for i in v2.get_integrations(ApiId=api_id)["Items"]
    }
    return {
        r["RouteKey"]: integrations[r["Target"].removeprefix("integrations/")]
        for r in v2.get_routes(ApiId=api_id)["Items"]
    }


def test_websocket_api_routes_each_key_to_its_function_with_permission_and_policy(
    copy_app: Callable[[str], Path],
) -> None:
    lines: list[str] = []
    record = deploy(copy_app("websocket"), "dev", echo=lines.append)
    attrs = record.resources["websocket_api"].attrs
    api_id = attrs["api_id"]
    api = client("apigatewayv2").get_api(ApiId=api_id)
    assert (api["Name"], api["ProtocolType"]) == ("wsapp-dev-websocket-api", "WEBSOCKET")
    routes = _routes(api_id)
    assert set(routes) == {"$connect", "$default", "$disconnect"}
    assert routes["$default"].endswith(":function:wsapp-dev-websocket_message/invocations"), routes
    stages = client("apigatewayv2").get_stages(ApiId=api_id)["Items"]
    assert [s["StageName"] for s in stages] == ["api"]
    policy = json.loads(
        client("lambda").get_policy(FunctionName="wsapp-dev-websocket_connect")["Policy"]
    )
    assert any(
        s["Principal"] == {"Service": "apigateway.amazonaws.com"}
        and api_id in s["Condition"]["ArnLike"]["AWS:SourceArn"]
        for s in policy["Statement"]
    )
    document = client("iam").get_role_policy(RoleName="wsapp-dev", PolicyName="wsapp-dev-websocket")
    assert document["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["execute-api:ManageConnections"],
            "Resource": f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/api/*/@connections/*",
        }
    ]
    assert any(
        line.strip().startswith("WebSocket URL:")
        and f"wss://{api_id}.execute-api.us-east-1.amazonaws.com/api" in line
        for line in lines
    ), lines


def test_redeploy_without_changes_touches_nothing_and_a_removed_handler_loses_its_route(
    copy_app: Callable[[str], Path], counted_session: Session
) -> None:
    project = copy_app("websocket")
    record = deploy(project, "dev")
    api_id = record.resources["websocket_api"].attrs["api_id"]
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert log.mutating == []
    app_py = project / "app.py"
    source = app_py.read_text()
    start = source.index("@app.on_ws_disconnect()")
    app_py.write_text(source[:start])
    deploy(project, "dev")
    assert set(_routes(api_id)) == {"$connect", "$default"}


def test_delete_removes_the_api_and_the_policy(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("websocket")
    record = deploy(project, "dev")
    api_id = record.resources["websocket_api"].attrs["api_id"]
    delete(project, "dev")
    apis = client("apigatewayv2").get_apis()["Items"]
    assert api_id not in [a["ApiId"] for a in apis]
    with pytest.raises(client("iam").exceptions.NoSuchEntityException):
        client("iam").get_role_policy(RoleName="wsapp-dev", PolicyName="wsapp-dev-websocket")
