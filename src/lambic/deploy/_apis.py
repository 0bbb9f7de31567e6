"""Executor handlers for the HTTP front: a REST API (OpenAPI import) or an HTTP API.

A REST API is created with `ImportRestApi`, replaced with `PutRestApi(mode=overwrite)`
when its definition changes, and published with a new deployment of the stage.
API Gateway may invoke the API function and the built-in authorizers: one Lambda
permission each, scoped to the API's execute-api ARN.
"""

from __future__ import annotations

from typing import Any

from lambic.deploy._handlers import StepContext, add_permission, ignore_missing, remove_permission
from lambic.deploy.aws import statement_id
from lambic.deploy.planner import HttpApiSpec, RestApiSpec


def _source_arn(ctx: StepContext, api_id: str) -> str:
    return f"arn:aws:execute-api:{ctx.aws.region}:{ctx.aws.account_id}:{api_id}/*"


def rest_url(region: str, api_id: str, stage: str) -> str:
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/"


def create_rest_api(ctx: StepContext, spec: RestApiSpec, parts: dict[str, str]) -> dict[str, Any]:
    client = ctx.aws.client("apigateway")
    created = client.import_rest_api(
        body=spec.body.encode(),
        parameters={"endpointConfigurationTypes": spec.endpoint_type},
        failOnWarnings=False,
    )
    api_id = created["id"]
    # The name is recorded only so progress lines can show it next to the id.
    attrs: dict[str, Any] = {
        "api_id": api_id,
        "name": spec.name,
        "stage_name": spec.stage_name,
        "invokers": [],
    }
    ctx.checkpoint(attrs, {"definition": "", "permissions": ""})
    client.create_deployment(restApiId=api_id, stageName=spec.stage_name)
    ctx.checkpoint(attrs, {**parts, "permissions": ""})
    return update_rest_api(ctx, spec, attrs, frozenset({"permissions"}))


def update_rest_api(
    ctx: StepContext, spec: RestApiSpec, attrs: dict[str, Any], changed: frozenset[str]
) -> dict[str, Any]:
    client = ctx.aws.client("apigateway")
    api_id = attrs["api_id"]
    if "definition" in changed:
        client.put_rest_api(restApiId=api_id, mode="overwrite", body=spec.body.encode())
        client.create_deployment(restApiId=api_id, stageName=spec.stage_name)
        if attrs.get("stage_name") not in (None, spec.stage_name):
            # api_gateway_stage was renamed: the old stage would keep serving old code.
            old = attrs["stage_name"]
            ignore_missing(lambda: client.delete_stage(restApiId=api_id, stageName=old))
        attrs = {**attrs, "stage_name": spec.stage_name}
    if "permissions" in changed:
        source = _source_arn(ctx, api_id)
        sid = statement_id("apigateway", source)
        for name in sorted(set(attrs["invokers"]) - set(spec.invokers)):
            remove_permission(ctx, name, sid)
        for name in spec.invokers:
            add_permission(ctx, name, sid, "apigateway.amazonaws.com", source)
        attrs = {**attrs, "invokers": list(spec.invokers)}
    return {**attrs, "name": spec.name}


def delete_rest_api(ctx: StepContext, attrs: dict[str, Any]) -> None:
    sid = statement_id("apigateway", _source_arn(ctx, attrs["api_id"]))
    for name in attrs.get("invokers", []):
        remove_permission(ctx, name, sid)
    client = ctx.aws.client("apigateway")
    ignore_missing(lambda: client.delete_rest_api(restApiId=attrs["api_id"]))


def create_http_api(ctx: StepContext, spec: HttpApiSpec, parts: dict[str, str]) -> dict[str, Any]:
    client = ctx.aws.client("apigatewayv2")
    api_id = client.create_api(Name=spec.name, ProtocolType="HTTP")["ApiId"]
    attrs: dict[str, Any] = {
        "api_id": api_id,
        "name": spec.name,
        "routes": {},
        "function_name": spec.function_name,
    }
    ctx.checkpoint(attrs, {"routes": "", "target": ""})
    return update_http_api(ctx, spec, attrs, frozenset({"routes", "target"}))


def _finish_http_api(ctx: StepContext, spec: HttpApiSpec, attrs: dict[str, Any]) -> dict[str, Any]:
    """The integration and the stage, each recorded once made (a resumed create makes
    only what is missing)."""
    client = ctx.aws.client("apigatewayv2")
    api_id = attrs["api_id"]
    # Records from before "stage" was kept made the stage with the integration.
    stage_made = attrs.get("stage", "integration_id" in attrs)
    if "integration_id" not in attrs:
        integration = client.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=spec.function_arn,
            PayloadFormatVersion="2.0",
        )["IntegrationId"]
        attrs = {**attrs, "integration_id": integration}
        ctx.checkpoint(attrs, {"routes": "", "target": ""})
    if not stage_made:
        # `$default` serves every path at the root of the URL, with automatic deployments.
        client.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
        attrs = {**attrs, "stage": True}
        ctx.checkpoint(attrs, {"routes": "", "target": ""})
    return attrs


def update_http_api(
    ctx: StepContext, spec: HttpApiSpec, attrs: dict[str, Any], changed: frozenset[str]
) -> dict[str, Any]:
    client = ctx.aws.client("apigatewayv2")
    api_id = attrs["api_id"]
    fresh = "integration_id" not in attrs
    attrs = _finish_http_api(ctx, spec, attrs)
    if "target" in changed:
        if not fresh:
            client.update_integration(
                ApiId=api_id,
                IntegrationId=attrs["integration_id"],
                IntegrationUri=spec.function_arn,
            )
        source = _source_arn(ctx, api_id)
        sid = statement_id("apigateway", source)
        if attrs["function_name"] != spec.function_name:
            remove_permission(ctx, attrs["function_name"], sid)
        add_permission(ctx, spec.function_name, sid, "apigateway.amazonaws.com", source)
        attrs = {**attrs, "function_name": spec.function_name}
    routes: dict[str, str] = dict(attrs["routes"])
    if "routes" in changed:
        for key in sorted(set(routes) - set(spec.routes)):
            route_id = routes.pop(key)
            ignore_missing(lambda: client.delete_route(ApiId=api_id, RouteId=route_id))  # noqa: B023
        for key in spec.routes:
            if key not in routes:
                routes[key] = client.create_route(
                    ApiId=api_id, RouteKey=key, Target=f"integrations/{attrs['integration_id']}"
                )["RouteId"]
                # Each route recorded as made: a resumed deploy does not make it twice.
                ctx.checkpoint({**attrs, "routes": dict(routes)}, {"routes": "", "target": ""})
    return {**attrs, "name": spec.name, "routes": routes}


def delete_http_api(ctx: StepContext, attrs: dict[str, Any]) -> None:
    source = _source_arn(ctx, attrs["api_id"])
    remove_permission(ctx, attrs["function_name"], statement_id("apigateway", source))
    client = ctx.aws.client("apigatewayv2")
    ignore_missing(lambda: client.delete_api(ApiId=attrs["api_id"]))


def http_url(region: str, api_id: str) -> str:
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/"
