"""Authorizers: built-in Lambda authorizers and declarations of API Gateway ones.

A built-in authorizer is a function in the app that API Gateway calls with the
request's token before the view; it answers with an `AuthResponse` naming the routes
the caller may use, which becomes an IAM policy:

    @app.authorizer(ttl_seconds=300)
    def auth(auth_request):
        if auth_request.token == "allow":
            return AuthResponse(routes=["/items", AuthRoute("/users/*", ["GET"])],
                                principal_id="user-1", context={"tier": "gold"})
        return AuthResponse(routes=[], principal_id="anonymous")

    @app.route("/items", authorizer=auth)

`IAMAuthorizer`, `CognitoUserPoolAuthorizer` and `CustomAuthorizer` only declare an
authorizer for the deployer (API Gateway evaluates them).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

__all__ = [
    "AuthRequest",
    "AuthResponse",
    "AuthRoute",
    "Authorizer",
    "BuiltinAuthConfig",
    "ChaliceAuthorizer",
    "CognitoUserPoolAuthorizer",
    "CustomAuthorizer",
    "IAMAuthorizer",
    "describe_authorizer",
]


class Authorizer:
    """Base of every authorizer a route can name."""

    name: str = ""
    scopes: list[str] = []

    def to_swagger(self) -> dict[str, Any]:
        raise NotImplementedError("to_swagger")

    def with_scopes(self, scopes: list[str]) -> Authorizer:
        raise NotImplementedError("with_scopes")


class IAMAuthorizer(Authorizer):
    """Requests must be SigV4-signed by an IAM principal allowed to invoke the API."""

    _AUTH_TYPE = "aws_iam"

    def __init__(self) -> None:
        self.name = "sigv4"
        self.scopes = []

    def to_swagger(self) -> dict[str, Any]:
        return {
            "in": "header",
            "type": "apiKey",
            "name": "Authorization",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }


class CognitoUserPoolAuthorizer(Authorizer):
    """A Cognito user pool checks the token in `header`."""

    _AUTH_TYPE = "cognito_user_pools"

    def __init__(
        self,
        name: str,
        provider_arns: list[str],
        header: str = "Authorization",
        scopes: list[str] | None = None,
    ) -> None:
        if not isinstance(provider_arns, list):
            raise TypeError(
                f"provider_arns should be a list of ARNs, received: {provider_arns}; "
                "pass [arn] even for a single user pool"
            )
        self.name = name
        self.header = header
        self.provider_arns = provider_arns
        self.scopes = scopes or []

    def to_swagger(self) -> dict[str, Any]:
        return {
            "in": "header",
            "type": "apiKey",
            "name": self.header,
            "x-amazon-apigateway-authtype": self._AUTH_TYPE,
            "x-amazon-apigateway-authorizer": {
                "type": self._AUTH_TYPE,
                "providerARNs": self.provider_arns,
            },
        }

    def with_scopes(self, scopes: list[str]) -> Authorizer:
        scoped = copy.deepcopy(self)
        scoped.scopes = scopes
        return scoped


class CustomAuthorizer(Authorizer):
    """A Lambda authorizer named by its invocation URI: TOKEN (the `header`'s value), or
    REQUEST when `identity_sources` are given (a Lambic keyword; in Chalice, a subclass
    whose `to_swagger()` says `"type": "request"` is the same authorizer), e.g.
    `identity_sources=["method.request.header.X-User", "method.request.querystring.key"]`.
    """

    _AUTH_TYPE = "custom"

    def __init__(
        self,
        name: str,
        authorizer_uri: str,
        ttl_seconds: int = 300,
        header: str = "Authorization",
        invoke_role_arn: str | None = None,
        scopes: list[str] | None = None,
        *,
        identity_sources: list[str] | None = None,
    ) -> None:
        self.name = name
        self.header = header
        self.authorizer_uri = authorizer_uri
        self.ttl_seconds = ttl_seconds
        self.invoke_role_arn = invoke_role_arn
        self.scopes = scopes or []
        self.identity_sources = identity_sources

    def to_swagger(self) -> dict[str, Any]:
        authorizer: dict[str, Any] = {
            "type": "token" if self.identity_sources is None else "request",
            "authorizerUri": self.authorizer_uri,
            "authorizerResultTtlInSeconds": self.ttl_seconds,
        }
        if self.identity_sources is not None:
            authorizer["identitySource"] = ", ".join(self.identity_sources)
        if self.invoke_role_arn is not None:
            authorizer["authorizerCredentials"] = self.invoke_role_arn
        return {
            "in": "header",
            "type": "apiKey",
            "name": self.header,
            "x-amazon-apigateway-authtype": self._AUTH_TYPE,
            "x-amazon-apigateway-authorizer": authorizer,
        }

    def with_scopes(self, scopes: list[str]) -> Authorizer:
        scoped = copy.deepcopy(self)
        scoped.scopes = scopes
        return scoped


class BuiltinAuthConfig:
    """Registry record of an `@app.authorizer()` function (for runtime and deployer)."""

    def __init__(
        self,
        name: str,
        handler_string: str,
        ttl_seconds: int | None = None,
        execution_role: str | None = None,
        header: str = "Authorization",
    ) -> None:
        self.name = name
        self.handler_string = handler_string
        self.ttl_seconds = ttl_seconds
        self.execution_role = execution_role
        self.header = header

    def __repr__(self) -> str:
        return f"BuiltinAuthConfig(name={self.name!r}, handler_string={self.handler_string!r})"


class AuthRequest:
    """What a built-in authorizer receives: the TOKEN event's type, token and method ARN."""

    def __init__(self, auth_type: str, token: str, method_arn: str) -> None:
        self.auth_type = auth_type
        self.token = token
        self.method_arn = method_arn


class AuthRoute:
    """A path (may contain '*') and the methods an AuthResponse allows on it."""

    def __init__(self, path: str, methods: list[str]) -> None:
        self.path = path
        self.methods = methods


class AuthResponse:
    """An authorizer's answer: allowed routes, the principal, and a context dict."""

    ALL_HTTP_METHODS = ["DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "GET"]

    def __init__(
        self,
        routes: list[str | AuthRoute],
        principal_id: str,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.routes = routes
        self.principal_id = principal_id
        self.context: dict[str, Any] = {} if context is None else context

    def to_dict(self, request: AuthRequest) -> dict[str, Any]:
        """The authorizer output API Gateway expects (principal, IAM policy, context)."""
        return {
            "context": self.context,
            "principalId": self.principal_id,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": self._allowed_resources(request),
                    }
                ],
            },
        }

    def _allowed_resources(self, request: AuthRequest) -> list[str]:
        resources: list[str] = []
        for route in self.routes:
            if isinstance(route, AuthRoute):
                methods, path = route.methods, route.path
            else:
                # A bare string allows every method; "*" allows every path too.
                methods, path = ["*"], route
            resources.extend(_method_arn(request.method_arn, path, m) for m in methods)
        return resources


def _method_arn(incoming_arn: str, route: str, method: str) -> str:
    # The incoming ARN is arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<VERB>/<path>;
    # keep api-id and stage, then put the allowed verb and path.
    arn_parts = incoming_arn.split(":", 5)
    resource = arn_parts[-1].split("/")[:2]
    resource.extend([method, route[1:]])
    last = "/".join(resource)
    if route == "*":
        last += route
    arn_parts[-1] = last
    return ":".join(arn_parts)


class ChaliceAuthorizer:
    """The Lambda handler an `@app.authorizer()` function becomes.

    Called with API Gateway's TOKEN authorizer event; returns the policy output.
    """

    def __init__(
        self,
        name: str,
        func: Callable[[AuthRequest], Any],
        scopes: list[str] | None = None,
    ) -> None:
        self.name = name
        self.func = func
        self.scopes: list[str] = scopes or []
        self.config: BuiltinAuthConfig | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        auth_request = AuthRequest(event["type"], event["authorizationToken"], event["methodArn"])
        result = self.func(auth_request)
        if isinstance(result, AuthResponse):
            return result.to_dict(auth_request)
        return result

    def with_scopes(self, scopes: list[str]) -> ChaliceAuthorizer:
        scoped = copy.copy(self)
        scoped.scopes = scopes
        return scoped


def describe_authorizer(authorizer: Any) -> dict[str, Any]:
    """A route's authorizer as plain data, for whatever enforces it outside the app.

    `kind` is "builtin" (`@app.authorizer()`; `function` is its name in the app),
    "custom" (`type` "token" or "request", with its `identity_sources`), "cognito",
    "iam", or "unknown" for a class Lambic does not know.

    Read through the public API both Lambic's and Chalice's classes have: a built-in
    authorizer's `config`, every other one's `to_swagger()` (what the deployer sends
    API Gateway), so a `from chalice import CustomAuthorizer` app, or a subclass whose
    `to_swagger()` declares a REQUEST authorizer, is described as it deploys.

        >>> describe_authorizer(IAMAuthorizer())
        {'kind': 'iam', 'name': 'sigv4', 'scopes': []}
    """
    scopes = list(getattr(authorizer, "scopes", None) or [])
    name = str(getattr(authorizer, "name", ""))
    config = getattr(authorizer, "config", None)
    if isinstance(authorizer, ChaliceAuthorizer) or hasattr(config, "handler_string"):
        return {
            "kind": "builtin",
            "name": name,
            "function": config.name if config is not None else name,
            "header": config.header if config is not None else "Authorization",
            "ttl_seconds": config.ttl_seconds if config is not None else None,
            "scopes": scopes,
        }
    try:
        swagger = authorizer.to_swagger()
    except Exception:  # not an authorizer API Gateway would take
        swagger = None
    if not isinstance(swagger, dict):
        return {"kind": "unknown", "name": name, "type": type(authorizer).__name__}
    auth_type = swagger.get("x-amazon-apigateway-authtype")
    settings = swagger.get("x-amazon-apigateway-authorizer") or {}
    header = str(swagger.get("name") or "Authorization")
    if auth_type == "awsSigv4":
        return {"kind": "iam", "name": name, "scopes": scopes}
    if auth_type == "cognito_user_pools":
        return {
            "kind": "cognito",
            "name": name,
            "provider_arns": list(settings.get("providerARNs") or []),
            "header": header,
            "scopes": scopes,
        }
    if auth_type == "custom":
        sources = settings.get("identitySource")
        return {
            "kind": "custom",
            "name": name,
            "type": str(settings.get("type") or "token").lower(),
            "authorizer_uri": str(settings.get("authorizerUri") or ""),
            "header": header,
            "ttl_seconds": settings.get("authorizerResultTtlInSeconds", 300),
            "identity_sources": (
                [part.strip() for part in sources.split(",")] if isinstance(sources, str) else []
            ),
            "scopes": scopes,
        }
    return {"kind": "unknown", "name": name, "type": type(authorizer).__name__}
