"""Route authorizers made into specs; what cannot run locally is refused clearly."""

from __future__ import annotations

import pytest

from lambic.app.authorizers import (
    CognitoUserPoolAuthorizer,
    CustomAuthorizer,
    IAMAuthorizer,
    describe_authorizer,
)
from lambic.runtime.authorization import AuthorizerConfigError, AuthorizerSpec
from lambic.runtime.authorization.specs import create_authorizer_spec

FUNCTIONS = {"check": "check", "shop-dev-check": "check"}
URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:{}/invocations"
)


def spec_of(authorizer: object) -> AuthorizerSpec:
    return create_authorizer_spec("GET /x", describe_authorizer(authorizer), FUNCTIONS)


def test_builtin_authorizers_run_their_function_with_their_ttl() -> None:
    from lambic import Lambic

    app = Lambic("shop")

    @app.authorizer(ttl_seconds=0, header="X-Key", name="guard")
    def check(request: object) -> None: ...

    spec = spec_of(check)
    assert spec == AuthorizerSpec("guard", "token", "X-Key", "guard", ttl_seconds=0)


def test_builtin_ttl_defaults_to_api_gateways_300_seconds() -> None:
    from lambic import Lambic

    app = Lambic("shop")

    @app.authorizer()
    def check(request: object) -> None: ...

    assert spec_of(check).ttl_seconds == 300


@pytest.mark.parametrize("target", ["shop-dev-check", "check", "shop-dev-check:live"])
def test_custom_authorizer_on_an_app_function_runs_it(target: str) -> None:
    spec = spec_of(CustomAuthorizer("c", URI.format(target), ttl_seconds=60, header="X-T"))
    assert spec == AuthorizerSpec("c", "token", "X-T", "check", ttl_seconds=60)


def test_custom_authorizer_elsewhere_is_refused_saying_what_to_do() -> None:
    with pytest.raises(AuthorizerConfigError) as caught:
        spec_of(CustomAuthorizer("c", URI.format("other-account-auth")))
    message = str(caught.value)
    assert "GET /x" in message and "'other-account-auth'" in message
    assert "@app.authorizer()" in message


def test_cognito_and_iam_specs_keep_pools_and_scopes() -> None:
    pool = "arn:aws:cognito-idp:us-east-1:1:userpool/us-east-1_a"
    cognito = spec_of(CognitoUserPoolAuthorizer("p", [pool]).with_scopes(["s/read"]))
    assert (cognito.kind, cognito.provider_arns, cognito.scopes) == (
        "cognito",
        (pool,),
        ("s/read",),
    )
    assert spec_of(IAMAuthorizer()).kind == "iam"
    with pytest.raises(AuthorizerConfigError, match="not a user pool ARN"):
        spec_of(CognitoUserPoolAuthorizer("p", ["arn:aws:iam::1:role/x"]))


def test_an_unknown_authorizer_class_is_refused() -> None:
    class Homemade:
        name = "mine"

    with pytest.raises(AuthorizerConfigError, match="'Homemade'"):
        spec_of(Homemade())
