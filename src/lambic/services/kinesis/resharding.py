"""SplitShard, MergeShards and UpdateShardCount: closing shards and opening children.

A resharding closes its parent shards (they gain an `EndingSequenceNumber`, the log
position of their last record, and take no more puts) and opens children with the next
shard indices, `ParentShardId` and, for a merge, `AdjacentParentShardId`, all in one
transaction. Records already in a parent stay readable there until they age out; a
consumer reads a parent to its end (GetRecords then answers no `NextShardIterator`)
before its children, as the Kinesis Client Library and Lambda do.

UpdateShardCount (UNIFORM_SCALING) closes every open shard and opens the target count
with even hash key ranges; each child names the parent holding its starting hash key and,
when its range reaches into another parent, that one as its adjacent parent. AWS gets
there through a series of splits and merges (more intermediate shards); the lineage
here is the direct one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lambic.project.account import LOCAL_ACCOUNT_ID
from lambic.services.kinesis import keys
from lambic.services.kinesis.errors import (
    InvalidArgumentError,
    LimitExceededError,
    ResourceInUseError,
    ValidationError,
    constraint,
    shard_not_resolved,
)
from lambic.services.kinesis.model import (
    ON_DEMAND,
    Shard,
    Stream,
    check_int,
    check_string,
    stream_name,
)

if TYPE_CHECKING:
    from lambic.services.kinesis.engine import KinesisEngine


def split_shard(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    name = _required_shard(request, "ShardToSplit", "shardToSplit")
    index = _shard_index(request, name)
    key_text = request.get("NewStartingHashKey")
    if key_text is None:
        raise constraint(None, "newStartingHashKey", "Member must not be null")
    if not isinstance(key_text, str) or not key_text.isdigit():
        raise constraint(
            key_text,
            "newStartingHashKey",
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
        )
    new_start = int(key_text)
    with engine.lock:
        stream = engine.requested_stream(request)
        shards = engine.shards(stream)
        parent = _open_shard(shards, index, stream)
        # As AWS's sentence says: strictly between StartingHashKey + 1 and EndingHashKey.
        if not parent.start_hash + 1 < new_start < parent.end_hash:
            raise InvalidArgumentError(
                f"NewStartingHashKey {new_start} used in SplitShard() on shard {parent.id} in "
                f"stream {stream.name} under account {LOCAL_ACCOUNT_ID} is not both greater "
                f"than one plus the shard's StartingHashKey {parent.start_hash} and less than "
                f"the shard's EndingHashKey {parent.end_hash}."
            )
        _check_room(engine, 1)
        next_index = shards[-1].index + 1
        _reshard(
            engine,
            stream,
            [parent],
            [
                ((parent.start_hash, new_start - 1), (parent.index, None)),
                ((new_start, parent.end_hash), (parent.index, None)),
            ],
            next_index,
        )
    return {}


def merge_shards(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    first_name = _required_shard(request, "ShardToMerge", "shardToMerge")
    second_name = _required_shard(request, "AdjacentShardToMerge", "adjacentShardToMerge")
    first_index = _shard_index(request, first_name)
    second_index = _shard_index(request, second_name)
    with engine.lock:
        stream = engine.requested_stream(request)
        shards = engine.shards(stream)
        first = _open_shard(shards, first_index, stream)
        second = _open_shard(shards, second_index, stream)
        # The adjacent shard must follow ShardToMerge's range: named the other way round
        # they are refused too (kinesalite's recordings of AWS).
        low, high = first, second
        if low.end_hash + 1 != high.start_hash:
            raise InvalidArgumentError(
                f"Shards {first.id} and {second.id} in stream {stream.name} under account "
                f"{LOCAL_ACCOUNT_ID} are not an adjacent pair of shards eligible for merging"
            )
        _reshard(
            engine,
            stream,
            [first, second],
            [((low.start_hash, high.end_hash), (first.index, second.index))],
            shards[-1].index + 1,
        )
    return {}


def update_shard_count(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    target = request.get("TargetShardCount")
    if target is None:
        raise constraint(None, "targetShardCount", "Member must not be null")
    check_int(target, "targetShardCount", 1)
    scaling = request.get("ScalingType")
    if scaling != "UNIFORM_SCALING":
        raise constraint(
            scaling, "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]"
        )
    with engine.lock:
        stream = engine.requested_stream(request)
        if stream.mode == ON_DEMAND:
            # "only supported for the data streams with the provisioned capacity mode"
            raise ValidationError(
                f"Request is invalid. Stream {stream.name} under account {LOCAL_ACCOUNT_ID} "
                "is in On-Demand mode."
            )
        shards = engine.shards(stream)
        parents = [s for s in shards if s.is_open]
        current = len(parents)
        # AWS's default limits, quotas rather than malformed input: LimitExceeded.
        if target > current * 2:
            raise LimitExceededError(
                "UpdateShardCount cannot scale up over double your current open shard count. "
                f"Current open shard count: {current} Target shard count: {target}"
            )
        if target * 2 < current:
            raise LimitExceededError(
                "UpdateShardCount cannot scale down below half your current open shard count. "
                f"Current open shard count: {current} Target shard count: {target}"
            )
        _check_room(engine, target - current)
        if target != current:
            children = []
            for start, end in keys.even_ranges(target):
                overlapping = [p for p in parents if p.start_hash <= end and p.end_hash >= start]
                holder = next(p for p in overlapping if p.holds(start))
                others = [p for p in overlapping if p is not holder]
                adjacent = others[0].index if others else None
                children.append(((start, end), (holder.index, adjacent)))
            _reshard(engine, stream, parents, children, shards[-1].index + 1)
    return {
        "StreamName": stream.name,
        "CurrentShardCount": current,
        "TargetShardCount": target,
        "StreamARN": stream.arn,
    }


def _required_shard(request: dict[str, Any], key: str, member: str) -> str:
    value = request.get(key)
    if value is None:
        raise constraint(None, member, "Member must not be null")
    return check_string(value, member, 1, 128)


def _shard_index(request: dict[str, Any], name: str) -> int:
    """The index a ShardId names; one naming none is refused before the stream is
    looked up (AWS's order: "Could not find shard X" even for a missing stream)."""
    index = keys.parse_shard_id(name)
    if index is None:
        raise shard_not_resolved(name, stream_name(request))
    return index


def _open_shard(shards: list[Shard], index: int, stream: Stream) -> Shard:
    for shard in shards:
        if shard.index == index:
            if not shard.is_open:
                raise ResourceInUseError(
                    f"Shard {shard.id} in stream {stream.name} under account "
                    f"{LOCAL_ACCOUNT_ID} has already been merged or split, and thus is not "
                    "eligible for merging or splitting."
                )
            return shard
    raise shard_not_resolved(keys.shard_id(index), stream.name)


def _check_room(engine: KinesisEngine, added: int) -> None:
    """Refuse a resharding that would take the account past its open shard quota."""
    from lambic.services.kinesis.engine import MAX_OPEN_SHARDS

    current = engine.store.open_shard_count()
    if current + added > MAX_OPEN_SHARDS:
        raise LimitExceededError(
            "This request would exceed the shard limit for the account "
            f"{LOCAL_ACCOUNT_ID}. Current shard count for the account: {current}. "
            f"Limit: {MAX_OPEN_SHARDS}. Number of additional shards that would have "
            f"resulted from this request: {added}."
        )


def _reshard(
    engine: KinesisEngine,
    stream: Stream,
    parents: list[Shard],
    children: Sequence[tuple[tuple[int, int], tuple[int | None, int | None]]],
    first_index: int,
) -> None:
    """Close `parents` and open `children` (hash range, (parent, adjacent parent)), at once."""
    now = time.time()
    store = engine.store
    with store.transaction():
        for parent in parents:
            last = store.last_position(stream.sid, parent.index)
            store.close_shard(stream.sid, parent.index, max(parent.start_pos, last or 0), now)
        start = store.log_position()
        for offset, (hash_range, lineage) in enumerate(children):
            store.insert_shard(stream.sid, first_index + offset, hash_range, lineage, start, now)
