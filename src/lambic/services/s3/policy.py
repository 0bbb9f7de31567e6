"""Bucket policies: validated as PutBucketPolicy validates them, stored as sent.

AWS refuses a policy with 400 MalformedPolicy and a message naming the problem: not
JSON, an unknown Version, no Statement, a statement without Effect, Principal,
Action or Resource, an action outside S3, or a resource outside the bucket. We mirror
those checks and messages. The policy is stored and returned byte for byte.

Stored, not evaluated: requests are authorized as before (see docs/internals.md for
where evaluation plugs in).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from lambic.services.s3.errors import S3Error

SETTING = "policy"
MAX_BYTES = 20 * 1024
_VERSIONS = ("2012-10-17", "2008-10-17")
_PRINCIPAL_KINDS = ("AWS", "Service", "CanonicalUser", "Federated")


def _malformed(message: str) -> S3Error:
    return S3Error("MalformedPolicy", message)


def _strings(value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise _malformed(f"Invalid {field}")
    return items


def validate(document: bytes, bucket: str) -> str:
    """The policy text, or AWS's MalformedPolicy for what PutBucketPolicy refuses."""
    if len(document) > MAX_BYTES:
        raise S3Error("PolicyTooLarge", "Policy exceeds the maximum allowed document size.")
    try:
        text = document.decode("utf-8")
        policy = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _malformed("Policies must be valid JSON and the first byte must be '{'") from exc
    if not isinstance(policy, dict) or not text.lstrip().startswith("{"):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    if "Version" in policy and policy["Version"] not in _VERSIONS:
        raise _malformed("The policy must contain a valid version string")
    statements = policy.get("Statement")
    if statements is None:
        raise _malformed("Missing required field Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            raise _malformed("Statement is not well formed")
        _check_statement(statement, bucket)
    return text


def _check_statement(statement: dict[str, Any], bucket: str) -> None:
    effect = statement.get("Effect")
    if effect is None:
        raise _malformed("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise _malformed(f"Invalid effect: {effect}")
    if effect == "Allow" and "NotPrincipal" in statement:
        raise _malformed("Allow with NotPrincipal is not allowed.")
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal is None:
        raise _malformed("Missing required field Principal")
    if principal != "*" and not (
        isinstance(principal, dict) and principal and set(principal) <= set(_PRINCIPAL_KINDS)
    ):
        raise _malformed("Invalid principal in policy")
    actions = statement.get("Action", statement.get("NotAction"))
    if actions is None:
        raise _malformed("Missing required field Action")
    for action in _strings(actions, "action"):
        if action != "*" and not action.lower().startswith("s3:"):
            raise _malformed("Policy has invalid action")
    resources = statement.get("Resource", statement.get("NotResource"))
    if resources is None:
        raise _malformed("Missing required field Resource")
    for resource in _strings(resources, "resource"):
        if not _names_bucket(resource, bucket):
            raise _malformed("Policy has invalid resource")
    condition = statement.get("Condition")
    if condition is not None and not isinstance(condition, dict):
        raise _malformed("Invalid Condition")


def _names_bucket(resource: str, bucket: str) -> bool:
    """AWS accepts only resources in the bucket the policy is attached to."""
    if resource == "*":
        return True
    if not resource.startswith("arn:aws:s3:::"):
        return False
    target = resource[len("arn:aws:s3:::") :]
    name = target.split("/", 1)[0]
    return fnmatch.fnmatchcase(bucket, name) if any(c in name for c in "*?") else name == bucket
