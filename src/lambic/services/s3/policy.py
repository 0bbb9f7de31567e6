"""Bucket policies: validated as PutBucketPolicy validates them, stored as sent, and
consulted for anonymous (unsigned) requests.

AWS refuses a policy with 400 MalformedPolicy and a message naming the problem: not
JSON, an unknown Version, no Statement, a statement without Effect, Principal,
Action or Resource, an action outside S3, or a resource outside the bucket. We mirror
those checks and messages. The policy is stored (the bucket setting `SETTING`, with
the bucket's other one-document sub-resources) and returned byte for byte.

S3 lets an unsigned request through only when the bucket policy grants the action to
everyone (`"Principal": "*"`); otherwise it answers 403 AccessDenied. With identities
configured, a signed request's principal is matched by its account, user ARN and
canonical id, and `principals` weighs the decision across accounts. Without, a signed
request comes from the local cloud's one account, whose principals hold every
permission locally (there are no IAM policies to consult), so for them only an
explicit Deny matters: a Deny to everyone, to the account (`"000000000000"`, its root ARN) or any
`NotPrincipal` that leaves them in, whose Action, Resource and Condition match. A
`PublicRead` bucket declared in `.lambic/config.json` gets the same policy locally as
on AWS (`lambic.project.resources.public_read_policy`), so the one flag governs both.

Evaluation follows IAM's order: an explicit Deny wins, then an Allow, else no
decision. `Condition` blocks are decided by `conditions` against the request's context
(`access_context`); `NotAction`, `NotResource` and `NotPrincipal` as IAM reads them.

    >>> doc = PolicyDocument.parse(b'{"Statement": [{"Effect": "Allow", "Principal": "*",'
    ...     b' "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}', "site")
    >>> doc.evaluate("s3:GetObject", "arn:aws:s3:::site/index.html", None, NO_CONTEXT)
    'Allow'
    >>> doc.evaluate("s3:ListBucket", "arn:aws:s3:::site", None, NO_CONTEXT) is None
    True
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lambic.project.account import LOCAL_ACCOUNT_ID
from lambic.project.identities import Principal
from lambic.services.s3 import conditions
from lambic.services.s3.errors import S3Error

SETTING = "policy"
MAX_BYTES = 20 * 1024
_VERSIONS = ("2012-10-17", "2008-10-17")
_PRINCIPAL_KINDS = ("AWS", "Service", "CanonicalUser", "Federated")
_NOT_JSON = "Policies must be valid JSON and the first byte must be '{'"


class _NoContext:
    def values(self, key: str) -> list[str] | None:
        return None


#: A request context with no keys (conditions on any key see it missing).
NO_CONTEXT: conditions.Context = _NoContext()


@dataclass(frozen=True)
class PolicyDocument:
    """A bucket policy as stored (`text`, returned by GetBucketPolicy) and its statements."""

    text: str
    statements: tuple[dict[str, Any], ...]

    @classmethod
    def parse(cls, document: bytes, bucket: str | None = None) -> PolicyDocument:
        """Check a PutBucketPolicy body as AWS does; MalformedPolicy (PolicyTooLarge)
        for what AWS refuses. Resources are checked against `bucket` when given."""
        if len(document) > MAX_BYTES:
            raise S3Error("PolicyTooLarge", "Policy exceeds the maximum allowed document size.")
        try:
            text = document.decode("utf-8")
            policy = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _malformed(_NOT_JSON) from exc
        if not isinstance(policy, dict) or not text.lstrip().startswith("{"):
            raise _malformed(_NOT_JSON)
        if "Version" in policy and policy["Version"] not in _VERSIONS:
            raise _malformed("The policy must contain a valid version string")
        statements = policy.get("Statement")
        if isinstance(statements, dict):
            statements = [statements]
        if not statements:
            raise _malformed("Missing required field Statement")
        if not isinstance(statements, list):
            raise _malformed("Statement is not well formed")
        for statement in statements:
            if not isinstance(statement, dict):
                raise _malformed("Statement is not well formed")
            _check_statement(statement, bucket)
        return cls(text, tuple(statements))

    def is_public(self) -> bool:
        """Whether it grants anything to everyone (what BlockPublicPolicy refuses):
        an Allow to `*` without a Condition narrowing it."""
        return any(
            statement["Effect"] == "Allow"
            and "Condition" not in statement
            and _everyone(statement.get("Principal"))
            for statement in self.statements
        )

    def allows_anonymous(
        self, action: str, resource: str, context: conditions.Context = NO_CONTEXT
    ) -> bool:
        """Whether everyone may do `action` (e.g. `s3:GetObject`) on `resource` (an ARN)."""
        return self.evaluate(action, resource, None, context) == "Allow"

    def evaluate(
        self,
        action: str,
        resource: str,
        account: str | None,
        context: conditions.Context,
        caller: Principal | None = None,
    ) -> str | None:
        """ "Deny", "Allow" or None (no statement applies) for `action` (e.g.
        `s3:GetObject`) on `resource` (an ARN) by a caller of `account` (None:
        anonymous); `caller`, when known, also matches its user ARN and canonical id."""
        allowed = False
        for statement in self.statements:
            if not _applies(statement, action, resource, account, context, caller):
                continue
            if statement["Effect"] == "Deny":
                return "Deny"
            allowed = True
        return "Allow" if allowed else None


def _applies(
    statement: dict[str, Any],
    action: str,
    resource: str,
    account: str | None,
    context: conditions.Context,
    caller: Principal | None = None,
) -> bool:
    if "NotPrincipal" in statement:
        if _names_caller(statement["NotPrincipal"], account, caller):
            return False
    elif not _names_caller(statement.get("Principal"), account, caller):
        return False
    lowered = action.lower()
    if "NotAction" in statement:
        if any(_like(lowered, a.lower()) for a in _listed(statement["NotAction"])):
            return False
    elif not any(_like(lowered, a.lower()) for a in _listed(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(_like(resource, r) for r in _listed(statement["NotResource"])):
            return False
    elif not any(_like(resource, r) for r in _listed(statement.get("Resource"))):
        return False
    block = statement.get("Condition")
    return block is None or conditions.holds(block, context)


def _like(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _names_caller(principal: object, account: str | None, caller: Principal | None) -> bool:
    """Whether a Principal names the caller: everyone always; its account (the id or
    root ARN: IAM delegates to every principal of an account named so) when signed;
    with identities also its user ARN and canonical user id. Roles and services are
    not told apart locally, so they match nobody."""
    if _everyone(principal):
        return True
    if account is None or not isinstance(principal, dict):
        return False
    names = _listed(principal.get("AWS"))
    if account in names or f"arn:aws:iam::{account}:root" in names:
        return True
    if caller is None:
        return False
    return caller.arn in names or caller.account.canonical_id in _listed(
        principal.get("CanonicalUser")
    )


def validate(document: bytes, bucket: str) -> str:
    """The policy text to store, or AWS's MalformedPolicy for what PutBucketPolicy refuses."""
    return PolicyDocument.parse(document, bucket).text


@lru_cache(maxsize=256)
def stored(text: str) -> PolicyDocument:
    """A stored (already validated) policy, parsed once per distinct text: anonymous
    requests consult it on every call."""
    return PolicyDocument.parse(text.encode())


def _malformed(message: str) -> S3Error:
    return S3Error("MalformedPolicy", message)


def _strings(value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise _malformed(f"Invalid {field}")
    return items


def _check_statement(statement: dict[str, Any], bucket: str | None) -> None:
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
        if bucket is not None and not _names_bucket(resource, bucket):
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


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def caller_account(anonymous: bool) -> str | None:
    """The account a request comes from: the local one when signed, None when not."""
    return None if anonymous else LOCAL_ACCOUNT_ID


def _everyone(principal: object) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _listed(principal.get("AWS"))
    return False
