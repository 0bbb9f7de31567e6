"""Every kind of authorizer under a real `lambic local`, with credentials got as a user
would get them: `lambic auth token` for Cognito, botocore's signer for IAM.

Without a credential each protected route answers API Gateway's refusal; with a valid
one, 200 and the authorizer's output visible to the view. A CustomAuthorizer pointing
outside the app, and an SQS batch AWS would refuse, stop `lambic local` at start.
"""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .conftest import LAMBIC, LocalCloudProcess, subprocess_environment

pytestmark = pytest.mark.slow

POOL = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_e2e"
APP = f'''
from lambic import (AuthResponse, CognitoUserPoolAuthorizer, CustomAuthorizer,
                    IAMAuthorizer, Lambic)

app = Lambic(app_name="guarded")


@app.authorizer()
def gate(auth_request):
    if auth_request.token == "secret":
        return AuthResponse(routes=["/builtin"], principal_id="ada", context={{"plan": "pro"}})
    raise Exception("Unauthorized")


@app.lambda_function()
def check(event, context):
    effect = "Allow" if event["authorizationToken"] == "open-sesame" else "Deny"
    return {{"principalId": "cave", "policyDocument": {{"Version": "2012-10-17", "Statement": [
        {{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}}]}}}}


custom = CustomAuthorizer(
    "custom", header="X-Key",
    authorizer_uri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                   "arn:aws:lambda:us-east-1:000000000000:function:TARGET/invocations")
pool = CognitoUserPoolAuthorizer("users", provider_arns=["{POOL}"])


def context():
    request = app.current_request
    return {{"authorizer": request.context.get("authorizer"),
            "accessKey": request.context["identity"]["accessKey"]}}


@app.route("/builtin", authorizer=gate)
def builtin():
    return context()


@app.route("/custom", authorizer=custom)
def custom_route():
    return context()


@app.route("/cognito", authorizer=pool)
def cognito():
    return context()


@app.route("/iam", authorizer=IAMAuthorizer())
def iam():
    return context()
'''


def write_project(root: Path, app: str) -> Path:
    (root / ".lambic").mkdir(parents=True)
    (root / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "guarded", "stages": {"dev": {}}})
    )
    (root / "app.py").write_text(app)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(
        tmp_path_factory.mktemp("guarded"), APP.replace("TARGET", "guarded-dev-check")
    )


@pytest.fixture(scope="module")
def cloud(project: Path) -> Iterator[LocalCloudProcess]:
    local = LocalCloudProcess(project, "--verbose")  # REPORT lines: the authorizer's own
    try:
        local.wait_for("Press Ctrl-C")
        yield local
    finally:
        local.close()


def request(
    cloud: LocalCloudProcess, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(body)
    finally:
        conn.close()


def lambic(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LAMBIC), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=subprocess_environment(),
        check=False,
    )


def test_builtin_authorizer(cloud: LocalCloudProcess) -> None:
    status, headers, body = request(cloud, "/builtin")
    assert (status, body, headers["x-amzn-errortype"]) == (
        401,
        {"message": "Unauthorized"},
        "UnauthorizedException",
    )
    status, _, body = request(cloud, "/builtin", {"Authorization": "secret"})
    assert status == 200
    assert body["authorizer"]["principalId"] == "ada"
    assert body["authorizer"]["plan"] == "pro"
    cloud.wait_for("[guarded-dev-gate] REPORT RequestId:")


def test_custom_authorizer_on_the_apps_function(cloud: LocalCloudProcess) -> None:
    assert request(cloud, "/custom")[0] == 401
    status, headers, body = request(cloud, "/custom", {"X-Key": "wrong"})
    assert (status, body) == (
        403,
        {"Message": "User is not authorized to access this resource with an explicit deny"},
    )
    assert headers["x-amzn-errortype"] == "AccessDeniedException"
    status, _, body = request(cloud, "/custom", {"X-Key": "open-sesame"})
    assert (status, body["authorizer"]["principalId"]) == (200, "cave")


def test_cognito_authorizer_with_a_token_from_the_cli(
    cloud: LocalCloudProcess, project: Path
) -> None:
    assert request(cloud, "/cognito")[:3:2] == (401, {"message": "Unauthorized"})
    minted = lambic("auth", "token", "--user", "grace", "--project-dir", str(project))
    assert minted.returncode == 0, minted.stderr

    status, _, body = request(cloud, "/cognito", {"Authorization": minted.stdout.strip()})

    assert status == 200
    assert body["authorizer"]["claims"]["cognito:username"] == "grace"


def test_iam_authorizer_with_a_signed_request(cloud: LocalCloudProcess) -> None:
    status, _, body = request(cloud, "/iam")
    assert (status, body) == (403, {"message": "Missing Authentication Token"})
    signed = AWSRequest(method="GET", url=f"http://127.0.0.1:{cloud.port}/iam")
    SigV4Auth(Credentials("lambic-local", "lambic-local"), "execute-api", "us-east-1").add_auth(
        signed
    )

    status, _, body = request(cloud, "/iam", dict(signed.headers.items()))

    assert (status, body["accessKey"]) == (200, "lambic-local")


def test_a_custom_authorizer_outside_the_app_stops_the_start(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", APP.replace("TARGET", "another-team-auth"))
    local = LocalCloudProcess(project)
    try:
        assert local.proc.wait(timeout=60) != 0
    finally:
        local.close()
    errors = [line for line in local.lines if line.startswith("Error:")]
    assert len(errors) == 1, local.output()
    assert "'another-team-auth', not a function of this app" in errors[0]


def test_an_sqs_batch_aws_would_refuse_stops_the_start(tmp_path: Path) -> None:
    app = (
        "from lambic import Lambic\napp = Lambic(app_name='guarded')\n"
        "@app.on_sqs_message(queue='jobs', batch_size=200)\ndef work(event):\n    pass\n"
    )
    local = LocalCloudProcess(write_project(tmp_path / "p", app))
    try:
        assert local.proc.wait(timeout=60) != 0
    finally:
        local.close()
    assert (
        "Error: work (on_sqs_message, queue jobs): Maximum batch window in seconds must be "
        "greater than 0 if maximum batch size is greater than 10"
    ) in local.output()
