"""A `from chalice import ...` app's authorizers under a real local cloud, and REQUEST ones.

Chalice's own classes (`chalice.app.ChaliceAuthorizer`, `CustomAuthorizer`,
`IAMAuthorizer`) are read through their public API, as Lambic's are. A REQUEST
authorizer, in Chalice a `CustomAuthorizer` subclass whose `to_swagger()` declares it,
gets API Gateway's REQUEST event and is cached by its identity sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._support.clouds import RunningCloud

from .test_authorizers_local import UNAUTHORIZED, assert_refused, calls

pytestmark = pytest.mark.slow

URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:{name}/invocations"
)

APP = f'''
import json
import os

from chalice import AuthResponse, Chalice, CustomAuthorizer, IAMAuthorizer

app = Chalice(app_name="chauthz")


def record(name, event):
    with open(os.path.join(os.environ["OUT_DIR"], name), "a") as fh:
        fh.write(json.dumps(event) + "\\n")


@app.authorizer()
def token_auth(auth_request):
    record("token_auth", {{"token": auth_request.token}})
    if auth_request.token == "allow":
        return AuthResponse(routes=["/builtin"], principal_id="u1")
    return AuthResponse(routes=[], principal_id="nobody")


class RequestAuthorizer(CustomAuthorizer):
    """Chalice deploys what to_swagger() says: a REQUEST authorizer."""

    def __init__(self, name, authorizer_uri, sources, ttl_seconds=300):
        super().__init__(name, authorizer_uri, ttl_seconds=ttl_seconds)
        self.sources = sources

    def to_swagger(self):
        swagger = super().to_swagger()
        swagger["x-amazon-apigateway-authorizer"]["type"] = "request"
        swagger["x-amazon-apigateway-authorizer"]["identitySource"] = ", ".join(self.sources)
        return swagger


@app.lambda_function(name="tenant_check")
def tenant_check(event, context):
    record("tenant_check", event)
    tenant = (event.get("queryStringParameters") or {{}}).get("tenant")
    allowed = event["headers"].get("X-User") == "ann" and tenant == "acme"
    return {{"principalId": "ann", "context": {{"tenant": tenant}},
            "policyDocument": {{"Version": "2012-10-17", "Statement": [{{
                "Action": "execute-api:Invoke", "Effect": "Allow" if allowed else "Deny",
                "Resource": event["methodArn"]}}]}}}}


tenants = RequestAuthorizer(
    "tenants", "{URI.format(name="chauthz-dev-tenant_check")}",
    ["method.request.header.X-User", "method.request.querystring.tenant"],
)


@app.route("/builtin", authorizer=token_auth)
def builtin():
    return {{"authorizer": app.current_request.context.get("authorizer")}}


@app.route("/orders/{{order_id}}", authorizer=tenants)
def order(order_id):
    return {{"order": order_id, "authorizer": app.current_request.context.get("authorizer")}}


@app.route("/iam", authorizer=IAMAuthorizer())
def iam():
    return {{}}
'''


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("out")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, out_dir: Path) -> Iterator[RunningCloud]:
    root = tmp_path_factory.mktemp("chauthz")
    (root / ".chalice").mkdir()
    (root / "app.py").write_text(APP)
    config = {
        "version": "2.0",
        "app_name": "chauthz",
        "stages": {"dev": {"environment_variables": {"OUT_DIR": str(out_dir)}}},
    }
    (root / ".chalice" / "config.json").write_text(json.dumps(config))
    with RunningCloud(root, reload=False, verbose=True) as running:
        yield running


def test_a_chalice_builtin_authorizer_is_enforced(cloud: RunningCloud, out_dir: Path) -> None:
    assert_refused(cloud.request("GET", "/builtin"), *UNAUTHORIZED)
    assert cloud.request("GET", "/builtin", {"Authorization": "nope"}).status == 403
    allowed = cloud.request("GET", "/builtin", {"Authorization": "allow"})
    assert allowed.status == 200
    assert allowed.json()["authorizer"]["principalId"] == "u1"
    assert [json.loads(c)["token"] for c in calls(out_dir, "token_auth")] == ["nope", "allow"]


def test_the_banner_says_which_authorizer_is_a_request_one(cloud: RunningCloud) -> None:
    cloud.wait_for_line(r"GET +/orders/\{order_id\}  \[authorizer: tenants \(custom, REQUEST\)\]")
    cloud.wait_for_line(r"GET +/builtin  \[authorizer: token_auth \(builtin\)\]")


def test_a_chalice_iam_authorizer_refuses_an_unsigned_request(cloud: RunningCloud) -> None:
    assert cloud.request("GET", "/iam").status == 403


def test_a_request_authorizer_gets_the_request_and_is_cached_by_its_sources(
    cloud: RunningCloud, out_dir: Path
) -> None:
    assert_refused(cloud.request("GET", "/orders/7", {"X-User": "ann"}), *UNAUTHORIZED)
    assert calls(out_dir, "tenant_check") == []  # a missing source: no call

    allowed = cloud.request("GET", "/orders/7?tenant=acme", {"X-User": "ann"})
    assert allowed.status == 200, allowed.body
    assert allowed.json()["authorizer"]["tenant"] == "acme"
    again = cloud.request("GET", "/orders/7?tenant=acme", {"X-User": "ann"})
    assert again.status == 200
    denied = cloud.request("GET", "/orders/7?tenant=other", {"X-User": "ann"})
    assert denied.status == 403

    events = [json.loads(line) for line in calls(out_dir, "tenant_check")]
    assert len(events) == 2  # the repeat was answered from the cache
    event = events[0]
    assert event["type"] == "REQUEST"
    assert event["methodArn"].endswith("/GET/orders/7")
    assert (event["resource"], event["path"]) == ("/orders/{order_id}", "/orders/7")
    assert event["pathParameters"] == {"order_id": "7"}
    assert event["queryStringParameters"] == {"tenant": "acme"}
    assert event["headers"]["X-User"] == "ann"
    assert "authorizationToken" not in event and "body" not in event
