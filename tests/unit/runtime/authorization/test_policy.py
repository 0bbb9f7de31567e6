"""An authorizer's policy evaluated against method ARNs as API Gateway does."""

from __future__ import annotations

from typing import Any

import pytest

from lambic.runtime.authorization.policy import (
    InvalidOutputError,
    create_method_arn,
    parse_authorizer_output,
)

ARN = "arn:aws:execute-api:us-east-1:000000000000:lambiclocal/api/GET/users/42"


def output(*statements: dict[str, Any], context: dict[str, Any] | None = None) -> Any:
    return parse_authorizer_output(
        {
            "principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
            "context": context or {},
        }
    )


def allow(resource: Any, action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(resource: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resource}


def test_method_arn_keeps_the_request_path_and_the_roots_empty_segment() -> None:
    common = {"region": "us-east-1", "account_id": "1", "api_id": "a", "stage": "dev"}
    assert create_method_arn(**common, method="GET", path="/") == (
        "arn:aws:execute-api:us-east-1:1:a/dev/GET/"
    )
    assert create_method_arn(**common, method="PUT", path="/a/b") == (
        "arn:aws:execute-api:us-east-1:1:a/dev/PUT/a/b"
    )


@pytest.mark.parametrize(
    ("resource", "verdict"),
    [
        (ARN, "allow"),
        ("arn:aws:execute-api:us-east-1:000000000000:lambiclocal/api/GET/users/*", "allow"),
        ("arn:aws:execute-api:*:*:lambiclocal/*", "allow"),
        ("*", "allow"),
        ("arn:aws:execute-api:us-east-1:000000000000:lambiclocal/api/GET/users/4?", "allow"),
        ("arn:aws:execute-api:us-east-1:000000000000:lambiclocal/api/POST/users/*", "implicit"),
        ("arn:aws:execute-api:us-east-1:000000000000:lambiclocal/api/GET/users", "implicit"),
        ("arn:aws:execute-api:us-east-1:000000000000:lambiclocal/api/GET/Users/42", "implicit"),
        ([], "implicit"),
    ],
)
def test_resource_globs_match_like_iam(resource: Any, verdict: str) -> None:
    assert output(allow(resource)).evaluate(ARN) == verdict


def test_an_explicit_deny_wins_over_any_allow() -> None:
    policy = output(allow("*"), deny(ARN))
    assert policy.evaluate(ARN) == "deny"
    assert policy.evaluate(ARN.replace("GET", "PUT")) == "allow"


@pytest.mark.parametrize(
    ("action", "verdict"),
    [
        ("execute-api:Invoke", "allow"),
        ("execute-api:*", "allow"),
        ("*", "allow"),
        ("EXECUTE-API:invoke", "allow"),
        (["s3:GetObject", "execute-api:Invoke"], "allow"),
        ("execute-api:ManageConnections", "implicit"),
    ],
)
def test_only_statements_about_invoke_count(action: Any, verdict: str) -> None:
    assert output(allow(ARN, action)).evaluate(ARN) == verdict


def test_not_resource_allows_everything_else() -> None:
    policy = output({"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": ARN})
    assert policy.evaluate(ARN) == "implicit"
    assert policy.evaluate(ARN + "/more") == "allow"


def test_a_single_statement_object_is_accepted() -> None:
    policy = parse_authorizer_output(
        {"principalId": "p", "policyDocument": {"Statement": allow(ARN)}}
    )
    assert policy.evaluate(ARN) == "allow"


def test_context_values_reach_the_integration_as_strings() -> None:
    policy = output(allow(ARN), context={"s": "x", "i": 3, "f": 1.5, "t": True, "no": False})
    assert policy.request_context(latency_ms=12) == {
        "s": "x",
        "i": "3",
        "f": "1.5",
        "t": "true",
        "no": "false",
        "principalId": "user-1",
        "integrationLatency": 12,
    }


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "Allow",
        {"policyDocument": {"Statement": []}},
        {"principalId": "p"},
        {"principalId": "p", "policyDocument": {"Statement": [allow(ARN) | {"Effect": "Maybe"}]}},
        {"principalId": "p", "policyDocument": {"Statement": [{"Effect": "Allow"}]}},
        {"principalId": "p", "policyDocument": {"Statement": [allow(ARN)]}, "context": {"o": {}}},
        {"principalId": "p", "policyDocument": {"Statement": [allow(ARN)]}, "context": {"l": []}},
        {"principalId": "p", "policyDocument": {"Statement": [allow(7)]}},
    ],
)
def test_unusable_answers_are_configuration_errors(answer: Any) -> None:
    with pytest.raises(InvalidOutputError):
        parse_authorizer_output(answer)
