"""Executor handlers for the WebSocket API (API Gateway v2, protocol WEBSOCKET).

    create  CreateApi -> per route: CreateIntegration (Lambda proxy) + CreateRoute,
            a Lambda permission -> CreateStage (AutoDeploy) -> the role's
            ManageConnections policy
    update  only the changed parts: routes (added, removed, retargeted), the stage
            (renamed: the old one is deleted), the policy (a new role)
    delete  permissions, the policy, DeleteApi

The functions' role may manage this API stage's connections and nothing else: an
inline policy of its own (`<role>-websocket`) with `execute-api:ManageConnections` on
`arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/*/@connections/*`, put after
the API exists (the role's main policy is written before any API id is known).
"""

from __future__ import annotations

import json
from typing import Any

from lambic.deploy._handlers import StepContext, add_permission, ignore_missing, remove_permission
from lambic.deploy.aws import statement_id
from lambic.deploy.planner import WebsocketApiSpec

__all__ = [
    "create_websocket_api",
    "delete_websocket_api",
    "update_websocket_api",
    "websocket_policy_name",
]


def _source_arn(ctx: StepContext, api_id: str) -> str:
    return f"arn:aws:execute-api:{ctx.aws.region}:{ctx.aws.account_id}:{api_id}/*"


def websocket_policy_name(role_name: str) -> str:
    """The inline policy (on the functions' role) that lets them manage connections."""
    return f"{role_name}-websocket"


def manage_connections_policy(region: str, account_id: str, api_id: str, stage: str) -> str:
    """The role's policy: ManageConnections on one API stage's connections."""
    resource = f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/*/@connections/*"
    statement = {
        "Effect": "Allow",
        "Action": ["execute-api:ManageConnections"],
        "Resource": resource,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def create_websocket_api(
    ctx: StepContext, spec: WebsocketApiSpec, parts: dict[str, str]
) -> dict[str, Any]:
    client = ctx.aws.client("apigatewayv2")
    api_id = client.create_api(
        Name=spec.name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    attrs: dict[str, Any] = {
        "api_id": api_id,
        "name": spec.name,
        "stage_name": None,
        "routes": {},
        "role_name": None,
    }
    ctx.checkpoint(attrs, {name: "" for name in parts})
    return update_websocket_api(ctx, spec, attrs, frozenset(parts))


def update_websocket_api(
    ctx: StepContext, spec: WebsocketApiSpec, attrs: dict[str, Any], changed: frozenset[str]
) -> dict[str, Any]:
    client = ctx.aws.client("apigatewayv2")
    api_id = attrs["api_id"]
    if "routes" in changed:
        attrs = {**attrs, "routes": _update_routes(ctx, client, spec, attrs)}
    if "stage" in changed and attrs.get("stage_name") != spec.stage_name:
        old = attrs.get("stage_name")
        if old is not None:
            ignore_missing(lambda: client.delete_stage(ApiId=api_id, StageName=old))
        # Deployed automatically on every route change, so no CreateDeployment calls.
        client.create_stage(ApiId=api_id, StageName=spec.stage_name, AutoDeploy=True)
        attrs = {**attrs, "stage_name": spec.stage_name}
    if changed & {"policy", "stage"}:
        iam = ctx.aws.client("iam")
        old_role = attrs.get("role_name")
        if old_role and old_role != spec.role_name:
            ignore_missing(
                lambda: iam.delete_role_policy(
                    RoleName=old_role, PolicyName=websocket_policy_name(old_role)
                )
            )
        if spec.role_name:
            iam.put_role_policy(
                RoleName=spec.role_name,
                PolicyName=websocket_policy_name(spec.role_name),
                PolicyDocument=manage_connections_policy(
                    ctx.aws.region, ctx.aws.account_id, api_id, spec.stage_name
                ),
            )
        attrs = {**attrs, "role_name": spec.role_name}
    return {**attrs, "name": spec.name}


def _update_routes(
    ctx: StepContext, client: Any, spec: WebsocketApiSpec, attrs: dict[str, Any]
) -> dict[str, dict[str, str]]:
    api_id = attrs["api_id"]
    source = _source_arn(ctx, api_id)
    sid = statement_id("apigateway", source)
    routes: dict[str, dict[str, str]] = {k: dict(v) for k, v in attrs["routes"].items()}
    wanted = {key for key, _, _ in spec.routes}
    for key in sorted(set(routes) - wanted):
        gone = routes.pop(key)
        ignore_missing(lambda: client.delete_route(ApiId=api_id, RouteId=gone["route_id"]))  # noqa: B023
        ignore_missing(
            lambda: client.delete_integration(ApiId=api_id, IntegrationId=gone["integration_id"])  # noqa: B023
        )
        if gone["function_name"] not in {name for _, name, _ in spec.routes}:
            remove_permission(ctx, gone["function_name"], sid)
    for key, function_name, function_arn in spec.routes:
        uri = (
            f"arn:aws:apigateway:{ctx.aws.region}:lambda:path/2015-03-31/functions/"
            f"{function_arn}/invocations"
        )
        current = routes.get(key)
        if current is None:
            integration = client.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri
            )["IntegrationId"]
            route = client.create_route(
                ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}"
            )["RouteId"]
            current = {"route_id": route, "integration_id": integration}
        elif current["function_name"] != function_name:
            client.update_integration(
                ApiId=api_id, IntegrationId=current["integration_id"], IntegrationUri=uri
            )
        add_permission(ctx, function_name, sid, "apigateway.amazonaws.com", source)
        routes[key] = {**current, "function_name": function_name}
    return routes


def delete_websocket_api(ctx: StepContext, attrs: dict[str, Any]) -> None:
    sid = statement_id("apigateway", _source_arn(ctx, attrs["api_id"]))
    for route in attrs.get("routes", {}).values():
        remove_permission(ctx, route["function_name"], sid)
    role = attrs.get("role_name")
    if role:
        iam = ctx.aws.client("iam")
        ignore_missing(
            lambda: iam.delete_role_policy(RoleName=role, PolicyName=websocket_policy_name(role))
        )
    client = ctx.aws.client("apigatewayv2")
    ignore_missing(lambda: client.delete_api(ApiId=attrs["api_id"]))
