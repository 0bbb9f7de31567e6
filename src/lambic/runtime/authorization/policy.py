"""A Lambda authorizer's output, checked and evaluated as API Gateway does.

API Gateway (REST APIs) reads the authorizer's JSON answer, then decides:

    output --parse_authorizer_output--> AuthorizerOutput (or InvalidOutputError: a 500)
           --evaluate(method ARN)--> "allow" | "deny" (explicit) | "implicit" (no match)

Evaluation follows IAM's rules as API Gateway applies them to `execute-api:Invoke`:
an explicit `Deny` statement matching the method ARN wins over any `Allow`; without
a matching `Allow` the request is implicitly denied. `Resource` (or `NotResource`)
entries are ARN globs where `*` matches any run of characters (`/` included) and `?`
one character; `Action` (or `NotAction`) entries glob the same way, case-insensitively.

The `context` map reaches the function as `requestContext.authorizer` with every
value a string (REST APIs stringify numbers and booleans), beside `principalId` and
`integrationLatency`; an object or array value is a configuration error (500).

    >>> output = parse_authorizer_output({"principalId": "u", "policyDocument": {
    ...     "Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke",
    ...     "Effect": "Allow", "Resource": "arn:aws:execute-api:*:*:api/dev/GET/*"}]},
    ...     "context": {"n": 1, "ok": True}})
    >>> output.evaluate("arn:aws:execute-api:us-east-1:1:api/dev/GET/items")
    'allow'
    >>> output.request_context(latency_ms=3)
    {'n': '1', 'ok': 'true', 'principalId': 'u', 'integrationLatency': 3}
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AuthorizerOutput",
    "InvalidOutputError",
    "create_method_arn",
    "parse_authorizer_output",
]

_INVOKE_ACTION = "execute-api:invoke"


class InvalidOutputError(ValueError):
    """The authorizer answered something API Gateway cannot use (it answers 500)."""


def create_method_arn(
    *, region: str, account_id: str, api_id: str, stage: str, method: str, path: str
) -> str:
    """The `methodArn` API Gateway passes to an authorizer for one request.

    The path is the request's own (not the resource template), without its leading
    slash; the root keeps an empty last segment ("/dev/GET/").

        >>> create_method_arn(region="us-east-1", account_id="1", api_id="a", stage="dev",
        ...                   method="GET", path="/users/42")
        'arn:aws:execute-api:us-east-1:1:a/dev/GET/users/42'
    """
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{path[1:]}"


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches_any(patterns: tuple[str, ...], value: str, *, ignore_case: bool) -> bool:
    return any(_glob(p, ignore_case).fullmatch(value) is not None for p in patterns)


@dataclass(frozen=True, slots=True)
class _Statement:
    allow: bool
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...]
    not_resources: bool

    def applies(self, method_arn: str) -> bool:
        action = _matches_any(self.actions, _INVOKE_ACTION, ignore_case=True)
        if action == self.not_actions:
            return False
        resource = _matches_any(self.resources, method_arn, ignore_case=False)
        return resource != self.not_resources


@dataclass(frozen=True, slots=True)
class AuthorizerOutput:
    """A checked authorizer answer: who the caller is, what they may do, the context."""

    principal_id: str
    statements: tuple[_Statement, ...]
    context: Mapping[str, str]

    def evaluate(self, method_arn: str) -> str:
        """ "allow", "deny" (an explicit Deny matched) or "implicit" (nothing allowed it)."""
        allowed = False
        for statement in self.statements:
            if statement.applies(method_arn):
                if not statement.allow:
                    return "deny"  # an explicit deny wins, whatever else allows
                allowed = True
        return "allow" if allowed else "implicit"

    def request_context(self, latency_ms: int) -> dict[str, Any]:
        """`requestContext.authorizer` as the integration receives it."""
        return {**self.context, "principalId": self.principal_id, "integrationLatency": latency_ms}


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)  # an empty list matches nothing (AuthResponse(routes=[]))
    raise InvalidOutputError(f"{field} must be a string or a list of strings, got {value!r}")


def _statement(raw: Any) -> _Statement:
    if not isinstance(raw, Mapping):
        raise InvalidOutputError(f"a policy statement must be an object, got {raw!r}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise InvalidOutputError(f'Effect must be "Allow" or "Deny", got {effect!r}')
    action_key = "Action" if "Action" in raw else "NotAction"
    resource_key = "Resource" if "Resource" in raw else "NotResource"
    if action_key not in raw or resource_key not in raw:
        raise InvalidOutputError("a policy statement needs Action and Resource")
    return _Statement(
        allow=effect == "Allow",
        actions=_strings(raw[action_key], action_key),
        not_actions=action_key == "NotAction",
        resources=_strings(raw[resource_key], resource_key),
        not_resources=resource_key == "NotResource",
    )


def _context_value(name: str, value: Any) -> str | None:
    # REST APIs hand every context value to the integration as a string.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    if value is None:
        return None
    raise InvalidOutputError(
        f"context value {name!r} is a {type(value).__name__}; API Gateway accepts only "
        "strings, numbers and booleans (serialise objects to a JSON string)"
    )


def parse_authorizer_output(output: Any) -> AuthorizerOutput:
    """Check an authorizer's answer as API Gateway does; raise `InvalidOutputError`."""
    if not isinstance(output, Mapping):
        raise InvalidOutputError(f"the authorizer returned {type(output).__name__}, not an object")
    principal = output.get("principalId")
    if principal is None:
        raise InvalidOutputError("the authorizer's answer has no principalId")
    document = output.get("policyDocument")
    if not isinstance(document, Mapping) or "Statement" not in document:
        raise InvalidOutputError("the authorizer's answer has no policyDocument.Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise InvalidOutputError("policyDocument.Statement must be a list of statements")
    raw_context = output.get("context") or {}
    if not isinstance(raw_context, Mapping):
        raise InvalidOutputError("the authorizer's context must be an object")
    context: dict[str, str] = {}
    for name, value in raw_context.items():
        text = _context_value(str(name), value)
        if text is not None:
            context[str(name)] = text
    return AuthorizerOutput(
        principal_id=str(principal),
        statements=tuple(_statement(s) for s in raw_statements),
        context=context,
    )
