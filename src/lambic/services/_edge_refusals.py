"""The edge's HTTP-level refusals (head too large, body too large, body timed out),
drawn in the shape the addressed service's clients parse.

The edge refuses these before a service sees the request (often before the body is
read), so it draws them itself, per protocol, as AWS's front ends do:

    s3        <Error><Code>EntityTooLarge</Code>...<RequestId/><HostId/></Error>
    json      {"__type": "RequestEntityTooLargeException", "message": ...} (DynamoDB,
              EventBridge); SQS's JSON adds `x-amzn-query-error` for botocore
    query     <ErrorResponse><Error><Type>Sender</Type><Code>...</Code>... (SNS, SQS query)
    rest-json x-amzn-ErrorType + {"Type": "User", "message": ...} (Lambda)

S3 has a code for each refusal (EntityTooLarge, RequestHeaderSectionTooLarge,
RequestTimeout: the S3 API reference's error list). The other services share AWS's
common errors: RequestEntityTooLargeException (413) and MalformedHttpRequestException
(400, "problems with the request at the HTTP level").
"""

from __future__ import annotations

import base64
import json
import random

from lambic._http_limits import S3_MAX_UPLOAD_BYTES, SERVICES_MAX_BODY_BYTES
from lambic.services._query_xml import error_response, escape
from lambic.services.base import ServiceResponse

__all__ = ["Refusal", "body_timed_out", "body_too_large", "head_too_large", "render_refusal"]

_QUERY_NAMESPACES = {
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
}


class Refusal:
    """One refusal: the S3 code and fields, and the common code the others use."""

    __slots__ = ("common_code", "fields", "message", "s3_code", "status")

    def __init__(
        self,
        status: int,
        s3_code: str,
        common_code: str,
        message: str,
        fields: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.s3_code = s3_code
        self.common_code = common_code
        self.message = message
        self.fields = fields or {}


def head_too_large() -> Refusal:
    return Refusal(
        400,
        "RequestHeaderSectionTooLarge",
        "MalformedHttpRequestException",
        "Your request header section exceeds the maximum allowed size.",
    )


def body_too_large(service: str, declared: int, *, upload: bool) -> Refusal:
    """Over the limit: 5 GiB for an S3 upload (EntityTooLarge), 16 MiB for any other
    request (S3's MaxMessageLengthExceeded, the others' RequestEntityTooLargeException)."""
    limit = S3_MAX_UPLOAD_BYTES if upload else SERVICES_MAX_BODY_BYTES
    fields = {"ProposedSize": str(declared), "MaxSizeAllowed": str(limit)}
    if upload:
        return Refusal(
            400,
            "EntityTooLarge",
            "RequestEntityTooLargeException",
            "Your proposed upload exceeds the maximum allowed size",
            fields,
        )
    return Refusal(
        413,
        "MaxMessageLengthExceeded",
        "RequestEntityTooLargeException",
        "Your request was too big."
        if service == "s3"
        else f"Request must be smaller than {limit} bytes; split it into smaller requests",
        {} if service == "s3" else fields,
    )


def body_timed_out() -> Refusal:
    return Refusal(
        400,
        "RequestTimeout",
        "RequestTimeoutException",
        "Your socket connection to the server was not read from or written to within "
        "the timeout period. Idle connections will be closed.",
    )


def render_refusal(refusal: Refusal, service: str, protocol: str) -> ServiceResponse:
    """`protocol`: "s3" | "json" | "sqs-json" | "query" | "rest-json" (see `edge._protocol`)."""
    request_id = f"{random.getrandbits(64):016X}"
    if protocol == "s3":
        # S3 answers all of these with 400, unlike the other services' 413.
        host_id = base64.b64encode(random.getrandbits(256).to_bytes(32, "big")).decode()
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in refusal.fields.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{refusal.s3_code}</Code><Message>{escape(refusal.message)}</Message>"
            f"{fields}<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
        )
        return ServiceResponse(
            400,
            [
                ("Content-Type", "application/xml"),
                ("x-amz-request-id", request_id),
                ("x-amz-id-2", host_id),
                ("Connection", "close"),
            ],
            body.encode(),
        )
    code = refusal.common_code
    if protocol == "query":
        document = error_response(
            _QUERY_NAMESPACES.get(service, ""),
            code,
            refusal.message,
            request_id,
            prologue='<?xml version="1.0"?>\n',
        )
        return ServiceResponse(
            refusal.status, [("Content-Type", "text/xml"), ("Connection", "close")], document
        )
    headers = [("x-amzn-RequestId", request_id), ("Connection", "close")]
    if protocol == "rest-json":
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        payload = {"Type": "User", "message": refusal.message}
    else:
        headers.append(("Content-Type", "application/x-amz-json-1.0"))
        payload = {"__type": f"com.amazon.coral.service#{code}", "message": refusal.message}
        if protocol == "sqs-json":
            # SQS's JSON protocol is query-compatible: botocore reads the code here.
            headers.append(("x-amzn-query-error", f"{code};Sender"))
    return ServiceResponse(refusal.status, headers, json.dumps(payload).encode())
