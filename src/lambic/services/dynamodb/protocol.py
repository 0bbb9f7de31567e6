"""DynamoDB's wire protocol: JSON 1.0 over POST, operation named in X-Amz-Target.

Request: `X-Amz-Target: DynamoDB_20120810.<Operation>` (or `DynamoDBStreams_20120810.`),
body a JSON object, possibly gzip/deflate encoded (see `compression`). Response: 200
with a JSON body, or AWS's error body `{"__type": "<namespace>#<Code>", "message": "..."}`
with its status; over 4 KB, compressed when Accept-Encoding asks. Every response
carries `x-amzn-RequestId` and `x-amz-crc32` (the CRC32 of the bytes sent, which
botocore verifies when present).
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from lambic.services.base import Headers, ServiceRequest, ServiceResponse
from lambic.services.dynamodb import compression
from lambic.services.dynamodb.errors import (
    DynamoDBError,
    InternalServerError,
    SerializationError,
    UnknownOperationError,
)

logger = logging.getLogger(__name__)

Operation = Callable[[dict[str, Any]], dict[str, Any]]
#: An operation whose answer depends on the HTTP request as well as its body
#: (DescribeEndpoints answers with the Host the client called).
RequestOperation = Callable[[dict[str, Any], ServiceRequest], dict[str, Any]]

DYNAMODB_PREFIX = "DynamoDB_20120810."
STREAMS_PREFIX = "DynamoDBStreams_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
_EMPTY_ANSWERS = frozenset({"TagResource", "UntagResource"})


def request_id() -> str:
    """A request id shaped like DynamoDB's: 52 upper-case letters and digits."""
    return os.urandom(26).hex().upper()


def render(
    status: int, body: Mapping[str, Any] | None, request_headers: Headers | None = None
) -> ServiceResponse:
    """The JSON answer; `None` is an empty body (TagResource, UntagResource)."""
    # orjson: several times faster than json both ways, and a GetItem is mostly this.
    payload = orjson.dumps(body) if body is not None else b""
    # Most responses are small: Accept-Encoding is read only when it could matter.
    if request_headers is not None and len(payload) > compression.RESPONSE_COMPRESSION_THRESHOLD:
        encoding = compression.choose_encoding(request_headers.get("accept-encoding"))
        if encoding is not None:
            return _render_compressed(status, payload, encoding)
    return ServiceResponse(
        status=status,
        headers=[
            ("Content-Type", CONTENT_TYPE),
            ("x-amzn-RequestId", request_id()),
            ("x-amz-crc32", str(zlib.crc32(payload))),
            # An explicit length lets the server send one unchunked response.
            ("Content-Length", str(len(payload))),
            ("Server", "Server"),  # what DynamoDB's endpoints send
        ],
        body=payload,
    )


def _render_compressed(status: int, payload: bytes, encoding: str) -> ServiceResponse:
    packed = compression.compress(payload, encoding)
    return ServiceResponse(
        status=status,
        headers=[
            ("Content-Type", CONTENT_TYPE),
            ("x-amzn-RequestId", request_id()),
            ("Content-Encoding", encoding),
            # The CRC covers the bytes sent: botocore checks it on those.
            ("x-amz-crc32", str(zlib.crc32(packed))),
            ("Content-Length", str(len(packed))),
        ],
        body=packed,
    )


def render_error(error: DynamoDBError) -> ServiceResponse:
    return render(error.status, error.to_body())


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except ValueError as exc:  # orjson's JSONDecodeError (bad UTF-8 included)
        raise SerializationError("Start of structure or map found where not expected.") from exc
    if not isinstance(parsed, dict):
        raise SerializationError("Start of structure or map found where not expected.")
    return parsed


def operation_name(request: ServiceRequest) -> tuple[str, str]:
    """("dynamodb" | "streams", operation) from X-Amz-Target."""
    target = request.headers.get("x-amz-target", "")
    if target.startswith(DYNAMODB_PREFIX):
        return "dynamodb", target[len(DYNAMODB_PREFIX) :]
    if target.startswith(STREAMS_PREFIX):
        return "streams", target[len(STREAMS_PREFIX) :]
    raise UnknownOperationError(f"Unknown operation: {target or '(no X-Amz-Target)'}")


def _operation(
    request: ServiceRequest,
    key: tuple[str, str],
    operations: Mapping[tuple[str, str], Operation],
    request_operations: Mapping[tuple[str, str], RequestOperation] | None,
) -> Operation:
    operation = operations.get(key)
    if operation is not None:
        return operation
    with_request = request_operations.get(key) if request_operations else None
    if with_request is None:
        raise UnknownOperationError(f"Unknown operation: {key[1]}")
    return lambda parsed: with_request(parsed, request)


def dispatch(
    request: ServiceRequest,
    operations: Mapping[tuple[str, str], Operation],
    request_operations: Mapping[tuple[str, str], RequestOperation] | None = None,
) -> ServiceResponse:
    """Run the operation a request names and render its result or error.

    `operations` read the parsed body only; `request_operations` are also given the
    request itself.
    """
    try:
        key = operation_name(request)
        operation = _operation(request, key, operations, request_operations)
        body = request.body
        encoding = request.headers.get("content-encoding")
        if encoding is not None:
            body = compression.decode_request_body(body, encoding)
        parsed = parse_body(body)
        result = operation(parsed)
        # DynamoDB answers these two with no body at all, not "{}".
        return render(200, None if key[1] in _EMPTY_ANSWERS else result, request.headers)
    except DynamoDBError as error:
        return render_error(error)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # A field of the wrong JSON type (botocore validates, raw clients may not):
        # AWS answers SerializationException; so do we.
        logger.debug("DynamoDB request failed to deserialize", exc_info=True)
        return render_error(SerializationError(f"Could not deserialize the request: {exc}"))
    except Exception:
        logger.exception("DynamoDB operation failed")
        return render_error(InternalServerError("Internal server error"))
