"""`IAMAuthorizer`: a request must be SigV4-signed, checked by the local services' rules.

The signature is recomputed by `lambic.services.auth.Authenticator` (the one the edge
port uses) for the `execute-api` service, against the local cloud's credentials. What
API Gateway answers when it fails, all 403 with its `x-amzn-ErrorType`:

- no signature at all: `{"message":"Missing Authentication Token"}`;
- an `Authorization` header that is not SigV4: IncompleteSignatureException, naming the
  parts it lacks;
- an unknown access key: "The security token included in the request is invalid.";
- a wrong signature: InvalidSignatureException with the canonical request and string to
  sign API Gateway expected; a timestamp more than 15 minutes off: "Signature expired".

A signed request reaches the function with the caller in `requestContext.identity`
(accessKey, accountId, caller, user, userArn).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambic.services._auth_errors import AuthError
from lambic.services.auth import Authenticator
from lambic.services.base import Headers, ServiceRequest

__all__ = ["SigV4Refusal", "SigV4Verifier"]

_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)


@dataclass(frozen=True, slots=True)
class SigV4Refusal:
    """API Gateway's answer to a request that failed IAM authorization."""

    message: str
    error_type: str

    @property
    def body(self) -> bytes:
        return json.dumps({"message": self.message}, separators=(",", ":")).encode()


def _incomplete(authorization: str, headers: Headers) -> SigV4Refusal:
    lacking = [
        f"Authorization header requires '{part}' parameter."
        for part in ("Credential", "Signature", "SignedHeaders")
        if f"{part}=" not in authorization
    ]
    if "x-amz-date" not in headers and "date" not in headers:
        lacking.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return SigV4Refusal(
        " ".join([*lacking, f"Authorization={authorization}"]), "IncompleteSignatureException"
    )


def _refusal(error: AuthError) -> SigV4Refusal:
    if error.kind == "missing":
        return SigV4Refusal("Missing Authentication Token", "MissingAuthenticationTokenException")
    if error.kind == "unknown_key":
        return SigV4Refusal(
            "The security token included in the request is invalid.", "UnrecognizedClientException"
        )
    if error.kind == "skewed" and error.detail:
        return SigV4Refusal(error.detail, "InvalidSignatureException")
    fields = error.fields
    if "CanonicalRequest" in fields:
        message = (
            f"{_SIGNATURE_MESSAGE}\n\nThe Canonical String for this request should have been\n"
            f"'{fields['CanonicalRequest']}'\n\nThe String-to-Sign should have been\n"
            f"'{fields['StringToSign']}'\n"
        )
        return SigV4Refusal(message, "InvalidSignatureException")
    return SigV4Refusal(error.detail or _SIGNATURE_MESSAGE, "InvalidSignatureException")


class SigV4Verifier:
    """Checks requests for `IAMAuthorizer` routes against `credentials` (key -> secret)."""

    def __init__(self, credentials: Mapping[str, str], *, account_id: str) -> None:
        self._authenticator = Authenticator(credentials)
        self._account_id = account_id

    def check(
        self,
        *,
        method: str,
        path: str,
        query_string: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
    ) -> dict[str, Any] | SigV4Refusal:
        """The caller's `requestContext.identity` fields, or the refusal."""
        request = ServiceRequest(method, path or "/", query_string, Headers(headers), body)
        authorization = request.headers.get("authorization")
        if authorization is not None and not authorization.startswith("AWS4-HMAC-SHA256 "):
            return _incomplete(authorization, request.headers)
        try:
            verified = self._authenticator.check(request, "execute-api")
        except AuthError as error:
            return _refusal(error)
        if verified.signing is None:  # the Authenticator accepted it unsigned
            return _refusal(AuthError("missing", "execute-api"))
        credential = verified.headers.get("authorization") or ""
        access_key = credential.partition("Credential=")[2].split("/", 1)[0]
        if not access_key:
            access_key = verified.query.get("X-Amz-Credential", "").split("/", 1)[0]
        account = self._account_id
        return {
            "accessKey": access_key,
            "accountId": account,
            "caller": account,
            "user": account,
            "userArn": f"arn:aws:iam::{account}:root",
        }
