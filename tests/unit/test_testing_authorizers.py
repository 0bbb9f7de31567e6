"""The test client enforces authorizers as `lambic local` does, and matches Chalice's.

The first two tests are Chalice's public test_test.py authorizer cases with only the
import changed; the rest cover what Chalice's client does not (policies per route,
caching, Cognito and IAM, custom authorizers) and the other parity items.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambic import (
    AuthResponse,
    AuthRoute,
    Chalice,
    CognitoUserPoolAuthorizer,
    CustomAuthorizer,
    IAMAuthorizer,
    Response,
)
from lambic.runtime.authorization import AuthorizerConfigError
from lambic.testing import Client

POOL = "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_pool"


@pytest.fixture
def sample_app() -> Chalice:
    app = Chalice("sample")

    @app.route("/")
    def index() -> dict[str, Any]:
        return {}

    return app


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "sample", "stages": {"dev": {}}})
    )
    return tmp_path


# -- Chalice's own cases ---------------------------------------------------------------


def test_authorizers_return_http_response_on_error(sample_app: Chalice) -> None:
    @sample_app.authorizer()
    def myauth(event: Any) -> AuthResponse:
        if event.token == "allow":
            return AuthResponse(["*"], principal_id="id")
        return AuthResponse([], principal_id="noone")

    @sample_app.route("/needs-auth", authorizer=myauth)
    def needs_auth() -> dict[str, Any]:
        return {"success": True}

    with Client(sample_app) as client:
        response = client.http.get("/needs-auth", headers={"Authorization": "deny"})
        assert response.status_code == 403
        assert client.http.get("/needs-auth").status_code == 401


def test_can_test_authorizers(sample_app: Chalice) -> None:
    @sample_app.authorizer()
    def myauth(event: Any) -> AuthResponse | None:
        if event.token == "allow":
            return AuthResponse(["*"], principal_id="id")
        return None

    @sample_app.route("/needs-auth", authorizer=myauth)
    def needs_auth() -> dict[str, Any]:
        return {"success": True}

    with Client(sample_app) as client:
        response = client.http.get("/needs-auth", headers={"Authorization": "allow"})
        assert response.json_body == {"success": True}


# -- built-in authorizers as API Gateway runs them --------------------------------------


def test_refusals_have_api_gateways_bodies_and_error_types(sample_app: Chalice) -> None:
    @sample_app.authorizer()
    def myauth(event: Any) -> Any:
        if event.token == "none":
            return None
        if event.token == "nobody":
            raise Exception("Unauthorized")
        return AuthResponse([], principal_id="noone")

    @sample_app.route("/needs-auth", authorizer=myauth)
    def needs_auth() -> dict[str, Any]:
        return {"success": True}

    with Client(sample_app) as client:
        missing = client.http.get("/needs-auth")
        denied = client.http.get("/needs-auth", headers={"Authorization": "deny"})
        nobody = client.http.get("/needs-auth", headers={"Authorization": "nobody"})
        broken = client.http.get("/needs-auth", headers={"Authorization": "none"})

    assert (missing.status_code, missing.body) == (401, b'{"message":"Unauthorized"}')
    assert missing.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert denied.body == b'{"Message":"User is not authorized to access this resource"}'
    assert denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert nobody.status_code == 401
    assert (broken.status_code, broken.body) == (500, b'{"message":null}')
    assert broken.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


def test_principal_and_context_reach_the_view_as_strings(sample_app: Chalice) -> None:
    @sample_app.authorizer()
    def myauth(event: Any) -> AuthResponse:
        return AuthResponse(
            [AuthRoute("/needs-auth", ["GET"])], principal_id="u1", context={"n": 2, "ok": True}
        )

    @sample_app.route("/needs-auth", methods=["GET", "POST"], authorizer=myauth)
    def needs_auth() -> Any:
        assert sample_app.current_request is not None
        return sample_app.current_request.context["authorizer"]

    with Client(sample_app) as client:
        got = client.http.get("/needs-auth", headers={"Authorization": "x"}).json_body
        posted = client.http.post("/needs-auth", headers={"Authorization": "x"})

    assert isinstance(got.pop("integrationLatency"), int)
    assert got == {"n": "2", "ok": "true", "principalId": "u1"}
    assert posted.status_code == 403  # the policy names GET only


def test_the_authorizer_runs_with_its_own_environment_and_results_are_cached(
    tmp_path: Path,
) -> None:
    (tmp_path / ".lambic").mkdir()
    config = {
        "version": "2.0",
        "app_name": "cached",
        "stages": {"dev": {"lambda_functions": {"myauth": {"environment_variables": {"R": "a"}}}}},
    }
    (tmp_path / ".lambic" / "config.json").write_text(json.dumps(config))
    app = Chalice("cached")
    seen: list[str | None] = []

    @app.authorizer(ttl_seconds=60)
    def myauth(event: Any) -> AuthResponse:
        seen.append(os.environ.get("R"))
        return AuthResponse(["*"], principal_id="id")

    @app.route("/needs-auth", authorizer=myauth)
    def needs_auth() -> dict[str, Any]:
        return {"R": os.environ.get("R")}

    with Client(app, project_dir=tmp_path) as client:
        first = client.http.get("/needs-auth", headers={"Authorization": "t"})
        client.http.get("/needs-auth", headers={"Authorization": "t"})
        client.http.get("/needs-auth", headers={"Authorization": "other"})

    assert first.json_body == {"R": None}
    assert seen == ["a", "a"]  # one run per token within the TTL


def test_custom_authorizer_on_an_app_function_and_one_elsewhere(sample_app: Chalice) -> None:
    uri = (
        "arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-west-2:123456789012:function:{}/invocations"
    )

    @sample_app.lambda_function()
    def checker(event: dict[str, Any], context: Any) -> dict[str, Any]:
        effect = "Allow" if event["authorizationToken"] == "ok" else "Deny"
        statement = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": "*"}
        return {"principalId": "c", "policyDocument": {"Statement": [statement]}}

    here = CustomAuthorizer("here", uri.format("sample-dev-checker"), header="X-Key")
    there = CustomAuthorizer("there", uri.format("somebody-else"))

    @sample_app.route("/here", authorizer=here)
    def at_home() -> dict[str, Any]:
        return {"ok": True}

    @sample_app.route("/there", authorizer=there)
    def away() -> dict[str, Any]:
        return {"ok": True}

    with Client(sample_app) as client:
        assert client.http.get("/here", headers={"X-Key": "ok"}).status_code == 200
        denied = client.http.get("/here", headers={"X-Key": "no"})
        assert denied.body.startswith(b'{"Message":"User is not authorized')
        assert "explicit deny" in denied.body.decode()
        with pytest.raises(AuthorizerConfigError, match="somebody-else"):
            client.http.get("/there", headers={"Authorization": "ok"})


def _request_app(ttl_seconds: int, calls: list[dict[str, Any]]) -> Chalice:
    app = Chalice("sample")
    uri = (
        "arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-west-2:123456789012:function:sample-dev-gatekeeper/invocations"
    )

    @app.lambda_function()
    def gatekeeper(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        tenant = (event["queryStringParameters"] or {}).get("tenant")
        allowed = event["headers"].get("X-User") == "ann" and tenant == "acme"
        statement = {
            "Effect": "Allow" if allowed else "Deny",
            "Action": "execute-api:Invoke",
            "Resource": event["methodArn"],
        }
        return {
            "principalId": "ann",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            "context": {"tenant": tenant},
        }

    gate = CustomAuthorizer(
        "gate",
        uri,
        ttl_seconds=ttl_seconds,
        identity_sources=["method.request.header.X-User", "method.request.querystring.tenant"],
    )

    @app.route("/orders/{order_id}", authorizer=gate)
    def order(order_id: str) -> dict[str, Any]:
        return {"order": order_id, "authorizer": app.current_request.context["authorizer"]}

    return app


def test_a_request_authorizer_gets_api_gateways_request_event_and_caches_by_sources() -> None:
    calls: list[dict[str, Any]] = []
    with Client(_request_app(300, calls)) as client:
        ok = client.http.get("/orders/7?tenant=acme", headers={"X-User": "ann"})
        assert ok.status_code == 200, ok.body
        assert ok.json_body["authorizer"]["tenant"] == "acme"
        assert ok.json_body["authorizer"]["principalId"] == "ann"
        (event,) = calls
        assert event["type"] == "REQUEST"
        assert event["methodArn"].endswith(":lambiclocal/dev/GET/orders/7")
        assert (event["resource"], event["path"], event["httpMethod"]) == (
            "/orders/{order_id}",
            "/orders/7",
            "GET",
        )
        assert event["pathParameters"] == {"order_id": "7"}
        assert event["multiValueQueryStringParameters"] == {"tenant": ["acme"]}
        assert event["requestContext"]["resourcePath"] == "/orders/{order_id}"
        assert "body" not in event and "authorizationToken" not in event

        # Same identity values: the cached policy decides (its Resource was /orders/7).
        again = client.http.get("/orders/7?tenant=acme", headers={"X-User": "ann"})
        assert again.status_code == 200 and len(calls) == 1
        # Another value of a source is another cache entry: the authorizer runs again.
        other = client.http.get("/orders/7?tenant=other", headers={"X-User": "ann"})
        assert other.status_code == 403 and len(calls) == 2
        # With caching on, a missing source is 401 without a call.
        missing = client.http.get("/orders/7", headers={"X-User": "ann"})
        assert (missing.status_code, missing.json_body) == (401, {"message": "Unauthorized"})
        assert len(calls) == 2


def test_a_request_authorizer_without_caching_runs_for_every_request_sources_or_not() -> None:
    calls: list[dict[str, Any]] = []
    with Client(_request_app(0, calls)) as client:
        assert client.http.get("/orders/1").status_code == 403  # called, denied
        assert client.http.get("/orders/1?tenant=acme", headers={"X-User": "ann"}).status_code == (
            200
        )
        assert client.http.get("/orders/1?tenant=acme", headers={"X-User": "ann"}).status_code == (
            200
        )
        assert len(calls) == 3


def test_a_chalice_style_subclass_declaring_request_is_the_same_authorizer() -> None:
    class RequestAuthorizer(CustomAuthorizer):
        def to_swagger(self) -> dict[str, Any]:
            swagger = super().to_swagger()
            swagger["x-amazon-apigateway-authorizer"]["type"] = "request"
            swagger["x-amazon-apigateway-authorizer"]["identitySource"] = (
                "method.request.querystring.key"
            )
            return swagger

    app = Chalice("sample")
    uri = "arn:aws:lambda:us-west-2:123456789012:function:sample-dev-keys"

    @app.lambda_function()
    def keys(event: dict[str, Any], context: Any) -> dict[str, Any]:
        effect = "Allow" if event["queryStringParameters"]["key"] == "k1" else "Deny"
        statement = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": "*"}
        return {"principalId": "p", "policyDocument": {"Statement": [statement]}}

    @app.route("/", authorizer=RequestAuthorizer("keys", uri))
    def index() -> dict[str, Any]:
        return {"ok": True}

    with Client(app) as client:
        assert client.http.get("/?key=k1").status_code == 200
        assert client.http.get("/?key=k2").status_code == 403
        assert client.http.get("/").status_code == 401


def test_request_authorizer_sources_lambic_cannot_supply_are_refused() -> None:
    app = Chalice("sample")

    @app.lambda_function()
    def gatekeeper(event: dict[str, Any], context: Any) -> None:
        return None

    staged = CustomAuthorizer(
        "staged",
        "arn:aws:lambda:us-west-2:123456789012:function:sample-dev-gatekeeper",
        identity_sources=["stageVariables.secret"],
    )

    @app.route("/", authorizer=staged)
    def index() -> dict[str, Any]:
        return {}

    with Client(app) as client, pytest.raises(AuthorizerConfigError, match="stageVariables"):
        client.http.get("/")


# -- Cognito and IAM ---------------------------------------------------------------------


def test_cognito_routes_take_tokens_minted_by_the_client(project: Path) -> None:
    app = Chalice("sample")
    pool = CognitoUserPoolAuthorizer("pool", provider_arns=[POOL])

    @app.route("/me", authorizer=pool)
    def me() -> Any:
        assert app.current_request is not None
        return {"user": app.current_request.context["authorizer"]["claims"]["cognito:username"]}

    @app.route("/orders", authorizer=pool.with_scopes(["orders/read"]))
    def orders() -> Any:
        return {"ok": True}

    with Client(app, project_dir=project) as client:
        token = client.cognito_token("alice")
        assert client.http.get("/me").status_code == 401
        assert client.http.get("/me", headers={"Authorization": "x.y.z"}).status_code == 401
        assert client.http.get("/me", headers={"Authorization": token}).json_body == {
            "user": "alice"
        }
        assert client.http.get("/orders", headers={"Authorization": token}).status_code == 401
        scoped = client.cognito_token("alice", scopes=["orders/read"])
        assert client.http.get("/orders", headers={"Authorization": scoped}).status_code == 200
        expired = client.http.get(
            "/me", headers={"Authorization": client.cognito_token("a", expires_in=-5)}
        )
        assert expired.body == b'{"message":"The incoming token has expired"}'


def test_iam_routes_take_requests_signed_with_the_local_credentials(sample_app: Chalice) -> None:
    @sample_app.route("/iam", methods=["POST"], authorizer=IAMAuthorizer())
    def iam() -> Any:
        assert sample_app.current_request is not None
        return {"key": sample_app.current_request.context["identity"]["accessKey"]}

    def headers(secret: str) -> dict[str, str]:
        request = AWSRequest(method="POST", url="http://localhost/iam", data=b"{}")
        SigV4Auth(Credentials("lambic-local", secret), "execute-api", "us-west-2").add_auth(request)
        return dict(request.headers.items())

    with Client(sample_app) as client:
        unsigned = client.http.post("/iam", body=b"{}")
        bad = client.http.post("/iam", body=b"{}", headers=headers("wrong"))
        good = client.http.post("/iam", body=b"{}", headers=headers("lambic-local"))

    assert (unsigned.status_code, unsigned.body) == (
        403,
        b'{"message":"Missing Authentication Token"}',
    )
    assert bad.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert (good.status_code, good.json_body) == (200, {"key": "lambic-local"})


# -- the other parity items ----------------------------------------------------------------


def test_raw_non_utf8_bodies_reach_the_view_byte_exact(sample_app: Chalice) -> None:
    @sample_app.route("/bin-echo", methods=["POST"], content_types=["text/plain"])
    def bin_echo() -> Response:
        assert sample_app.current_request is not None
        return Response(
            body=sample_app.current_request.raw_body,
            headers={"Content-Type": "application/octet-stream"},
        )

    raw = bytes(range(256))
    with Client(sample_app) as client:
        response = client.http.post(
            "/bin-echo",
            body=raw,
            headers={"Content-Type": "text/plain", "Accept": "application/octet-stream"},
        )
    assert response.body == raw


@pytest.mark.parametrize(
    "attributes",
    [
        {"color": {"Type": "String", "Value": "blue"}},
        {"color": {"DataType": "String", "StringValue": "blue"}},
    ],
)
def test_sns_attributes_in_chalices_form_and_the_publish_form(
    sample_app: Chalice, attributes: dict[str, dict[str, str]]
) -> None:
    @sample_app.on_sns_message(topic="t")
    def handler(event: Any) -> Any:
        return event.to_dict()["Records"][0]["Sns"]["MessageAttributes"]

    with Client(sample_app) as client:
        event = client.events.generate_sns_event(message="m", message_attributes=attributes)
        assert client.lambda_.invoke("handler", event).payload == {
            "color": {"Type": "String", "Value": "blue"}
        }


def test_a_builtin_authorizer_answers_as_chalices_test_client_does() -> None:
    chalice = pytest.importorskip("chalice")
    chalice_test = pytest.importorskip("chalice.test")

    def build(module: Any) -> Any:
        app = module.Chalice("diff")

        @app.authorizer()
        def myauth(event: Any) -> Any:
            if event.token == "allow":
                return module.AuthResponse(["/a"], principal_id="p", context={"k": "v"})
            return module.AuthResponse([], principal_id="noone")

        @app.route("/a", authorizer=myauth)
        def a() -> Any:
            return {"principal": app.current_request.context["authorizer"]["principalId"]}

        @app.route("/b", authorizer=myauth)
        def b() -> Any:
            return {}

        return app

    import lambic

    requests = [("/a", None), ("/a", "allow"), ("/a", "deny"), ("/b", "allow")]
    answers = []
    for module, client_class in ((chalice, chalice_test.Client), (lambic, Client)):
        with client_class(build(module)) as client:
            answers.append(
                [
                    (r.status_code, r.json_body)
                    for path, token in requests
                    for r in [
                        client.http.get(path, headers={"Authorization": token} if token else {})
                    ]
                ]
            )
    chalice_answers, lambic_answers = answers
    assert [s for s, _ in lambic_answers] == [s for s, _ in chalice_answers] == [401, 200, 403, 403]
    assert lambic_answers[1][1] == chalice_answers[1][1] == {"principal": "p"}
