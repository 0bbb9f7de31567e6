"""The answer to a request for an AWS service the edge does not serve.

A client pointed at the edge with `AWS_ENDPOINT_URL` sends every service there, STS
and Secrets Manager included. Answering those as S3 would (`NoSuchBucket`) hides the
real problem, so the edge answers AWS's `NotImplemented` (HTTP 501, which no SDK
retries) drawn in the wire protocol that service's client parses, naming the
services it does serve and what to do instead:

    json            {"__type": "NotImplemented", "message": ...} + x-amzn-ErrorType
    rest-json       x-amzn-ErrorType: NotImplemented + {"message": ...}
    query           <ErrorResponse><Error><Type>Sender</Type><Code>NotImplemented</Code>...
    ec2             <Response><Errors><Error><Code>NotImplemented</Code>...
    rest-xml        <Error><Code>NotImplemented</Code><Message>...</Message></Error>
    smithy-rpc-v2-cbor  the json body's two keys, CBOR-encoded

The request shows most protocols by itself (an `X-Amz-Target` is JSON, a form with
`Action=` is query, `smithy-protocol: rpc-v2-cbor` is CBOR). Only a REST request
leaves rest-json and rest-xml apart; then botocore's model of the named service says
(`metadata.protocol`). Models are read here, on this error path only, once per name.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from typing import Any

from lambic.services._query_xml import escape
from lambic.services.base import ServiceRequest, ServiceResponse

__all__ = ["render_unserved", "unserved_message"]

_CODE = "NotImplemented"


def render_unserved(name: str, request: ServiceRequest, served: Sequence[str]) -> ServiceResponse:
    """AWS's `NotImplemented` for service `name`, in the protocol its client parses."""
    model = _model_metadata(name)
    message = unserved_message(name, served, model.get("serviceId"))
    protocol = _protocol(request, name, model)
    request_id = str(uuid.uuid4())
    if protocol == "query":
        return _xml(
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{_CODE}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>",
            request_id,
        )
    if protocol == "ec2":
        return _xml(
            f"<Response><Errors><Error><Code>{_CODE}</Code><Message>{escape(message)}"
            f"</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
            request_id,
        )
    if protocol == "rest-xml":
        return _xml(
            f"<Error><Code>{_CODE}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>",
            request_id,
        )
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", _CODE)]
    if protocol == "smithy-rpc-v2-cbor":
        body = _cbor_text_map({"__type": _CODE, "message": message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        return ServiceResponse(501, headers, body)
    if protocol == "json":
        content_type = request.headers.get("content-type") or "application/x-amz-json-1.1"
        # Query-compatible JSON services (SQS's kind) read the code from this header.
        headers += [("Content-Type", content_type), ("x-amzn-query-error", f"{_CODE};Sender")]
        return ServiceResponse(
            501, headers, json.dumps({"__type": _CODE, "message": message}).encode()
        )
    headers.append(("Content-Type", "application/json"))
    return ServiceResponse(501, headers, json.dumps({"message": message}).encode())


def unserved_message(name: str, served: Sequence[str], service_id: str | None = None) -> str:
    """What happened and what to do, naming the services the edge serves.

    >>> unserved_message("sts", ["s3", "sqs"], "STS")[:60]
    "Lambic's local endpoint does not serve sts; it serves s3, sqs"
    """
    served_text = ", ".join(served) or "nothing"
    text = f"Lambic's local endpoint does not serve {name}; it serves {served_text}."
    if name == "lambda":
        return text + (
            " Functions are served by `lambic local`: run the app there and point this "
            "client at its services port."
        )
    # boto3 reads AWS_ENDPOINT_URL_<SERVICE ID> before AWS_ENDPOINT_URL, so one service
    # can go to AWS while the rest stay local.
    variable = (
        "AWS_ENDPOINT_URL_" + service_id.upper().replace(" ", "_").replace("-", "_")
        if service_id
        else "AWS_ENDPOINT_URL_<SERVICE>"
    )
    return text + (
        f" Point this client at AWS: unset AWS_ENDPOINT_URL, or set {variable} to the "
        f"service's AWS endpoint; or replace the call with a stub while running locally."
    )


def _protocol(request: ServiceRequest, name: str, model: dict[str, Any]) -> str:
    """The wire protocol the client used, from the request first, then the model."""
    if request.headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "smithy-rpc-v2-cbor"
    if "x-amz-target" in request.headers:
        return "json"
    content_type = request.headers.get("content-type", "")
    if "Action=" in request.query_string or content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        return "ec2" if model.get("protocol") == "ec2" or name == "ec2" else "query"
    protocol = model.get("protocol")
    return protocol if protocol in ("rest-xml", "rest-json") else "rest-json"


@functools.cache
def _model_metadata(name: str) -> dict[str, Any]:
    """botocore's `metadata` for the service named `name` (empty when it has none).

    `name` is a SigV4 signing name or a target-derived one; most equal botocore's
    service names (sts, kinesis, secretsmanager). The rest (execute-api) fall back to
    what the request shows.
    """
    try:
        import botocore.exceptions
        import botocore.loaders
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return {}
    try:
        model = botocore.loaders.create_loader().load_service_model(name, "service-2")
    except (botocore.exceptions.UnknownServiceError, botocore.exceptions.DataNotFoundError):
        return {}
    except Exception:  # a malformed name (path characters) must still get its answer
        return {}
    metadata: dict[str, Any] = dict(model.get("metadata", {}))
    return metadata


def _xml(body: str, request_id: str) -> ServiceResponse:
    return ServiceResponse(
        501,
        [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)],
        ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode(),
    )


def _cbor_text_map(fields: dict[str, str]) -> bytes:
    """A CBOR map of text to text (RFC 8949 major types 5 and 3), all this error needs."""
    out = bytearray(_cbor_head(5, len(fields)))
    for key, value in fields.items():
        for text in (key, value):
            data = text.encode("utf-8")
            out += _cbor_head(3, len(data)) + data
    return bytes(out)


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 0x100:
        return bytes([major << 5 | 24, length])
    if length < 0x10000:
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + length.to_bytes(4, "big")
