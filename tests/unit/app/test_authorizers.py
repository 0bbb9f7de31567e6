from __future__ import annotations

from typing import Any

import chalice.app
import pytest

import lambic.app
from lambic.app import (
    AuthResponse,
    AuthRoute,
    CognitoUserPoolAuthorizer,
    CustomAuthorizer,
    IAMAuthorizer,
    Lambic,
)

TOKEN_EVENT = {
    "type": "TOKEN",
    "authorizationToken": "allow",
    "methodArn": "arn:aws:execute-api:us-west-2:123456789012:abcdef/api/GET/users/1",
}


def _policy(module: Any) -> Any:
    app = module.Chalice("auth", configure_logs=False)

    @app.authorizer(ttl_seconds=30, header="X-Token")
    def auth(request: Any) -> Any:
        if request.token != "allow":
            return module.AuthResponse(routes=[], principal_id="nobody")
        return module.AuthResponse(
            routes=["/users/*", module.AuthRoute("/orders", ["GET", "POST"]), "*"],
            principal_id="user-1",
            context={"tier": "gold"},
        )

    return app, auth


def test_builtin_authorizer_builds_the_same_policy_as_chalice() -> None:
    _, ours = _policy(lambic.app)
    _, theirs = _policy(chalice.app)
    assert ours(dict(TOKEN_EVENT), None) == theirs(dict(TOKEN_EVENT), None)
    result = ours(dict(TOKEN_EVENT), None)
    assert result["principalId"] == "user-1"
    assert result["context"] == {"tier": "gold"}
    assert result["policyDocument"]["Statement"][0]["Resource"] == [
        "arn:aws:execute-api:us-west-2:123456789012:abcdef/api/*/users/*",
        "arn:aws:execute-api:us-west-2:123456789012:abcdef/api/GET/orders",
        "arn:aws:execute-api:us-west-2:123456789012:abcdef/api/POST/orders",
        "arn:aws:execute-api:us-west-2:123456789012:abcdef/api/*/*",
    ]


def test_authorizer_is_registered_with_its_settings() -> None:
    app, auth = _policy(lambic.app)
    assert isinstance(app, Lambic)
    config = app.builtin_auth_handlers[0]
    assert (config.name, config.handler_string, config.ttl_seconds, config.header) == (
        "auth",
        "app.auth",
        30,
        "X-Token",
    )
    assert auth.config is config
    assert app.handler_map["auth"] is auth

    @app.route("/users/{id}", authorizer=auth)
    def user(id: str) -> dict[str, str]:
        return {}

    assert app.routes["/users/{id}"]["GET"].authorizer_name == "auth"


def test_declared_authorizers_render_api_gateway_definitions() -> None:
    assert IAMAuthorizer().to_swagger()["x-amazon-apigateway-authtype"] == "awsSigv4"
    cognito = CognitoUserPoolAuthorizer("pool", provider_arns=["arn:aws:cognito-idp:x"])
    assert cognito.to_swagger()["x-amazon-apigateway-authorizer"]["providerARNs"] == [
        "arn:aws:cognito-idp:x"
    ]
    assert cognito.with_scopes(["a"]).scopes == ["a"]
    custom = CustomAuthorizer("c", authorizer_uri="arn:uri", invoke_role_arn="arn:role")
    swagger = custom.to_swagger()["x-amazon-apigateway-authorizer"]
    assert swagger == {
        "type": "token",
        "authorizerUri": "arn:uri",
        "authorizerResultTtlInSeconds": 300,
        "authorizerCredentials": "arn:role",
    }
    with pytest.raises(TypeError, match="list of ARNs"):
        CognitoUserPoolAuthorizer("pool", provider_arns="arn")  # type: ignore[arg-type]


def test_auth_response_without_routes_allows_nothing() -> None:
    request = lambic.app.AuthRequest("TOKEN", "t", TOKEN_EVENT["methodArn"])
    policy = AuthResponse(routes=[], principal_id="x").to_dict(request)
    assert policy["policyDocument"]["Statement"][0]["Resource"] == []
    assert AuthRoute("/a", ["GET"]).methods == ["GET"]


URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:1:function:app-dev-check/invocations"
)


@pytest.mark.parametrize("module", [lambic.app, chalice.app], ids=["lambic", "chalice"])
def test_lambics_and_chalices_authorizers_are_described_alike(module: Any) -> None:
    from lambic.app.authorizers import describe_authorizer

    app = module.Chalice("app")

    @app.authorizer(ttl_seconds=60, header="X-Token")
    def check(auth_request: Any) -> Any:
        return None

    assert describe_authorizer(check) == {
        "kind": "builtin",
        "name": "check",
        "function": "check",
        "header": "X-Token",
        "ttl_seconds": 60,
        "scopes": [],
    }
    custom = module.CustomAuthorizer("c", authorizer_uri=URI, ttl_seconds=5, header="X-Key")
    assert describe_authorizer(custom) == {
        "kind": "custom",
        "name": "c",
        "type": "token",
        "authorizer_uri": URI,
        "header": "X-Key",
        "ttl_seconds": 5,
        "identity_sources": [],
        "scopes": [],
    }
    pool = module.CognitoUserPoolAuthorizer("p", provider_arns=["arn:pool"], header="X-Id")
    assert describe_authorizer(pool) == {
        "kind": "cognito",
        "name": "p",
        "provider_arns": ["arn:pool"],
        "header": "X-Id",
        "scopes": [],
    }
    assert describe_authorizer(module.IAMAuthorizer())["kind"] == "iam"


def test_a_request_authorizer_is_declared_to_api_gateway_and_described_as_one() -> None:
    from lambic.app.authorizers import describe_authorizer

    sources = ["method.request.header.X-User", "method.request.querystring.tenant"]
    gate = CustomAuthorizer("gate", authorizer_uri=URI, identity_sources=sources)
    settings = gate.to_swagger()["x-amazon-apigateway-authorizer"]
    assert (settings["type"], settings["identitySource"]) == (
        "request",
        "method.request.header.X-User, method.request.querystring.tenant",
    )
    described = describe_authorizer(gate)
    assert (described["type"], described["identity_sources"]) == ("request", sources)
