"""The REST API's OpenAPI 3.0 body, as API Gateway imports it.

(API Gateway imports Swagger 2.0 too; OpenAPI 3 is what both AWS and moto accept.)

Every route becomes a method with an `aws_proxy` integration to the API function
(API Gateway always calls Lambda with POST, whatever the client's method), a path
with CORS gets a mock-integrated OPTIONS method answering the preflight, authorizers
go into `components.securitySchemes` with API Gateway's `x-amazon-apigateway-authtype`
extensions, and API keys use `x-amazon-apigateway-api-key-source: HEADER`.

Lambda ARNs are unknown here: integration and authorizer URIs are left as
`{"Lambic::FunctionUri": "<short name>"}` markers for the emitter to fill in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambic.project.config import API_FUNCTION, StageConfig

URI_MARKER = "Lambic::FunctionUri"
_API_KEY = "api_key"
_EMPTY_RESPONSE: dict[str, Any] = {
    "description": "200 response",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Empty"}}},
}


def function_uri(short_name: str) -> dict[str, str]:
    """The placeholder for the invocation URI of function `short_name`."""
    return {URI_MARKER: short_name}


def build_openapi(app: Any, config: StageConfig) -> tuple[dict[str, Any], list[str]]:
    """Return (OpenAPI 3 document, short names of built-in authorizer functions it calls)."""
    doc: dict[str, Any] = {
        "openapi": "3.0.1",
        # ("description" is optional for AWS; moto's importer requires it.)
        "info": {
            "version": "1.0",
            "title": config.app_name,
            "description": f"{config.app_name} ({config.stage}), a Lambic app",
        },
        "paths": {},
        "components": {"schemas": {"Empty": {"type": "object", "title": "Empty Schema"}}},
        "x-amazon-apigateway-binary-media-types": list(app.api.binary_types),
    }
    if config.minimum_compression_size is not None:
        doc["x-amazon-apigateway-minimum-compression-size"] = config.minimum_compression_size
    authorizers: list[str] = []
    for path in sorted(app.routes):
        methods = app.routes[path]
        item: dict[str, Any] = {}
        for method in sorted(methods):
            entry = methods[method]
            item[_method_key(method)] = _operation(entry, doc, authorizers)
        with_cors = [m for m in sorted(methods) if methods[m].cors is not None]
        if with_cors and "OPTIONS" not in methods:
            item["options"] = _preflight(app, path, methods[with_cors[0]].cors, with_cors)
        doc["paths"][path] = item
    return doc, sorted(set(authorizers))


def _operation(entry: Any, doc: dict[str, Any], authorizers: list[str]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "responses": {"200": _EMPTY_RESPONSE},
        "x-amazon-apigateway-integration": {
            "type": "aws_proxy",
            # API Gateway invokes Lambda with POST for every client method.
            "httpMethod": "POST",
            "uri": function_uri(API_FUNCTION),
            "passthroughBehavior": "when_no_match",
            "contentHandling": "CONVERT_TO_TEXT",
            "responses": {"default": {"statusCode": "200"}},
        },
    }
    if entry.view_args:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in entry.view_args
        ]
    security: list[dict[str, list[str]]] = []
    if entry.api_key_required:
        doc["x-amazon-apigateway-api-key-source"] = "HEADER"
        _schemes(doc)[_API_KEY] = {
            "type": "apiKey",
            "name": "x-api-key",
            "in": "header",
        }
        security.append({_API_KEY: []})
    authorizer = entry.authorizer
    if authorizer is not None:
        _schemes(doc)[authorizer.name] = _security_definition(authorizer, authorizers)
        security.append({authorizer.name: list(getattr(authorizer, "scopes", []) or [])})
    if security:
        operation["security"] = security
    return operation


def _schemes(doc: dict[str, Any]) -> dict[str, Any]:
    schemes: dict[str, Any] = doc["components"].setdefault("securitySchemes", {})
    return schemes


def _security_definition(authorizer: Any, authorizers: list[str]) -> dict[str, Any]:
    config = getattr(authorizer, "config", None)
    if config is None:
        # IAM, Cognito user pool and custom (external Lambda) authorizers describe
        # themselves, as Chalice's do.
        definition: dict[str, Any] = authorizer.to_swagger()
        return definition
    # A built-in authorizer is one of this app's own functions (a TOKEN authorizer).
    authorizers.append(config.name)
    spec: dict[str, Any] = {"type": "token", "authorizerUri": function_uri(config.name)}
    if getattr(config, "ttl_seconds", None) is not None:
        spec["authorizerResultTtlInSeconds"] = config.ttl_seconds
    if getattr(config, "execution_role", None) is not None:
        spec["authorizerCredentials"] = config.execution_role
    return {
        "in": "header",
        "type": "apiKey",
        "name": getattr(config, "header", None) or "Authorization",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": spec,
    }


def _method_key(method: str) -> str:
    # API Gateway spells a catch-all method with its own OpenAPI extension.
    return "x-amazon-apigateway-any-method" if method == "ANY" else method.lower()


def _preflight(app: Any, path: str, cors: Any, methods: list[str]) -> dict[str, Any]:
    if hasattr(app, "preflight_response"):
        # The same headers the local gateway answers a preflight with.
        headers: dict[str, str] = dict(app.preflight_response(path)["headers"])
    else:
        headers = {"Access-Control-Allow-Methods": ",".join([*methods, "OPTIONS"])}
        headers.update(_cors_headers(cors))
    return {
        "responses": {
            "200": {
                **_EMPTY_RESPONSE,
                "headers": {name: {"schema": {"type": "string"}} for name in sorted(headers)},
            }
        },
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "passthroughBehavior": "when_no_match",
            "contentHandling": "CONVERT_TO_TEXT",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {
                "default": {
                    "statusCode": "200",
                    # Static header values are single-quoted in API Gateway mappings.
                    "responseParameters": {
                        f"method.response.header.{name}": f"'{value}'"
                        for name, value in sorted(headers.items())
                    },
                }
            },
        },
    }


def _cors_headers(cors: Any) -> dict[str, str]:
    if cors is True:
        return {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": ",".join(
                sorted(
                    [
                        "Authorization",
                        "Content-Type",
                        "X-Amz-Date",
                        "X-Amz-Security-Token",
                        "X-Api-Key",
                    ]
                )
            ),
        }
    headers: dict[str, str] = dict(cors.get_access_control_headers())
    return headers


def substitute_uris(value: Any, replace: Callable[[str], Any]) -> Any:
    """Copy of `value` with every FunctionUri marker replaced by `replace(short_name)`."""
    if isinstance(value, dict):
        if set(value) == {URI_MARKER}:
            return replace(value[URI_MARKER])
        return {key: substitute_uris(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_uris(item, replace) for item in value]
    return value
