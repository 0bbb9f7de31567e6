"""Request authentication at the edge: AWS Signature Version 4 (and S3's presigned V2).

By default the local cloud accepts any access key, as most local AWS stand-ins do;
`lambic services --require-auth AKID:SECRET` turns verification on. With identities
(`lambic.project.identities`), a request signed with a configured key is verified
against that key's secret and carries its `Principal` (`ServiceRequest.principal`);
other keys are the default account's, unverified, unless authentication is required
(`require`), when they are refused as unknown. The edge calls
`Authenticator.check(request, service)` after routing and before dispatch:

- always: a presigned URL past its expiry (`X-Amz-Date` + `X-Amz-Expires`, or S3's
  SigV2 `Expires`) is refused, as AWS refuses it ("Request has expired"), and one
  valid for more than a week is refused as malformed; an S3 request signed with
  SigV2's `Authorization: AWS ...` header needs a valid `x-amz-date` (or, without
  one, `Date`) within 15 minutes of the clock: S3 checks this before the signature
  (403 AccessDenied or RequestTimeTooSkewed), so no secret is needed to check it;
- with credentials: the header form (`Authorization: AWS4-HMAC-SHA256 ...`, and S3's
  legacy `AWS AKID:sig` V2 form) and the query form (`X-Amz-Signature=...`, and S3's
  `Signature=` V2 form) are recomputed from the raw request and compared; S3 browser
  form uploads have their policy signature checked. An unknown access key, a missing signature and a
  wrong one each get the error the addressed service gives, in its own protocol's
  shape (S3 XML 403, DynamoDB / EventBridge JSON 400, SQS JSON, SNS / SQS query XML).

A verified request carries a `SigningContext` so S3 can check the per-chunk
signatures of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` uploads.

Errors: `AuthError` (a `ServiceError`) names the failure; `render_auth_error` draws it.
"""

from __future__ import annotations

import base64
import calendar
import email.utils
import hashlib
import hmac
import posixpath
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from lambic.services._auth_errors import AuthError, render_auth_error
from lambic.services._s3_hosts import virtual_host_bucket
from lambic.services.base import ServiceRequest, SigningContext

if TYPE_CHECKING:
    from lambic.project.identities import Identities

__all__ = ["AuthError", "Authenticator", "parse_credentials", "render_auth_error"]

_AUTH_HEADER = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]+)"
)
_SPACES = re.compile(r"\s+")
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_MAX_SKEW_SECONDS = 15 * 60
# S3 sub-resources that SigV2 includes in the canonicalized resource.
_V2_SUBRESOURCES = frozenset(
    {
        "acl",
        "cors",
        "delete",
        "lifecycle",
        "location",
        "logging",
        "notification",
        "partNumber",
        "policy",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    }
)


def _body_sha256(request: ServiceRequest) -> str:
    """The body's hex SHA-256; a spooled body's was computed as it arrived."""
    spooled = request.body_file
    if spooled is None:
        return hashlib.sha256(request.body).hexdigest()
    if spooled.sha256 is not None:
        return spooled.sha256
    digest = hashlib.sha256()
    with open(spooled.path, "rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


def parse_credentials(text: str) -> tuple[str, str]:
    """`"AKID:SECRET"` → (access key, secret key); raises ValueError saying what is wrong."""
    access_key, sep, secret = text.partition(":")
    if not sep or not access_key or not secret:
        raise ValueError("Credentials must look like ACCESS_KEY:SECRET_KEY")
    return access_key, secret


def _amz_date_to_epoch(value: str) -> float:
    return float(calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ")))


_BAD_DATE_MESSAGE = "AWS authentication requires a valid Date or x-amz-date header"


def _http_date_to_epoch(value: str) -> float | None:
    """An RFC 1123 date (or SigV4's `20240101T000000Z`) as epoch seconds; None when
    unreadable or before 1970 (S3 refuses both alike)."""
    parsed = email.utils.parsedate_tz(value)
    if parsed is not None:
        try:
            epoch = float(email.utils.mktime_tz(parsed))
        except (OverflowError, ValueError):
            return None
    else:
        try:
            epoch = _amz_date_to_epoch(value.strip())
        except ValueError:
            return None
    return epoch if epoch >= 0 else None


class _UnknownKey(Exception):
    """A key no secret is known for, when unknown keys are the default account's."""


class Authenticator:
    """Checks requests at the edge. `credentials` (access key → secret) and the keys of
    `identities` are verified; `require` (default: when `credentials` are given) refuses
    unsigned requests and other keys. With neither, any key is accepted (the default)."""

    def __init__(
        self,
        credentials: Mapping[str, str] | None = None,
        *,
        identities: Identities | None = None,
        require: bool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        keys = identities.secrets() if identities is not None else {}
        keys.update(credentials or {})
        self.credentials = keys or None
        self.identities = identities
        self.require = credentials is not None if require is None else require
        self.clock = clock
        self._keys: dict[tuple[str, str, str, str], bytes] = {}

    def check(self, request: ServiceRequest, service: str) -> ServiceRequest:
        """The request (with a `SigningContext` when verified, and the signer's
        `principal` when configured); raises `AuthError`."""
        self.check_head(request, service)
        if self.credentials is None and not self.require:
            return request
        if service == "s3" and request.method == "OPTIONS":
            return request  # a CORS preflight: S3 answers it unauthenticated
        try:
            verified, access_key = self._verify(request, service)
        except _UnknownKey:
            return request  # the default account's, as without identities
        if self.identities is not None and access_key is not None:
            principal = self.identities.principal(access_key)
            if principal is not None:
                return replace(verified, principal=principal)
        return verified

    def _verify(self, request: ServiceRequest, service: str) -> tuple[ServiceRequest, str | None]:
        """The verified request and the access key it was signed with (None: unsigned,
        allowed when authentication is not required)."""
        if service == "s3" and request.method == "POST" and "authorization" not in request.headers:
            content_type = request.headers.get("content-type", "")
            if content_type.lower().startswith("multipart/form-data"):
                return request, self._verify_post_policy(request, content_type)
        auth = request.headers.get("authorization")
        if auth is not None:
            return self._verify_header(request, service, auth)
        query = request.query_string
        if "X-Amz-Signature" in query:
            return self._verify_query(request, service)
        if service == "s3" and "Signature=" in query and "AWSAccessKeyId=" in query:
            return request, self._verify_v2_query(request)
        if not self.require:
            return request, None
        raise AuthError("missing", service)

    def check_head(self, request: ServiceRequest, service: str) -> None:
        """The checks a request's head decides without any secret: a presigned URL's
        validity window, a SigV2 request's date. Raises `AuthError`."""
        query = request.query_string
        if query and ("X-Amz-Expires" in query or "Expires=" in query):
            self._check_expiry(request)
        if service == "s3":
            auth = request.headers.get("authorization")
            if auth is not None and not auth.startswith("AWS4-"):
                self._check_s3_header(request, auth)

    # -- expiry ------------------------------------------------------------------

    def _check_expiry(self, request: ServiceRequest) -> None:
        params = request.query
        now = self.clock()
        if "X-Amz-Expires" in params and "X-Amz-Date" in params:
            try:
                expires = int(params["X-Amz-Expires"])
                signed_at = _amz_date_to_epoch(params["X-Amz-Date"])
            except ValueError as exc:
                raise AuthError(
                    "malformed", "s3", "X-Amz-Date / X-Amz-Expires are invalid"
                ) from exc
            if expires > _MAX_PRESIGN_SECONDS:
                raise AuthError(
                    "query_range",
                    "s3",
                    "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                    f"X-Amz-Expires must be less than {_MAX_PRESIGN_SECONDS} seconds",
                )
            if expires < 0:
                raise AuthError("query_range", "s3", "X-Amz-Expires must be non-negative")
            if now > signed_at + expires:
                raise AuthError(
                    "expired",
                    "s3",
                    fields={
                        "X-Amz-Expires": str(expires),
                        "Expires": _iso(signed_at + expires),
                        "ServerTime": _iso(now),
                    },
                )
        elif "Expires" in params and "AWSAccessKeyId" in params:
            try:
                deadline = int(params["Expires"])
            except ValueError as exc:
                raise AuthError("malformed", "s3", "Expires is not a number") from exc
            if now > deadline:
                raise AuthError(
                    "expired",
                    "s3",
                    fields={"Expires": _iso(deadline), "ServerTime": _iso(now)},
                )

    # -- S3's other Authorization headers ---------------------------------------------

    def _check_s3_header(self, request: ServiceRequest, auth: str) -> None:
        """An S3 Authorization header that is not SigV4: SigV2's `AWS AKID:signature`
        (its date checked), else refused as S3 refuses it: empty is AccessDenied, a
        malformed SigV2 or another scheme 400 InvalidArgument."""
        if auth.startswith("AWS "):
            access_key, colon, signature = auth[4:].strip().partition(":")
            if not (access_key and colon and signature):
                raise AuthError(
                    "invalid_header",
                    "s3",
                    "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
                    fields={"ArgumentName": "Authorization", "ArgumentValue": auth},
                )
            self._check_v2_date(request)
        elif not auth.strip():
            raise AuthError("missing", "s3")
        else:
            raise AuthError(
                "invalid_header",
                "s3",
                "Unsupported Authorization Type",
                fields={"ArgumentName": "Authorization", "ArgumentValue": auth},
            )

    # -- SigV2's request date ------------------------------------------------------

    def _check_v2_date(self, request: ServiceRequest) -> None:
        """`x-amz-date` when sent (even empty: it then overrides `Date`), else `Date`:
        unreadable or before 1970 is AccessDenied, more than 15 minutes away from the
        clock RequestTimeTooSkewed."""
        headers = request.headers
        value = headers.get("x-amz-date")
        if value is None:
            value = headers.get("date", "")
        signed_at = _http_date_to_epoch(value)
        if signed_at is None:
            raise AuthError("date", "s3", _BAD_DATE_MESSAGE)
        now = self.clock()
        if abs(now - signed_at) > _MAX_SKEW_SECONDS:
            raise AuthError(
                "skewed",
                "s3",
                fields={
                    "RequestTime": value,
                    "ServerTime": _iso(now),
                    "MaxAllowedSkewMilliseconds": str(_MAX_SKEW_SECONDS * 1000),
                },
            )

    # -- SigV4 -------------------------------------------------------------------

    def _secret(self, access_key: str, service: str) -> str:
        secret = (self.credentials or {}).get(access_key)
        if secret is None:
            if not self.require:
                raise _UnknownKey(access_key)
            raise AuthError("unknown_key", service, fields={"AWSAccessKeyId": access_key})
        return secret

    def _signing_key(self, secret: str, date: str, region: str, service: str) -> bytes:
        cache_key = (secret, date, region, service)
        key = self._keys.get(cache_key)
        if key is None:
            key = _hmac(("AWS4" + secret).encode(), date)
            for part in (region, service, "aws4_request"):
                key = _hmac(key, part)
            self._keys[cache_key] = key
        return key

    def _verify_header(
        self, request: ServiceRequest, service: str, auth: str
    ) -> tuple[ServiceRequest, str | None]:
        match = _AUTH_HEADER.match(auth)
        if match is None:
            if auth.startswith("AWS ") and service == "s3":
                access_key, _, signature = auth[4:].strip().partition(":")
                # With x-amz-date the Date line is empty (the header is signed below).
                date = "" if "x-amz-date" in request.headers else request.headers.get("date", "")
                self._verify_v2(request, access_key, signature, date)
                return request, access_key
            if not self.require:
                return request, None  # S3 answers a malformed header itself
            raise AuthError("missing", service)
        credential, signed, signature = match.group("credential", "signed", "signature")
        timestamp = request.headers.get("x-amz-date") or _sigv4_date(request.headers.get("date"))
        payload = request.headers.get("x-amz-content-sha256")
        if payload is None:
            payload = _body_sha256(request)
        elif service == "s3" and len(payload) == 64 and _body_sha256(request) != payload:
            # AWS checks a declared payload hash against the body it received.
            raise AuthError("content_sha256", service)
        return self._compare(
            request,
            service,
            credential,
            signed,
            signature,
            timestamp,
            payload,
            exclude_signature=False,
        )

    def _verify_query(
        self, request: ServiceRequest, service: str
    ) -> tuple[ServiceRequest, str | None]:
        params = request.query
        payload = "UNSIGNED-PAYLOAD" if service == "s3" else _EMPTY_SHA256
        payload = request.headers.get("x-amz-content-sha256", payload)
        return self._compare(
            request,
            service,
            params.get("X-Amz-Credential", ""),
            params.get("X-Amz-SignedHeaders", ""),
            params.get("X-Amz-Signature", ""),
            params.get("X-Amz-Date", ""),
            payload,
            exclude_signature=True,
        )

    def _compare(
        self,
        request: ServiceRequest,
        service: str,
        credential: str,
        signed: str,
        signature: str,
        timestamp: str,
        payload: str,
        *,
        exclude_signature: bool,
    ) -> tuple[ServiceRequest, str]:
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise AuthError("signature", service, "Credential is malformed")
        access_key, date, region, scope_service, _ = parts
        secret = self._secret(access_key, service)
        if not exclude_signature and self.require:
            # Only when authentication is required: recorded requests and frozen test
            # clocks keep working with configured keys otherwise.
            self._check_skew(service, timestamp)
        canonical = _canonical_request(request, service, signed, payload, exclude_signature)
        scope = f"{date}/{region}/{scope_service}/aws4_request"
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = self._signing_key(secret, date, region, scope_service)
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise AuthError(
                "signature",
                service,
                fields={
                    "AWSAccessKeyId": access_key,
                    "StringToSign": string_to_sign,
                    "SignatureProvided": signature,
                    "CanonicalRequest": canonical,
                },
            )
        signing = SigningContext(key, timestamp, scope, signature)
        return replace(request, signing=signing), access_key

    def _check_skew(self, service: str, timestamp: str) -> None:
        """AWS refuses a header-signed request more than 15 minutes from its clock."""
        try:
            signed_at = _amz_date_to_epoch(timestamp)
        except ValueError as exc:
            raise AuthError("signature", service, "X-Amz-Date is missing or invalid") from exc
        now = self.clock()
        if abs(now - signed_at) > _MAX_SKEW_SECONDS:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            raise AuthError(
                "skewed",
                service,
                f"Signature expired: {timestamp} is now earlier than "
                f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now - _MAX_SKEW_SECONDS))} "
                f"({stamp} - 15 min.)",
                fields={
                    "RequestTime": timestamp,
                    "ServerTime": _iso(now),
                    "MaxAllowedSkewMilliseconds": str(_MAX_SKEW_SECONDS * 1000),
                },
            )

    # -- S3 browser form uploads (generate_presigned_post) --------------------------

    def _verify_post_policy(self, request: ServiceRequest, content_type: str) -> str | None:
        """Check the policy signature of a POST Object form (SigV4 or SigV2); the access
        key that signed it (None: an unsigned form)."""
        from lambic.services.s3.errors import S3Error
        from lambic.services.s3.post import parse_form, parse_spooled_form

        try:
            if request.body_file is not None:
                form = parse_spooled_form(content_type, request.body_file.path)
            else:
                form = parse_form(content_type, request.body)
        except S3Error:
            return None  # malformed: S3 refuses it with its own error and stores nothing
        policy = form.get("policy")
        if policy is None:
            if not self.require:
                return None  # an anonymous upload: S3 decides it
            raise AuthError("missing", "s3")
        if form.get("x-amz-signature") is not None:
            access_key, expected, provided = self._post_policy_v4(form.get, policy)
        else:
            if form.get("signature") is None:
                return None  # S3 refuses a form without one itself (400 InvalidArgument)
            access_key = form.get("AWSAccessKeyId") or ""
            secret = self._secret(access_key, "s3")
            digest = hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()
            expected, provided = base64.b64encode(digest).decode(), form.get("signature") or ""
        if not hmac.compare_digest(expected, provided):
            raise AuthError("signature", "s3", fields={"SignatureProvided": provided})
        return access_key

    def _post_policy_v4(
        self, fields: Callable[[str], str | None], policy: str
    ) -> tuple[str, str, str]:
        """(access key, expected, provided signature) of a SigV4-signed upload policy."""
        parts = (fields("x-amz-credential") or "").split("/")
        if len(parts) != 5:
            raise AuthError("signature", "s3", "x-amz-credential is malformed")
        access_key, date, region, scope_service, _ = parts
        key = self._signing_key(self._secret(access_key, "s3"), date, region, scope_service)
        expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
        return access_key, expected, fields("x-amz-signature") or ""

    # -- S3's presigned SigV2 (boto3's default for generate_presigned_url on S3) -----

    def _verify_v2_query(self, request: ServiceRequest) -> str:
        params = request.query
        access_key = params["AWSAccessKeyId"]
        self._verify_v2(request, access_key, params.get("Signature", ""), params["Expires"])
        return access_key

    def _verify_v2(
        self, request: ServiceRequest, access_key: str, signature: str, date_line: str
    ) -> None:
        """S3's Signature Version 2 (HMAC-SHA1), header or presigned-query form."""
        secret = self._secret(access_key, "s3")
        bucket = virtual_host_bucket(request.host)
        resource = (f"/{bucket}" if bucket else "") + request.path
        if resource.count("/") == 1 and resource != "/":
            resource += "/"  # a bucket-level resource is signed as "/bucket/"
        subresources = sorted(
            (name, value) for name, value in request.query_params if name in _V2_SUBRESOURCES
        )
        if subresources:
            resource += "?" + "&".join(f"{n}={v}" if v else n for n, v in subresources)
        amz: dict[str, list[str]] = {}
        for name, value in request.headers.raw_items():
            if name.lower().startswith("x-amz-"):
                amz.setdefault(name.lower(), []).append(value.strip())
        string_to_sign = "\n".join(
            [
                request.method,
                request.headers.get("content-md5", ""),
                request.headers.get("content-type", ""),
                date_line,
                *(f"{name}:{','.join(values)}" for name, values in sorted(amz.items())),
                resource,
            ]
        )
        digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        if not hmac.compare_digest(expected, signature):
            raise AuthError(
                "signature",
                "s3",
                fields={
                    "AWSAccessKeyId": access_key,
                    "StringToSign": string_to_sign,
                    "SignatureProvided": signature,
                },
            )


def _sigv4_date(date: str | None) -> str:
    """SigV4's timestamp from a `Date` header, which signs in place of `X-Amz-Date`
    when a client sends one (botocore does); "" when there is none."""
    epoch = _http_date_to_epoch(date) if date else None
    return "" if epoch is None else time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _sent_text(value: str) -> str:
    """A header value as the client signed it: the edge reads header bytes as latin-1,
    while a signer hashes its text as UTF-8 (non-ASCII metadata); AWS signs the bytes."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _canonical_request(
    request: ServiceRequest, service: str, signed: str, payload: str, exclude_signature: bool
) -> str:
    # S3 signs the path exactly as sent; other services sign it normalised and encoded
    # once more (botocore and the AWS SigV4 spec do the same).
    path = request.path or "/"
    if service != "s3":
        normalized = posixpath.normpath(path) if path != "/" else "/"
        if path.endswith("/") and normalized != "/":
            normalized += "/"
        path = quote(normalized, safe="/~")
    pairs = [
        (_encode(name), _encode(value))
        for name, value in parse_qsl(request.query_string, keep_blank_values=True)
        if not (exclude_signature and name == "X-Amz-Signature")
    ]
    query = "&".join(f"{name}={value}" for name, value in sorted(pairs))
    names = signed.split(";")
    lines = []
    for name in names:
        values = request.headers.get_all(name)
        lines.append(
            f"{name}:{','.join(_SPACES.sub(' ', _sent_text(v).strip()) for v in values)}\n"
        )
    return "\n".join([request.method, path, query, "".join(lines), signed, payload])
