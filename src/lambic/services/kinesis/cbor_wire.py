"""Kinesis over CBOR (`application/x-amz-cbor-1.1`), as the AWS SDK for Java and the KCL
send it by default: the same operations, the body in CBOR instead of JSON.

The operations work on JSON-shaped values, so a CBOR request is read into that shape and
the answer written back: a blob (`Data`) is a CBOR byte string on the wire and base64 in
the handlers; a timestamp is tag 1 around epoch *milliseconds* (what the Java SDK's
`SdkCborGenerator` writes: `writeTag(1)` then `Date.getTime()`), epoch seconds in the
handlers. Which request members are blobs and timestamps comes from `shapes.INPUTS`
(botocore's model); in the answers of the operations served here the blobs and timestamps
are `Record.Data`, `Record.ApproximateArrivalTimestamp` and `StreamCreationTimestamp`.

    >>> from lambic.services import _cbor
    >>> request = read_request("PutRecord", _cbor.dumps({"Data": b"hi", "PartitionKey": "k"}))
    >>> request["Data"]
    'aGk='
    >>> answer = {"Records": [{"Data": "aGk=", "ApproximateArrivalTimestamp": 1.5}]}
    >>> _cbor.loads(write_response(answer))
    {'Records': [{'Data': b'hi', 'ApproximateArrivalTimestamp': Tagged(tag=1, value=1500)}]}
"""

from __future__ import annotations

import base64
import math
from typing import Any

from lambic.services import _cbor
from lambic.services.kinesis.errors import SerializationError
from lambic.services.kinesis.shapes import INPUTS, Shape

#: Response members whose wire form differs from JSON's (botocore's output shapes).
_BLOB_OUTPUTS = frozenset({"Data"})
_TIMESTAMP_OUTPUTS = frozenset({"ApproximateArrivalTimestamp", "StreamCreationTimestamp"})
_EPOCH_TAG = 1


def read_request(operation: str, body: bytes) -> dict[str, Any]:
    """The CBOR body as the JSON-shaped request the operation takes; SerializationException
    for bytes that are not one CBOR map."""
    if not body:
        return {}
    try:
        value = _cbor.loads(body)
    except _cbor.CBORDecodeError as exc:
        raise SerializationError(f"Could not read the CBOR request body: {exc}") from None
    if not isinstance(value, dict):
        raise SerializationError("Start of structure or map found where not expected.")
    shape = INPUTS.get(operation)
    request: dict[str, Any] = _to_json(shape if shape is not None else {}, value)
    return request


def _to_json(shape: Shape, value: Any) -> Any:
    """`value` with blobs as base64 and timestamps as epoch seconds, following `shape`."""
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise SerializationError("A structure's member names must be text strings")
        if isinstance(shape, dict):
            return {key: _to_json(shape.get(key), item) for key, item in value.items()}
        member = shape[1] if isinstance(shape, tuple) else None
        return {key: _to_json(member, item) for key, item in value.items()}
    if isinstance(value, list):
        member = shape[1] if isinstance(shape, tuple) else None
        return [_to_json(member, item) for item in value]
    if isinstance(value, _cbor.Tagged):
        if shape == "timestamp" and value.tag == _EPOCH_TAG and _is_number(value.value):
            return value.value / 1000
        raise SerializationError(f"Unexpected CBOR tag {value.tag} in the request")
    if isinstance(value, bytes):
        if shape == "blob":
            return base64.b64encode(value).decode("ascii")
        raise SerializationError("A byte string is only accepted for a blob member")
    if isinstance(value, _cbor.Simple):
        raise SerializationError(f"Unexpected CBOR simple value {value.value} in the request")
    if isinstance(value, float) and not math.isfinite(value):
        raise SerializationError("Non-finite numbers are not accepted")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def write_response(result: Any) -> bytes:
    """A JSON-shaped answer as CBOR: `Data` as a byte string, timestamps tagged milliseconds."""
    return _cbor.dumps(_to_cbor(result))


def _to_cbor(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _member(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_cbor(item) for item in value]
    return value


def _member(key: str, value: Any) -> Any:
    if key in _BLOB_OUTPUTS and isinstance(value, str):
        return base64.b64decode(value)
    if key in _TIMESTAMP_OUTPUTS and _is_number(value):
        return _cbor.Tagged(_EPOCH_TAG, round(value * 1000))
    return _to_cbor(value)
