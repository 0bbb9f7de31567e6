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
import re
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
    {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"}
)
_MAX_SHARDS = 100
_STREAM_ARN = re.compile(
    r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[a-zA-Z0-9_.-]{3,255}/stream/[^/\s]+"
)


def sequence_number(seq: int) -> str:
    return str(_SEQUENCE_BASE + seq)


def parse_sequence_number(text: object) -> int:
    if not isinstance(text, str) or not text.isdigit() or int(text) < _SEQUENCE_BASE:
        raise ValidationError(f"Invalid SequenceNumber: {text}")
    return int(text) - _SEQUENCE_BASE


def shard_id(arn: str, created: float) -> str:
    return f"shardId-{int(created * 1000):020d}-{zlib.crc32(arn.encode()):08x}"


def _constraint(value: object, member: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _check_length(value: object, member: str, low: int, high: int) -> None:
    """botocore's length bounds for a string member, in AWS's words."""
    if not isinstance(value, str):
        return
    if len(value) < low:
        raise _constraint(value, member, f"Member must have length greater than or equal to {low}")
    if len(value) > high:
        raise _constraint(value, member, f"Member must have length less than or equal to {high}")


def check_stream_arn(arn: object, member: str = "streamArn") -> str:
    """A well-formed stream ARN (else ValidationException, as AWS answers a bogus one)."""
    if not isinstance(arn, str):
        raise _constraint(None, member, "Member must not be null")
    _check_length(arn, member, 37, 1024)
    if not _STREAM_ARN.fullmatch(arn):
        raise ValidationError(f"Invalid StreamArn: {arn}")
    return arn


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
        if start is not None:
            check_stream_arn(start, "exclusiveStartStreamArn")
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
        row = self._store.get_stream(check_stream_arn(arn))
        if row is None:
            raise ResourceNotFoundError(f"Requested resource not found: Stream: {arn} not found")
        return row

    def _shards(self, row: tuple[Any, ...]) -> list[dict[str, Any]]:
        """The stream's shards, oldest first (their ids sort in that order, as AWS's do).

        A stream has one shard for its whole life: no shard ever has a parent, and
        disabling the stream closes it (it gains an EndingSequenceNumber).
        """
        arn, _table, _label, _view, _keys, status, created = row
        first, last = self._store.record_bounds(arn)
        starting = first if first is not None else 1
        sequence_range: dict[str, str] = {"StartingSequenceNumber": sequence_number(starting)}
        if status == "DISABLED":
            ending = last if last is not None else starting
            sequence_range["EndingSequenceNumber"] = sequence_number(ending)
        return [{"ShardId": shard_id(arn, created), "SequenceNumberRange": sequence_range}]

    def describe_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._describe_stream(request)

    def _describe_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        limit = request.get("Limit", _MAX_SHARDS)
        if not isinstance(limit, int) or limit < 1:
            raise _constraint(limit, "limit", "Member must have value greater than or equal to 1")
        limit = min(limit, _MAX_SHARDS)  # AWS caps the page at 100 shards
        after = request.get("ExclusiveStartShardId")
        _check_length(after, "exclusiveStartShardId", 28, 65)
        shard_filter = _shard_filter(request.get("ShardFilter"))
        row = self._stream(request.get("StreamArn"))
        arn, table, label, view_type, key_schema, status, created = row
        shards = self._shards(row)
        if shard_filter is not None:
            # CHILD_SHARDS: the shards whose parent is the given one.
            shards = [s for s in shards if s.get("ParentShardId") == shard_filter]
        if isinstance(after, str):
            shards = [s for s in shards if s["ShardId"] > after]
        description: dict[str, Any] = {
            "StreamArn": arn,
            "StreamLabel": label,
            "StreamStatus": status,
            "StreamViewType": view_type,
            "CreationRequestDateTime": created,
            "TableName": table,
            "KeySchema": json.loads(key_schema),
            "Shards": shards[:limit],
        }
        if len(shards) > limit:
            description["LastEvaluatedShardId"] = shards[limit - 1]["ShardId"]
        return {"StreamDescription": description}

    def get_shard_iterator(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._get_shard_iterator(request)

    def _get_shard_iterator(self, request: dict[str, Any]) -> dict[str, Any]:
        kind = request.get("ShardIteratorType")
        if kind not in _ITERATOR_TYPES:
            raise _constraint(
                kind,
                "shardIteratorType",
                "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, "
                "AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]",
            )
        _check_length(request.get("ShardId"), "shardId", 28, 65)
        given = request.get("SequenceNumber")
        _check_length(given, "sequenceNumber", 21, 40)
        needs_sequence = kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
        if needs_sequence and given is None:
            raise ValidationError(f"Must specify a sequence number with iterator type {kind}")
        if not needs_sequence and given is not None:
            raise ValidationError(f"Must not specify a sequence number with iterator type {kind}")
        if kind == "AT_TIMESTAMP" and request.get("Timestamp") is None:
            raise ValidationError("Must specify a timestamp with iterator type AT_TIMESTAMP")
        arn, *_, created = self._stream(request.get("StreamArn"))
        if request.get("ShardId") != shard_id(arn, created):
            raise ResourceNotFoundError(
                f"Requested resource not found: Shard does not exist: {request.get('ShardId')}"
            )
        if kind == "TRIM_HORIZON":
            position = 0
        elif kind == "LATEST":
            _, last = self._store.record_bounds(arn)
            position = last or 0
        elif kind == "AT_TIMESTAMP":
            position = self._position_at(arn, request["Timestamp"])
        else:
            seq = parse_sequence_number(given)
            position = seq - 1 if kind == "AT_SEQUENCE_NUMBER" else seq
        return {"ShardIterator": _encode_iterator(arn, position)}

    def _position_at(self, arn: str, timestamp: object) -> int:
        """The position just before the first record created at or after `timestamp`."""
        if not isinstance(timestamp, int | float):
            raise ValidationError(f"Invalid Timestamp: {timestamp}")
        if timestamp > time.time():
            raise ValidationError("The specified Timestamp is in the future")
        position = 0
        while rows := self._store.read_records(arn, position, _MAX_RECORDS):
            for seq, text in rows:
                if json.loads(text)["dynamodb"]["ApproximateCreationDateTime"] >= int(timestamp):
                    return seq - 1
                position = seq
        return position

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
        row = self._stream(arn)
        rows = self._store.read_records(arn, position, limit)
        records = [with_sequence(json.loads(text), seq) for seq, text in rows]
        next_position = rows[-1][0] if rows else position
        result: dict[str, Any] = {"Records": records}
        closed = row[5] == "DISABLED"
        if not (closed and len(rows) < limit):
            # A closed shard read to its end has no next iterator (AWS's "null").
            result["NextShardIterator"] = _encode_iterator(arn, next_position)
        return result


def _shard_filter(spec: object) -> str | None:
    """The parent shard id of DescribeStream's ShardFilter (type CHILD_SHARDS), if any."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ValidationError("Invalid ShardFilter")
    kind, parent = spec.get("Type"), spec.get("ShardId")
    if kind is None:
        raise _constraint(None, "shardFilter.type", "Member must not be null")
    if kind != "CHILD_SHARDS":
        raise _constraint(
            kind, "shardFilter.type", "Member must satisfy enum value set: [CHILD_SHARDS]"
        )
    if parent is None:
        raise _constraint(None, "shardFilter.shardId", "Member must not be null")
    _check_length(parent, "shardFilter.shardId", 28, 65)
    return str(parent)


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
