"""The authorization step: identity sources, the result cache, refusals, grants."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambic.runtime.authorization import (
    AuthorizerCall,
    AuthorizerGate,
    AuthorizerSpec,
    GateRequest,
    Grant,
    Refusal,
)

TOKEN = AuthorizerSpec("auth", "token", "Authorization", "auth_fn", ttl_seconds=300)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate(clock: Clock) -> AuthorizerGate:
    return AuthorizerGate(
        region="us-east-1", account_id="000000000000", api_id="api", stage="dev", clock=clock
    )


def request(path: str = "/items", method: str = "GET", token: str | None = "t") -> GateRequest:
    headers = [("Host", "x")] + ([("authorization", token)] if token is not None else [])
    return GateRequest(method, path, headers)


def answer(resource: str = "*", effect: str = "Allow", **extra: Any) -> bytes:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    doc = {"principalId": "p", "policyDocument": {"Statement": [statement]}, **extra}
    return json.dumps(doc).encode()


def call(gate: AuthorizerGate, spec: AuthorizerSpec, req: GateRequest) -> AuthorizerCall:
    started = gate.begin(spec, req)
    assert isinstance(started, AuthorizerCall)
    return started


def test_missing_or_empty_identity_source_is_401_without_a_call(gate: AuthorizerGate) -> None:
    for req in (request(token=None), request(token="")):
        refused = gate.begin(TOKEN, req)
        assert refused == Refusal(401, b'{"message":"Unauthorized"}', "UnauthorizedException")


def test_the_token_event_names_the_method_arn(gate: AuthorizerGate) -> None:
    started = call(gate, TOKEN, request("/items/7", "DELETE", token="Bearer x"))

    assert started.function == "auth_fn"
    assert json.loads(started.payload) == {
        "type": "TOKEN",
        "authorizationToken": "Bearer x",
        "methodArn": "arn:aws:execute-api:us-east-1:000000000000:api/dev/DELETE/items/7",
    }


def test_the_header_name_is_the_authorizers_and_matches_any_case(gate: AuthorizerGate) -> None:
    spec = AuthorizerSpec("custom", "token", "X-Token", "fn")
    assert isinstance(gate.begin(spec, request()), Refusal)
    req = GateRequest("GET", "/", [("x-TOKEN", "abc")])
    assert json.loads(call(gate, spec, req).payload)["authorizationToken"] == "abc"


def test_an_allowed_answer_becomes_the_events_authorizer_context(gate: AuthorizerGate) -> None:
    started = call(gate, TOKEN, request())
    granted = gate.finish(started, "ok", answer(context={"k": 1}), latency_ms=7)

    assert isinstance(granted, Grant)
    event: dict[str, Any] = {"requestContext": {"identity": {"sourceIp": "1.2.3.4"}}}
    granted.apply(event)
    assert event["requestContext"]["authorizer"] == {
        "k": "1",
        "principalId": "p",
        "integrationLatency": 7,
    }


def test_results_are_cached_per_token_for_the_ttl(gate: AuthorizerGate, clock: Clock) -> None:
    gate.finish(call(gate, TOKEN, request()), "ok", answer("*/GET/items"), 5)

    clock.now += 299
    cached = gate.begin(TOKEN, request())
    other_route = gate.begin(TOKEN, request("/other"))
    other_token = gate.begin(TOKEN, request(token="u"))
    clock.now += 2
    expired = gate.begin(TOKEN, request())

    assert isinstance(cached, Grant) and cached.authorizer is not None
    assert cached.authorizer["integrationLatency"] == 0
    # The cached policy is evaluated again for each route, as on AWS.
    assert isinstance(other_route, Refusal) and other_route.status == 403
    assert isinstance(other_token, AuthorizerCall)
    assert isinstance(expired, AuthorizerCall)


def test_ttl_zero_calls_the_authorizer_every_time(gate: AuthorizerGate) -> None:
    spec = AuthorizerSpec("auth", "token", function="fn", ttl_seconds=0)
    gate.finish(call(gate, spec, request()), "ok", answer(), 1)
    assert isinstance(gate.begin(spec, request()), AuthorizerCall)


def test_clear_forgets_cached_results(gate: AuthorizerGate) -> None:
    gate.finish(call(gate, TOKEN, request()), "ok", answer(), 1)
    gate.clear()
    assert isinstance(gate.begin(TOKEN, request()), AuthorizerCall)


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        ("ok", answer(effect="Deny"), (403, b"with an explicit deny", "AccessDeniedException")),
        ("ok", answer("arn:nothing"), (403, b'access this resource"}', "AccessDeniedException")),
        (
            "error",
            b'{"errorMessage": "Unauthorized"}',
            (401, b"Unauthorized", "UnauthorizedException"),
        ),
        ("error", b'{"errorMessage": "boom"}', (500, b"null", "AuthorizerConfigurationException")),
        ("timeout", b"", (500, b"null", "AuthorizerConfigurationException")),
        ("ok", b'{"principalId": "p"}', (500, b"null", "AuthorizerConfigurationException")),
        ("ok", b"not json", (500, b"null", "AuthorizerConfigurationException")),
    ],
)
def test_refusals_carry_api_gateways_status_body_and_error_type(
    gate: AuthorizerGate, status: str, payload: bytes, expected: tuple[int, bytes, str]
) -> None:
    refused = gate.finish(call(gate, TOKEN, request()), status, payload, 1)

    assert isinstance(refused, Refusal)
    assert (refused.status, refused.error_type) == (expected[0], expected[2])
    assert expected[1] in refused.body


def test_refusals_are_not_cached(gate: AuthorizerGate) -> None:
    gate.finish(call(gate, TOKEN, request()), "error", b'{"errorMessage": "Unauthorized"}', 1)
    assert isinstance(gate.begin(TOKEN, request()), AuthorizerCall)


def test_an_unusable_answer_is_reported(clock: Clock) -> None:
    heard: list[str] = []
    gate = AuthorizerGate(
        region="r", account_id="a", api_id="i", stage="s", warn=heard.append, clock=clock
    )
    gate.finish(call(gate, TOKEN, request()), "ok", b"[]", 1)
    assert heard and "auth answered something unusable" in heard[0]


def test_iam_routes_without_a_verifier_are_refused(gate: AuthorizerGate) -> None:
    refused = gate.begin(AuthorizerSpec("sigv4", "iam"), request())
    assert isinstance(refused, Refusal) and refused.status == 403
