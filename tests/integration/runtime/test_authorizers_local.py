"""Authorizers enforced by a real local cloud: each kind without and with a credential.

One LocalCloud serves an app with a built-in authorizer, a CustomAuthorizer on one of
its own functions, a Cognito user pool authorizer and an IAM authorizer; requests go
over a real socket and the authorizer functions run in their own environments.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambic.project.errors import ProjectError
from lambic.project.paths import ProjectPaths
from lambic.runtime.authorization import LocalIssuer
from lambic.runtime.local import LocalCloud
from tests._support.clouds import Reply, RunningCloud

pytestmark = pytest.mark.slow

POOL = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_local"
CUSTOM_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:{name}/invocations"
)

APP = f'''
import os

from lambic import (AuthResponse, AuthRoute, CognitoUserPoolAuthorizer, CustomAuthorizer,
                    IAMAuthorizer, Lambic)

app = Lambic(app_name="authz")


def record(name):
    with open(os.path.join(os.environ["OUT_DIR"], name), "a") as fh:
        fh.write(os.environ.get("ROLE", "-") + "\\n")


@app.authorizer(ttl_seconds=300)
def token_auth(auth_request):
    record("token_auth")
    print("authorizing", auth_request.token)
    token = auth_request.token
    if token in ("allow", "allow-again"):
        return AuthResponse(routes=["/builtin", AuthRoute("/other", ["POST"])],
                            principal_id="user-1", context={{"tier": "gold", "n": 3, "ok": True}})
    if token == "deny":
        return {{"principalId": "x", "policyDocument": {{"Version": "2012-10-17", "Statement": [
            {{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}},
            {{"Action": "execute-api:Invoke", "Effect": "Deny",
             "Resource": auth_request.method_arn}}]}}}}
    if token == "nothing":
        return AuthResponse(routes=[], principal_id="nobody")
    if token == "broken":
        return {{"no": "policy"}}
    if token == "boom":
        raise ValueError("boom")
    raise Exception("Unauthorized")


@app.lambda_function(name="custom_check")
def custom_check(event, context):
    record("custom_check")
    allowed = event["authorizationToken"] == "let-me-in"
    return {{"principalId": "custom-user", "context": {{"via": event["type"]}},
            "policyDocument": {{"Version": "2012-10-17", "Statement": [{{
                "Action": "execute-api:Invoke", "Effect": "Allow" if allowed else "Deny",
                "Resource": event["methodArn"]}}]}}}}


custom = CustomAuthorizer("custom", header="X-Token", ttl_seconds=0,
                          authorizer_uri="{CUSTOM_URI.format(name="authz-dev-custom_check")}")
pool = CognitoUserPoolAuthorizer("pool", provider_arns=["{POOL}"])


def seen():
    request = app.current_request
    return {{"authorizer": request.context.get("authorizer"),
            "identity": request.context["identity"], "role": os.environ.get("ROLE")}}


@app.route("/builtin", authorizer=token_auth)
def builtin():
    return seen()


@app.route("/other", methods=["GET", "POST"], authorizer=token_auth)
def other():
    return seen()


@app.route("/custom", authorizer=custom)
def custom_route():
    return seen()


@app.route("/cognito", authorizer=pool)
def cognito():
    return seen()


@app.route("/cognito-scoped", authorizer=pool.with_scopes(["orders/read"]))
def cognito_scoped():
    return seen()


@app.route("/iam", methods=["GET", "POST"], authorizer=IAMAuthorizer())
def iam():
    return seen()


@app.route("/open")
def open_route():
    return seen()
'''


def write_project(root: Path, app: str, out: Path) -> Path:
    (root / ".lambic").mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(app)
    config = {
        "version": "2.0",
        "app_name": "authz",
        "stages": {
            "dev": {
                "environment_variables": {"OUT_DIR": str(out)},
                "lambda_functions": {
                    "token_auth": {"environment_variables": {"ROLE": "authorizer"}}
                },
            }
        },
    }
    (root / ".lambic" / "config.json").write_text(json.dumps(config))
    return root


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("out")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, out_dir: Path) -> Path:
    return write_project(tmp_path_factory.mktemp("authz"), APP, out_dir)


@pytest.fixture(scope="module")
def cloud(project: Path) -> Iterator[RunningCloud]:
    # verbose: START/END/REPORT on the terminal, to see the authorizer's own.
    with RunningCloud(project, reload=False, verbose=True) as running:
        yield running


def calls(out_dir: Path, name: str) -> list[str]:
    path = out_dir / name
    return path.read_text().splitlines() if path.exists() else []


def assert_refused(reply: Reply, status: int, body: bytes, error_type: str) -> None:
    assert (reply.status, reply.body) == (status, body)
    assert reply.headers["x-amzn-ErrorType"] == error_type
    assert reply.headers["Content-Type"] == "application/json"


UNAUTHORIZED = (401, b'{"message":"Unauthorized"}', "UnauthorizedException")


# -- @app.authorizer() --------------------------------------------------------------


def test_builtin_refuses_a_request_without_its_header_without_running(
    cloud: RunningCloud, out_dir: Path
) -> None:
    before = len(calls(out_dir, "token_auth"))
    assert_refused(cloud.request("GET", "/builtin"), *UNAUTHORIZED)
    assert len(calls(out_dir, "token_auth")) == before


def test_builtin_allows_and_hands_principal_and_context_to_the_handler(
    cloud: RunningCloud, out_dir: Path
) -> None:
    reply = cloud.request("GET", "/builtin", {"Authorization": "allow"})

    assert reply.status == 200
    seen = reply.json()
    authorizer = seen["authorizer"]
    assert authorizer.pop("integrationLatency") >= 0
    # REST APIs hand every context value over as a string.
    assert authorizer == {"tier": "gold", "n": "3", "ok": "true", "principalId": "user-1"}
    # The authorizer ran in its own environment, with its own variables and logs.
    assert calls(out_dir, "token_auth")[-1] == "authorizer"
    assert seen["role"] is None
    cloud.wait_for_line(r"\[authz-dev-token_auth\] REPORT RequestId: ")
    cloud.wait_for_line(r"\[authz-dev-token_auth\] .*authorizing allow")


def test_builtin_result_is_cached_per_token_and_evaluated_per_route(
    cloud: RunningCloud, out_dir: Path
) -> None:
    first = cloud.request("GET", "/builtin", {"Authorization": "allow-again"})
    runs = len(calls(out_dir, "token_auth"))
    again = cloud.request("GET", "/builtin", {"Authorization": "allow-again"})
    # The cached policy allows POST /other but not GET /other (no new invocation).
    post_other = cloud.request("POST", "/other", {"Authorization": "allow-again"})
    get_other = cloud.request("GET", "/other", {"Authorization": "allow-again"})

    assert (first.status, again.status, post_other.status) == (200, 200, 200)
    assert again.json()["authorizer"]["principalId"] == "user-1"
    assert_refused(
        get_other,
        403,
        b'{"Message":"User is not authorized to access this resource"}',
        "AccessDeniedException",
    )
    assert len(calls(out_dir, "token_auth")) == runs


def test_builtin_explicit_deny_wins_over_an_allow(cloud: RunningCloud) -> None:
    assert_refused(
        cloud.request("GET", "/builtin", {"Authorization": "deny"}),
        403,
        b'{"Message":"User is not authorized to access this resource with an explicit deny"}',
        "AccessDeniedException",
    )


def test_builtin_unauthorized_error_is_401_other_failures_500(cloud: RunningCloud) -> None:
    assert_refused(cloud.request("GET", "/builtin", {"Authorization": "who"}), *UNAUTHORIZED)
    for token in ("boom", "broken"):
        assert_refused(
            cloud.request("GET", "/builtin", {"Authorization": token}),
            500,
            b'{"message":null}',
            "AuthorizerConfigurationException",
        )
    cloud.wait_for_line(r"Authorizer error: authorizer token_auth answered something unusable")


# -- CustomAuthorizer on a function of the app -------------------------------------


def test_custom_authorizer_runs_the_apps_function_named_by_its_uri(
    cloud: RunningCloud, out_dir: Path
) -> None:
    assert_refused(cloud.request("GET", "/custom"), *UNAUTHORIZED)
    denied = cloud.request("GET", "/custom", {"X-Token": "nope"})
    allowed = cloud.request("GET", "/custom", {"X-Token": "let-me-in"})
    again = cloud.request("GET", "/custom", {"X-Token": "let-me-in"})

    assert denied.status == 403
    assert allowed.status == 200 and again.status == 200
    assert allowed.json()["authorizer"]["via"] == "TOKEN"
    assert allowed.json()["authorizer"]["principalId"] == "custom-user"
    assert len(calls(out_dir, "custom_check")) == 3  # ttl_seconds=0: no cache


def test_custom_authorizer_pointing_outside_the_app_stops_the_start(
    tmp_path: Path, out_dir: Path
) -> None:
    app = APP.replace("authz-dev-custom_check", "someone-elses-function")
    project = write_project(tmp_path, app, out_dir)
    cloud = LocalCloud(project, port=0, reload=False, echo=lambda text: None)

    async def start() -> None:
        try:
            await cloud.start()
        finally:
            await cloud.stop()

    with pytest.raises(ProjectError, match=r"someone-elses-function.*not a function of this app"):
        asyncio.run(start())


# -- CognitoUserPoolAuthorizer -----------------------------------------------------


def issuer(project: Path) -> LocalIssuer:
    return LocalIssuer(ProjectPaths(project).local_issuer_key("dev"))


def test_cognito_refuses_missing_forged_and_expired_tokens(
    cloud: RunningCloud, project: Path
) -> None:
    expired = issuer(project).mint(provider_arn=POOL, username="alice", expires_in=-10)
    other_pool = issuer(project).mint(provider_arn=POOL.replace("_local", "_other"), username="a")

    assert_refused(cloud.request("GET", "/cognito"), *UNAUTHORIZED)
    assert_refused(cloud.request("GET", "/cognito", {"Authorization": "a.b.c"}), *UNAUTHORIZED)
    assert_refused(cloud.request("GET", "/cognito", {"Authorization": other_pool}), *UNAUTHORIZED)
    assert_refused(
        cloud.request("GET", "/cognito", {"Authorization": expired}),
        401,
        b'{"message":"The incoming token has expired"}',
        "UnauthorizedException",
    )


def test_cognito_accepts_a_locally_minted_id_token_and_passes_its_claims(
    cloud: RunningCloud, project: Path
) -> None:
    token = issuer(project).mint(provider_arn=POOL, username="alice")

    reply = cloud.request("GET", "/cognito", {"Authorization": token})

    assert reply.status == 200
    claims = reply.json()["authorizer"]["claims"]
    assert claims["cognito:username"] == "alice"
    assert claims["token_use"] == "id"
    assert re.fullmatch(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}", claims["exp"])


def test_cognito_scoped_route_needs_an_access_token_with_the_scope(
    cloud: RunningCloud, project: Path
) -> None:
    id_token = issuer(project).mint(provider_arn=POOL, username="alice")
    wrong = issuer(project).mint(provider_arn=POOL, username="alice", scopes=["orders/write"])
    right = issuer(project).mint(provider_arn=POOL, username="alice", scopes=["orders/read"])

    assert_refused(
        cloud.request("GET", "/cognito-scoped", {"Authorization": id_token}), *UNAUTHORIZED
    )
    assert_refused(cloud.request("GET", "/cognito-scoped", {"Authorization": wrong}), *UNAUTHORIZED)
    reply = cloud.request("GET", "/cognito-scoped", {"Authorization": right})
    assert reply.status == 200
    assert reply.json()["authorizer"]["claims"]["scope"] == "orders/read"


# -- IAMAuthorizer -------------------------------------------------------------------


def signed_headers(
    cloud: RunningCloud, method: str, path: str, secret: str, body: bytes = b""
) -> dict[str, str]:
    request = AWSRequest(method=method, url=f"http://127.0.0.1:{cloud.port}{path}", data=body)
    SigV4Auth(Credentials("lambic-local", secret), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_iam_refuses_unsigned_and_badly_signed_requests(cloud: RunningCloud) -> None:
    assert_refused(
        cloud.request("GET", "/iam"),
        403,
        b'{"message":"Missing Authentication Token"}',
        "MissingAuthenticationTokenException",
    )
    bad = cloud.request("GET", "/iam", signed_headers(cloud, "GET", "/iam", "wrong-secret"))
    assert bad.status == 403
    assert bad.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert bad.json()["message"].startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert (
        "The Canonical String for this request should have been\n'GET\n/iam\n"
        in (bad.json()["message"])
    )
    bearer = cloud.request("GET", "/iam", {"Authorization": "Bearer abc"})
    assert bearer.status == 403
    assert bearer.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"


def test_iam_accepts_a_request_signed_with_the_local_credentials(cloud: RunningCloud) -> None:
    body = b'{"order": 1}'
    headers = signed_headers(cloud, "POST", "/iam?x=1", "lambic-local", body)

    reply = cloud.request("POST", "/iam?x=1", headers, body)

    assert reply.status == 200, reply.body
    identity = reply.json()["identity"]
    assert identity["accessKey"] == "lambic-local"
    assert identity["userArn"] == "arn:aws:iam::000000000000:root"


def test_the_banner_names_each_routes_authorizer_and_how_to_pass(cloud: RunningCloud) -> None:
    cloud.wait_for_line(r"GET +/builtin  \[authorizer: token_auth \(builtin\)\]")
    cloud.wait_for_line(r"GET +/cognito  \[authorizer: pool \(cognito\)\]")
    cloud.wait_for_line(r"Cognito routes take tokens from `lambic auth token")
    cloud.wait_for_line(r"IAM routes take requests SigV4-signed .*AWS_ACCESS_KEY_ID=lambic-local")


def test_open_route_stays_open(cloud: RunningCloud) -> None:
    reply = cloud.request("GET", "/open")
    assert reply.status == 200
    assert reply.json()["authorizer"] is None
