"""PutRecord(s), GetShardIterator and GetRecords: the record log of a stream.

A put hashes the partition key (or takes `ExplicitHashKey`), picks the open shard whose
hash key range holds it, appends the record in one committed transaction and only then
answers with its shard and sequence number: an acknowledged record survives `kill -9`.
PutRecords appends its batch in one transaction. Records older than the stream's
retention period are no longer returned (and are dropped on the next put).

Reading: an iterator points after a log position in one shard. GetRecords returns up
to `Limit` records after it, the next iterator after the last one returned, and
`MillisBehindLatest`: how far the last record returned is from the shard's newest
(0 when the read reached the tip). Once a closed shard has been read to its end, the
answer has no `NextShardIterator` and names the shard's children (`ChildShards`).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import TYPE_CHECKING, Any

from lambic.project.account import LOCAL_ACCOUNT_ID
from lambic.services.kinesis import keys
from lambic.services.kinesis.errors import (
    InvalidArgumentError,
    ResourceInUseError,
    ResourceNotFoundError,
    ValidationError,
    constraint,
    shard_not_found,
    shard_not_resolved,
)
from lambic.services.kinesis.model import Shard, Stream, check_int, check_string, stream_name

if TYPE_CHECKING:
    from lambic.services.kinesis.engine import KinesisEngine

#: A record's data (before base64) plus its partition key (AWS's default maximum).
MAX_RECORD_BYTES = 1024 * 1024
#: What one PutRecords may carry in all (records' data and partition keys).
MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024
MAX_PUT_RECORDS = 500
MAX_GET_RECORDS = 10000
#: What one GetRecords returns at most (AWS: 10 MiB per call).
MAX_GET_BYTES = 10 * 1024 * 1024
#: GetShardIterator's refusal of a sequence number missing or extra, in AWS's words.
_ITERATOR_ARGUMENTS = (
    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
    "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
    "Request specified "
)
_ITERATOR_TYPES = (
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
)


def put_record(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    entry = _entry(request, "")
    ordering = request.get("SequenceNumberForOrdering")
    if ordering is not None and keys.parse_sequence(ordering) is None:
        raise InvalidArgumentError(
            f"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream "
            f"{request.get('StreamName') or request.get('StreamARN')} is invalid."
        )
    with engine.lock:
        stream = engine.requested_stream(request)
        shards = [s for s in engine.shards(stream) if s.is_open]
        now = time.time()
        with engine.store.transaction():
            engine.trim(stream, now)
            shard = _route(shards, entry)
            position = engine.store.append(stream.sid, shard.index, entry[0], entry[1], now)
    engine.notify(stream.name)
    return {
        "ShardId": shard.id,
        "SequenceNumber": keys.sequence_number(shard.index, position),
        "EncryptionType": "NONE",
    }


def put_records(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    entries = request.get("Records")
    if entries is None:
        raise constraint(None, "records", "Member must not be null")
    if not isinstance(entries, list):
        raise constraint(entries, "records", "Member must be a list")
    if not entries:
        raise constraint("[]", "records", "Member must have length greater than or equal to 1")
    if len(entries) > MAX_PUT_RECORDS:
        raise constraint(
            "[...]", "records", f"Member must have length less than or equal to {MAX_PUT_RECORDS}"
        )
    parsed = [_entry(entry, f"records.{i + 1}.member.") for i, entry in enumerate(entries)]
    total = sum(len(key.encode("utf-8")) + len(data) for key, data, _ in parsed)
    if total > MAX_PUT_RECORDS_BYTES:
        raise InvalidArgumentError(
            f"Records size exceeds {MAX_PUT_RECORDS_BYTES // (1024 * 1024)} MB limit"
        )
    with engine.lock:
        stream = engine.requested_stream(request)
        shards = [s for s in engine.shards(stream) if s.is_open]
        now = time.time()
        results = []
        with engine.store.transaction():
            engine.trim(stream, now)
            for entry in parsed:
                shard = _route(shards, entry)
                position = engine.store.append(stream.sid, shard.index, entry[0], entry[1], now)
                results.append(
                    {
                        "SequenceNumber": keys.sequence_number(shard.index, position),
                        "ShardId": shard.id,
                    }
                )
    engine.notify(stream.name)
    return {"FailedRecordCount": 0, "Records": results, "EncryptionType": "NONE"}


def _entry(request: dict[str, Any], prefix: str) -> tuple[str, bytes, int | None]:
    """(partition key, data, explicit hash key) of one record, checked as Kinesis does."""
    if not isinstance(request, dict):
        raise constraint(request, prefix.rstrip(".") or "record", "Member must be a structure")
    key = request.get("PartitionKey")
    if key is None:
        raise constraint(None, f"{prefix}partitionKey", "Member must not be null")
    check_string(key, f"{prefix}partitionKey", 1, 256)
    encoded = request.get("Data")
    if encoded is None:
        raise constraint(None, f"{prefix}data", "Member must not be null")
    try:
        data = base64.b64decode(str(encoded), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(f"Invalid base64 in '{prefix}data'") from exc
    if len(data) > MAX_RECORD_BYTES:
        raise ValidationError(
            f"1 validation error detected: Value at '{prefix}data' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_RECORD_BYTES}"
        )
    if len(data) + len(key.encode("utf-8")) > MAX_RECORD_BYTES:
        raise InvalidArgumentError(
            "The size of the data blob and partition key exceeds the maximum record size "
            f"of {MAX_RECORD_BYTES} bytes."
        )
    explicit = request.get("ExplicitHashKey")
    hashed = None if explicit is None else keys.parse_explicit_hash_key(explicit)
    return key, data, hashed


def _route(shards: list[Shard], entry: tuple[str, bytes, int | None]) -> Shard:
    hashed = entry[2] if entry[2] is not None else keys.hash_key(entry[0])
    for shard in shards:
        if shard.holds(hashed):
            return shard
    raise ResourceInUseError("The stream has no open shard for this record's hash key.")


def get_shard_iterator(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    kind = request.get("ShardIteratorType")
    if kind not in _ITERATOR_TYPES:
        raise constraint(
            kind,
            "shardIteratorType",
            "Member must satisfy enum value set: [" + ", ".join(_ITERATOR_TYPES) + "]",
        )
    shard_name = request.get("ShardId")
    if shard_name is None:
        raise constraint(None, "shardId", "Member must not be null")
    check_string(shard_name, "shardId", 1, 128)
    index = keys.parse_shard_id(shard_name)
    name = stream_name(request)
    if index is None:
        raise shard_not_resolved(shard_name, name)
    with engine.lock:
        # A missing stream is answered as its shard is: "Shard ... does not exist".
        try:
            stream = engine.stream(name)
        except ResourceNotFoundError:
            raise shard_not_found(keys.shard_id(index), name) from None
        shard = _shard(engine, stream, index)
        position = _start_position(engine, stream, shard, str(kind), request)
    return {
        "ShardIterator": keys.encode_iterator(stream.name, stream.created, shard.index, position)
    }


def _shard(engine: KinesisEngine, stream: Stream, index: int) -> Shard:
    for shard in engine.shards(stream):
        if shard.index == index:
            return shard
    raise shard_not_found(keys.shard_id(index), stream.name)


def _start_position(
    engine: KinesisEngine, stream: Stream, shard: Shard, kind: str, request: dict[str, Any]
) -> int:
    """The log position an iterator of `kind` reads after."""
    given = request.get("StartingSequenceNumber")
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if given is None:
            raise InvalidArgumentError(
                _ITERATOR_ARGUMENTS + f"{kind} and no StartingSequenceNumber."
            )
        parsed = keys.parse_sequence(given)
        if parsed is None:
            raise InvalidArgumentError(
                f"StartingSequenceNumber {given} used in GetShardIterator on shard {shard.id} "
                f"in stream {stream.name} under account {LOCAL_ACCOUNT_ID} is invalid."
            )
        if parsed[0] != shard.index:
            raise InvalidArgumentError(
                f"Invalid StartingSequenceNumber. It encodes {keys.shard_id(parsed[0])}, while "
                f"it was used in a call to a shard with {shard.id}"
            )
        return parsed[1] - 1 if kind == "AT_SEQUENCE_NUMBER" else parsed[1]
    if given is not None:
        raise InvalidArgumentError(
            _ITERATOR_ARGUMENTS + f"{kind} and also a StartingSequenceNumber."
        )
    if kind == "TRIM_HORIZON":
        return shard.start_pos
    if kind == "LATEST":
        if shard.end_pos is not None:
            return shard.end_pos
        last = engine.store.last_position(stream.sid, shard.index)
        return max(shard.start_pos, last or 0)
    moment = request.get("Timestamp")
    if not isinstance(moment, int | float):
        raise InvalidArgumentError(
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
            "Current request has no timestamp parameter."
        )
    if moment > time.time():
        raise InvalidArgumentError(
            f"The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
            f"timestampInMillis: {int(moment * 1000)}, currentTimestampInMillis: "
            f"{int(time.time() * 1000)}"
        )
    first = engine.store.first_at(stream.sid, shard.index, shard.start_pos, float(moment))
    if first is not None:
        return first - 1
    last = engine.store.last_position(stream.sid, shard.index)
    return max(shard.start_pos, last or 0)


def get_records(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    token = request.get("ShardIterator")
    if token is None:
        raise constraint(None, "shardIterator", "Member must not be null")
    check_string(token, "shardIterator", 1, 512)
    limit = request.get("Limit", MAX_GET_RECORDS)
    check_int(limit, "limit", 1)
    if limit > MAX_GET_RECORDS:
        raise InvalidArgumentError(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_GET_RECORDS}"
        )
    iterator = keys.decode_iterator(token)
    with engine.lock:
        # The iterator's stream deleted (or deleted and created again): its shard is gone.
        try:
            stream = engine.stream(iterator.stream)
        except ResourceNotFoundError:
            stream = None
        if stream is None or stream.created != iterator.created:
            raise shard_not_found(keys.shard_id(iterator.shard), iterator.stream)
        shard = _shard(engine, stream, iterator.shard)
        since = engine.trim_horizon(stream)
        rows = engine.store.read(stream.sid, shard.index, iterator.position, since, limit)
        rows = _within_bytes(rows)
        newest = engine.store.last_position(stream.sid, shard.index)
        children = [
            s for s in engine.shards(stream) if shard.index in (s.parent, s.adjacent_parent)
        ]
    position = rows[-1][0] if rows else iterator.position
    records = [
        {
            "SequenceNumber": keys.sequence_number(shard.index, pos),
            "ApproximateArrivalTimestamp": arrival,
            "Data": base64.b64encode(data).decode("ascii"),
            "PartitionKey": partition_key,
        }
        for pos, partition_key, data, arrival in rows
    ]
    at_tip = newest is None or position >= newest
    result: dict[str, Any] = {
        "Records": records,
        "MillisBehindLatest": 0
        if at_tip or not rows
        else max(0, int((time.time() - rows[-1][3]) * 1000)),
    }
    if shard.end_pos is not None and at_tip:
        # A closed shard read to its end: no next iterator, its children instead.
        result["ChildShards"] = [
            {
                "ShardId": child.id,
                "ParentShards": [
                    keys.shard_id(p) for p in (child.parent, child.adjacent_parent) if p is not None
                ],
                "HashKeyRange": child.hash_range(),
            }
            for child in children
        ]
    else:
        result["NextShardIterator"] = keys.encode_iterator(
            stream.name, stream.created, shard.index, position
        )
    return result


def _within_bytes(rows: list[Any]) -> list[Any]:
    """The leading records of `rows` that fit in one GetRecords answer (at least one)."""
    total = 0
    for count, row in enumerate(rows):
        total += len(row[2])
        if total > MAX_GET_BYTES and count > 0:
            return rows[:count]
    return rows
