"""Kinesis's wire protocol: JSON 1.1 over POST, the operation in `X-Amz-Target`.

Request: `X-Amz-Target: Kinesis_20131202.<Operation>`, body a JSON object (blobs
base64, timestamps epoch seconds). Response: 200 with a JSON body, or an error
`{"__type": "<Code>", "message": "..."}` (`"Message"` for SerializationException) with
`x-amzn-ErrorType` and its status; members of the wrong JSON type are refused first
(`shapes.check_types`). Every response carries `x-amzn-RequestId` and `x-amz-id-2`, as
Kinesis's do.

A request whose Content-Type is `application/x-amz-cbor-1.1` (the AWS SDK for Java's and
the KCL's default) is read and answered in CBOR (`cbor_wire`), errors included; the
operation and its checks are the same.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.kinesis.errors import (
    InternalFailure,
    KinesisError,
    SerializationError,
    UnknownOperationError,
    UnservedOperationError,
)
from lambic.services.kinesis.shapes import check_types

logger = logging.getLogger(__name__)

Operation = Callable[[dict[str, Any]], dict[str, Any]]

TARGET_PREFIX = "Kinesis_20131202."
CONTENT_TYPE = "application/x-amz-json-1.1"
CBOR_CONTENT_TYPE = "application/x-amz-cbor-1.1"
#: Any version of AWS's CBOR protocol (the SDKs send 1.1).
_CBOR_PREFIX = "application/x-amz-cbor"


def render(status: int, body: Mapping[str, Any], cbor: bool = False) -> ServiceResponse:
    if cbor:
        # Imported on the first CBOR request: JSON clients never load the codec.
        from lambic.services.kinesis.cbor_wire import write_response

        return _respond(status, write_response(body), CBOR_CONTENT_TYPE)
    return _respond(status, orjson.dumps(body))


def render_empty(cbor: bool = False) -> ServiceResponse:
    """The answer of an operation without output: 200 and no body at all."""
    return _respond(200, b"", CBOR_CONTENT_TYPE if cbor else CONTENT_TYPE)


def _respond(status: int, payload: bytes, content_type: str = CONTENT_TYPE) -> ServiceResponse:
    request_id = os.urandom(16).hex()
    return ServiceResponse(
        status=status,
        headers=[
            ("Content-Type", content_type),
            ("x-amzn-RequestId", request_id),
            ("x-amz-id-2", base64.b64encode(os.urandom(48)).decode("ascii")),
            ("Content-Length", str(len(payload))),
        ],
        body=payload,
    )


def render_error(error: KinesisError, cbor: bool = False) -> ServiceResponse:
    # The deserializer's errors spell the key "Message" (kinesalite's AWS recordings).
    key = "Message" if isinstance(error, SerializationError) else "message"
    response = render(error.status, {"__type": error.code, key: error.message}, cbor)
    response.headers.append(("x-amzn-ErrorType", error.code))
    return response


def operation_name(request: ServiceRequest) -> str:
    target = request.headers.get("x-amz-target", "")
    if not target.startswith(TARGET_PREFIX):
        raise UnknownOperationError(f"Unknown operation: {target or '(no X-Amz-Target)'}")
    return target[len(TARGET_PREFIX) :]


def dispatch(
    request: ServiceRequest,
    operations: Mapping[str, Operation],
    unserved: frozenset[str],
) -> ServiceResponse:
    """Run the operation a request names; AWS's error shape for anything that fails."""
    # Only a CBOR Content-Type leaves the JSON path (one lookup on every JSON request).
    cbor = request.headers.get("content-type", "").startswith(_CBOR_PREFIX)
    try:
        name = operation_name(request)
        operation = operations.get(name)
        if operation is None:
            if name in unserved:
                raise UnservedOperationError(
                    f"Lambic's local Kinesis does not serve {name}. Point this client at AWS "
                    "(set AWS_ENDPOINT_URL_KINESIS to Kinesis's endpoint) or replace the call "
                    "with a stub while running locally."
                )
            raise UnknownOperationError(f"Unknown operation: {name}")
        if cbor:
            from lambic.services.kinesis.cbor_wire import read_request

            body = read_request(name, request.body)
        else:
            try:
                body = orjson.loads(request.body) if request.body else {}
            except ValueError as exc:
                raise SerializationError(
                    "Start of structure or map found where not expected."
                ) from exc
        if not isinstance(body, dict):
            raise SerializationError("Start of structure or map found where not expected.")
        check_types(name, body)
        result = operation(body)
        if not result:
            # An operation without output (CreateStream, MergeShards, AddTagsToStream...)
            # answers an empty body, as Kinesis does, not "{}".
            return render_empty(cbor)
        return render(200, result, cbor)
    except KinesisError as error:
        return render_error(error, cbor)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # A member of the wrong JSON type (botocore validates, raw clients may not).
        logger.debug("Kinesis request failed to deserialize", exc_info=True)
        return render_error(SerializationError(f"Could not deserialize the request: {exc}"), cbor)
    except Exception:
        logger.exception("Kinesis operation failed")
        return render_error(InternalFailure("Internal service failure."), cbor)
