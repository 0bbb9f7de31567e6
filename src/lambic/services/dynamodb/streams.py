"""DynamoDB Streams: the durable per-table change log and the Streams API over it.

Each committed item change on a table with a stream appends one record to
`stream_records` in the same SQLite transaction as the change, so a consumer never
sees a record for a write that did not commit and never misses one that did. A
stream has one shard; sequence numbers are the log's row ids offset into fixed-width
increasing decimal strings, as DynamoDB's are. Shard iterators are opaque tokens
carrying the stream ARN and a position; like AWS's they expire after 15 minutes.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
import zlib
from typing import Any

from lambic.project.account import LOCAL_REGION
from lambic.services.dynamodb import _requests
from lambic.services.dynamodb.errors import (
    ExpiredIteratorError,
    ResourceNotFoundError,
    ValidationError,
)
from lambic.services.dynamodb.store import DynamoDBStore
from lambic.services.dynamodb.tables import TableDefinition
from lambic.services.dynamodb.types import Item, item_size

_SEQUENCE_BASE = 10**20
_ITERATOR_LIFETIME_SECONDS = 15 * 60
_MAX_RECORDS = 1000
_ITERATOR_TYPES = frozenset(
    {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"}
)


def sequence_number(seq: int) -> str:
    return str(_SEQUENCE_BASE + seq)


def parse_sequence_number(text: object) -> int:
    if not isinstance(text, str) or not text.isdigit() or int(text) < _SEQUENCE_BASE:
        raise ValidationError(f"Invalid SequenceNumber: {text}")
    return int(text) - _SEQUENCE_BASE


def shard_id(arn: str, created: float) -> str:
    return f"shardId-{int(created * 1000):020d}-{zlib.crc32(arn.encode()):08x}"


# Who AWS names as the actor of a Time to Live deletion, in the Streams API's spelling
# (botocore's `Identity` shape); Lambda events spell it {"type", "principalId"}.
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


def build_record(
    table: TableDefinition,
    event_name: str,
    keys: Item,
    old: Item | None,
    new: Item | None,
    *,
    by_ttl: bool = False,
) -> dict[str, Any]:
    """A stream record (without its sequence number) for one committed change."""
    view_type = table.stream_view_type or "KEYS_ONLY"
    body: dict[str, Any] = {
        # Whole epoch seconds, as Lambda's DynamoDB events carry it.
        "ApproximateCreationDateTime": int(time.time()),
        "Keys": keys,
    }
    size = item_size(keys)
    if new is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["NewImage"] = new
        size += item_size(new)
    if old is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["OldImage"] = old
        size += item_size(old)
    body["SizeBytes"] = size
    body["StreamViewType"] = view_type
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": LOCAL_REGION,
        "dynamodb": body,
    }
    if by_ttl:
        record["userIdentity"] = dict(TTL_IDENTITY)
    return record


def with_sequence(record: dict[str, Any], seq: int) -> dict[str, Any]:
    record["dynamodb"]["SequenceNumber"] = sequence_number(seq)
    return record


class StreamsApi:
    """ListStreams, DescribeStream, GetShardIterator and GetRecords over the store."""

    def __init__(self, store: DynamoDBStore, lock: threading.RLock | None = None) -> None:
        self._store = store
        # The engine's lock: the runtime's stream pollers call in from another thread.
        self._lock = lock if lock is not None else threading.RLock()

    def list_streams(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._list_streams(request)

    def _list_streams(self, request: dict[str, Any]) -> dict[str, Any]:
        table_name = request.get("TableName")
        limit = _requests.list_limit(request, "between 1 and 100")
        start = request.get("ExclusiveStartStreamArn")
        streams = [
            {"StreamArn": arn, "TableName": table, "StreamLabel": label}
            for arn, table, label, *_ in self._store.list_streams()
            if (table_name is None or table == table_name) and (start is None or arn > start)
        ]
        result: dict[str, Any] = {"Streams": streams[:limit]}
        if len(streams) > limit:
            result["LastEvaluatedStreamArn"] = streams[limit - 1]["StreamArn"]
        return result

    def _stream(self, arn: object) -> tuple[Any, ...]:
        row = self._store.get_stream(str(arn)) if isinstance(arn, str) else None
        if row is None:
            raise ResourceNotFoundError(f"Requested resource not found: Stream: {arn} not found")
        return row

    def describe_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._describe_stream(request)

    def _describe_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        arn, table, label, view_type, key_schema, status, created = self._stream(
            request.get("StreamArn")
        )
        first, last = self._store.record_bounds(arn)
        sequence_range: dict[str, str] = {
            "StartingSequenceNumber": sequence_number(first if first is not None else 1)
        }
        if status == "DISABLED" and last is not None:
            sequence_range["EndingSequenceNumber"] = sequence_number(last)
        return {
            "StreamDescription": {
                "StreamArn": arn,
                "StreamLabel": label,
                "StreamStatus": status,
                "StreamViewType": view_type,
                "CreationRequestDateTime": created,
                "TableName": table,
                "KeySchema": json.loads(key_schema),
                "Shards": [
                    {"ShardId": shard_id(arn, created), "SequenceNumberRange": sequence_range}
                ],
            }
        }

    def get_shard_iterator(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._get_shard_iterator(request)

    def _get_shard_iterator(self, request: dict[str, Any]) -> dict[str, Any]:
        arn, *_, created = self._stream(request.get("StreamArn"))
        if request.get("ShardId") != shard_id(arn, created):
            raise ResourceNotFoundError(
                f"Requested resource not found: Shard does not exist: {request.get('ShardId')}"
            )
        kind = request.get("ShardIteratorType")
        if kind not in _ITERATOR_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, "
                "LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
            )
        if kind == "TRIM_HORIZON":
            position = 0
        elif kind == "LATEST":
            _, last = self._store.record_bounds(arn)
            position = last or 0
        else:
            if "SequenceNumber" not in request:
                raise ValidationError(f"Must specify a sequence number with iterator type {kind}")
            seq = parse_sequence_number(request["SequenceNumber"])
            position = seq - 1 if kind == "AT_SEQUENCE_NUMBER" else seq
        return {"ShardIterator": _encode_iterator(arn, position)}

    def get_records(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._get_records(request)

    def _get_records(self, request: dict[str, Any]) -> dict[str, Any]:
        arn, position = _decode_iterator(request.get("ShardIterator"))
        limit = request.get("Limit", _MAX_RECORDS)
        if not isinstance(limit, int) or not 1 <= limit <= _MAX_RECORDS:
            raise ValidationError(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 1000"
            )
        self._stream(arn)
        rows = self._store.read_records(arn, position, limit)
        records = [with_sequence(json.loads(text), seq) for seq, text in rows]
        next_position = rows[-1][0] if rows else position
        return {"Records": records, "NextShardIterator": _encode_iterator(arn, next_position)}


def _encode_iterator(arn: str, position: int) -> str:
    payload = json.dumps({"a": arn, "p": position, "t": time.time()}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _decode_iterator(token: object) -> tuple[str, int]:
    if not isinstance(token, str):
        raise ValidationError("Invalid ShardIterator")
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        arn, position, issued = str(data["a"]), int(data["p"]), float(data["t"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValidationError("Invalid ShardIterator") from exc
    if time.time() - issued > _ITERATOR_LIFETIME_SECONDS:
        raise ExpiredIteratorError("Iterator expired")
    return arn, position
