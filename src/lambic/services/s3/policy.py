"""Bucket policies: stored as given, consulted for anonymous (unsigned) requests.

S3 lets an unsigned request through only when the bucket policy grants the action to
everyone (`"Principal": "*"`); otherwise it answers 403 AccessDenied. The local S3
accepts any signed request (see `lambic.services.auth`), so a policy matters here only
for anonymous ones: a browser or curl reading a website bucket. A `PublicRead` bucket
declared in `.lambic/config.json` gets the same policy locally as on AWS
(`lambic.project.resources.public_read_policy`), so the one flag governs both.

Evaluation follows IAM's order for the statements it understands: an explicit Deny
wins, then an Allow, else denied. Statements with a `Condition`, `NotAction`,
`NotResource` or `NotPrincipal` are not evaluated (an anonymous request is never
granted through them), since their keys need request context the local S3 lacks.

    >>> doc = PolicyDocument.parse(b'{"Statement": [{"Effect": "Allow", "Principal": "*",'
    ...     b' "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}')
    >>> doc.allows_anonymous("s3:GetObject", "arn:aws:s3:::site/index.html")
    True
    >>> doc.allows_anonymous("s3:ListBucket", "arn:aws:s3:::site")
    False
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any

from lambic.services.s3.errors import S3Error

_IGNORED = ("Condition", "NotAction", "NotResource", "NotPrincipal")


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def _everyone(principal: object) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _listed(principal.get("AWS"))
    return False


@dataclass(frozen=True)
class PolicyDocument:
    """A bucket policy as stored (`text`, returned by GetBucketPolicy) and its statements."""

    text: str
    statements: tuple[dict[str, Any], ...]

    @classmethod
    def parse(cls, body: bytes) -> PolicyDocument:
        """Check a PutBucketPolicy body; S3's MalformedPolicy for what S3 refuses."""
        text = body.decode("utf-8", "replace").strip()
        if not text.startswith("{"):
            raise S3Error(
                "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'"
            )
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise S3Error(
                "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'"
            ) from exc
        statements = document.get("Statement") if isinstance(document, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list) or not statements:
            raise S3Error("MalformedPolicy", "Missing required field Statement")
        for statement in statements:
            if not isinstance(statement, dict) or statement.get("Effect") not in (
                "Allow",
                "Deny",
            ):
                raise S3Error("MalformedPolicy", "Invalid effect")
            if "Principal" not in statement and "NotPrincipal" not in statement:
                raise S3Error("MalformedPolicy", "Missing required field Principal")
        return cls(text, tuple(statements))

    def allows_anonymous(self, action: str, resource: str) -> bool:
        """Whether everyone may do `action` (e.g. `s3:GetObject`) on `resource` (an ARN)."""
        allowed = False
        for statement in self.statements:
            if any(key in statement for key in _IGNORED):
                continue
            if not _everyone(statement.get("Principal")):
                continue
            actions = _listed(statement.get("Action"))
            if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions):
                continue
            resources = _listed(statement.get("Resource"))
            if not any(fnmatch.fnmatchcase(resource, r) for r in resources):
                continue
            if statement["Effect"] == "Deny":
                return False
            allowed = True
        return allowed
