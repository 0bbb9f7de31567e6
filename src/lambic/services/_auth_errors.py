"""Authentication failures drawn in each service's own error shape.

AWS answers the same failure differently per protocol: S3 with an XML `<Error>` and
403, DynamoDB and EventBridge with a JSON `__type` and 400, SQS (JSON) with its
query-compatible code, SNS and SQS's query protocol with an `<ErrorResponse>` 403.
"""

from __future__ import annotations

import base64
import json
import uuid

from lambic.services._query_xml import error_response, escape
from lambic.services.base import ServiceError, ServiceResponse

_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)
_S3_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_TOKEN_MESSAGE = "The security token included in the request is invalid."
_MISSING_MESSAGE = "Request is missing Authentication Token"


class AuthError(ServiceError):
    """A request failed authentication.

    `kind`: "signature" | "unknown_key" | "missing" | "expired" | "malformed" |
    "query_range" | "content_sha256" | "skewed" | "date" | "invalid_header";
    `service` is the service the request was routed to.
    """

    def __init__(
        self,
        kind: str,
        service: str,
        detail: str | None = None,
        *,
        fields: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.service = service
        self.detail = detail
        self.fields = fields or {}
        super().__init__(f"{kind} ({service}): {detail or ''}".rstrip(": "))


def render_auth_error(error: AuthError, service: str, protocol: str) -> ServiceResponse:
    """`protocol`: "s3" | "json" (DynamoDB, EventBridge) | "sqs-json" | "query"."""
    if protocol == "s3":
        return _s3(error)
    if protocol == "query":
        return _query(error, service)
    return _json(error, sqs=protocol == "sqs-json")


def _s3(error: AuthError) -> ServiceResponse:
    code, message, status = {
        "signature": ("SignatureDoesNotMatch", _S3_SIGNATURE_MESSAGE, 403),
        "unknown_key": (
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
        ),
        "missing": ("AccessDenied", "Access Denied", 403),
        "expired": ("AccessDenied", "Request has expired", 403),
        "malformed": ("AuthorizationQueryParametersError", error.detail or "", 400),
        # A presigned validity out of range: S3 answers it 403, as a request it refuses.
        "query_range": ("AuthorizationQueryParametersError", error.detail or "", 403),
        "date": ("AccessDenied", error.detail or "Access Denied", 403),
        "invalid_header": ("InvalidArgument", error.detail or "", 400),
        "content_sha256": (
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
        ),
        "skewed": (
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
        ),
    }[error.kind]
    if error.kind == "signature" and error.detail:
        message = error.detail
    request_id = uuid.uuid4().hex[:16].upper()
    host_id = base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in error.fields.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    return ServiceResponse(
        status,
        [
            ("Content-Type", "application/xml"),
            ("x-amz-request-id", request_id),
            ("x-amz-id-2", host_id),
        ],
        body.encode(),
    )


def _json(error: AuthError, *, sqs: bool) -> ServiceResponse:
    kinds = {
        "signature": ("InvalidSignatureException", _SIGNATURE_MESSAGE, 400),
        "unknown_key": (
            ("InvalidClientTokenId", _TOKEN_MESSAGE, 403)
            if sqs
            else ("UnrecognizedClientException", _TOKEN_MESSAGE, 400)
        ),
        "missing": ("MissingAuthenticationTokenException", _MISSING_MESSAGE, 400),
        "expired": ("InvalidSignatureException", "Signature expired", 400),
        "malformed": ("InvalidSignatureException", error.detail or "", 400),
        "query_range": ("InvalidSignatureException", error.detail or "", 400),
        "date": ("InvalidSignatureException", error.detail or "", 400),
        "invalid_header": ("InvalidSignatureException", error.detail or "", 400),
        "content_sha256": ("InvalidSignatureException", _SIGNATURE_MESSAGE, 400),
        "skewed": ("InvalidSignatureException", error.detail or "Signature expired", 400),
    }
    code, message, status = kinds[error.kind]
    request_id = str(uuid.uuid4())
    body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": message})
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-RequestId", request_id),
    ]
    if sqs:
        # SQS's JSON protocol is query-compatible: botocore reads the code from here.
        headers.append(("x-amzn-query-error", f"{code};Sender"))
    return ServiceResponse(status, headers, body.encode())


def _query(error: AuthError, service: str) -> ServiceResponse:
    code, message = {
        "signature": ("SignatureDoesNotMatch", _SIGNATURE_MESSAGE),
        "unknown_key": ("InvalidClientTokenId", _TOKEN_MESSAGE),
        "missing": ("MissingAuthenticationToken", _MISSING_MESSAGE),
        "expired": ("SignatureDoesNotMatch", "Signature expired"),
        "malformed": ("SignatureDoesNotMatch", error.detail or _SIGNATURE_MESSAGE),
        "query_range": ("SignatureDoesNotMatch", error.detail or _SIGNATURE_MESSAGE),
        "date": ("SignatureDoesNotMatch", error.detail or _SIGNATURE_MESSAGE),
        "invalid_header": ("SignatureDoesNotMatch", error.detail or _SIGNATURE_MESSAGE),
        "content_sha256": ("SignatureDoesNotMatch", _SIGNATURE_MESSAGE),
        "skewed": ("SignatureDoesNotMatch", error.detail or "Signature expired"),
    }[error.kind]
    namespace = {
        "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
        "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
    }.get(service, "")
    request_id = str(uuid.uuid4())
    body = error_response(namespace, code, message, request_id, prologue='<?xml version="1.0"?>\n')
    return ServiceResponse(403, [("Content-Type", "text/xml")], body)
