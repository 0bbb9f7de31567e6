"""Kinesis Data Streams' semantics over the store: streams and their shards.

Data flow: `service` → operation (a method here, or a function of `records`,
`resharding`, `tags` taking this engine) → `KinesisStore` (SQLite) → the result dict.
Every operation runs under `lock`, which the runtime's Kinesis event source also takes
(it reads the engine from another thread). Streams are ACTIVE as soon as CreateStream
returns (AWS passes through CREATING for a few seconds), and resharding completes
before its call returns (AWS: UPDATING, then ACTIVE): boto3's stream waiters sleep
10 s between polls, so any transition would cost a waiting test 10 s a stream
(docs/internals.md §2.2.1).

Listeners (`add_listener`) are called with the stream's name after each committed put,
so an event source mapping wakes at once instead of polling.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services.kinesis import keys
from lambic.services.kinesis.errors import (
    ExpiredNextTokenError,
    InvalidArgumentError,
    LimitExceededError,
    ResourceInUseError,
    constraint,
    stream_not_found,
)
from lambic.services.kinesis.model import (
    DEFAULT_RETENTION_HOURS,
    ON_DEMAND,
    ON_DEMAND_SHARDS,
    PROVISIONED,
    Shard,
    Stream,
    check_int,
    check_stream_name,
    check_string,
    optional_int,
    stream_name,
)
from lambic.services.kinesis.store import KinesisStore
from lambic.services.kinesis.tags import check_tags

Listener = Callable[[str], None]

#: Open shards a stream may have locally (AWS's default account quota is 500 or 200).
MAX_OPEN_SHARDS = 500
_DESCRIBE_PAGE = 100
_LIST_STREAMS_PAGE = 100
_LIST_SHARDS_PAGE = 1000
_NEXT_TOKEN_LIFETIME = 300.0
_TRIM_EVERY_SECONDS = 60.0
_FILTER_TYPES = (
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
)


class KinesisEngine:
    """Streams, shards and records; see the module doc."""

    def __init__(self, store: KinesisStore) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._trimmed: dict[int, float] = {}

    # ---- plumbing shared with records/resharding/tags ----------------------------------

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify(self, stream: str) -> None:
        for listener in list(self._listeners):
            listener(stream)

    def stream(self, name: str) -> Stream:
        row = self.store.get_stream(name)
        if row is None:
            raise stream_not_found(name)
        return Stream.from_row(row)

    def requested_stream(self, request: dict[str, Any]) -> Stream:
        return self.stream(stream_name(request))

    def shards(self, stream: Stream) -> list[Shard]:
        return [Shard.from_row(row) for row in self.store.shards(stream.sid)]

    def trim(self, stream: Stream, now: float) -> None:
        """Drop records past the retention period, at most once a minute per stream (a
        read never returns them anyway: this only bounds the log's size)."""
        if now - self._trimmed.get(stream.sid, 0.0) >= _TRIM_EVERY_SECONDS:
            self._trimmed[stream.sid] = now
            self.store.trim(stream.sid, self.trim_horizon(stream, now))

    def trim_horizon(self, stream: Stream, now: float | None = None) -> float:
        """The arrival time before which records have aged out of the stream."""
        return (time.time() if now is None else now) - stream.retention_hours * 3600

    # ---- streams ----------------------------------------------------------------------

    def create_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        name = check_stream_name(request.get("StreamName"))
        mode_details = request.get("StreamModeDetails")
        mode = PROVISIONED if request.get("ShardCount") is not None else ON_DEMAND
        if mode_details is not None:
            mode = _stream_mode(mode_details)
        count = request.get("ShardCount")
        if mode == PROVISIONED:
            if count is None:
                raise InvalidArgumentError(
                    "ShardCount is required for streams in PROVISIONED mode."
                )
            count = check_int(count, "shardCount", 1)
        else:
            if count is not None:
                check_int(count, "shardCount", 1)
            count = ON_DEMAND_SHARDS
        tags = request.get("Tags")
        if tags is not None:
            tags = check_tags(tags)
        with self.lock:
            if self.store.get_stream(name) is not None:
                raise ResourceInUseError(
                    f"Stream {name} under account {LOCAL_ACCOUNT_ID} already exists."
                )
            current = self.store.open_shard_count()
            if current + count > MAX_OPEN_SHARDS:
                raise LimitExceededError(
                    "This request would exceed the shard limit for the account "
                    f"{LOCAL_ACCOUNT_ID} in {LOCAL_REGION}. Current shard count for the "
                    f"account: {current}. Limit: {MAX_OPEN_SHARDS}. Number of additional "
                    f"shards that would have resulted from this request: {count}. Refer to "
                    "the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/"
                    "aws_service_limits.html) for current limits and how to request higher "
                    "limits."
                )
            now = time.time()
            with self.store.transaction():
                sid = self.store.insert_stream(name, mode, DEFAULT_RETENTION_HOURS, now)
                start = self.store.log_position()
                for index, hash_range in enumerate(keys.even_ranges(count)):
                    self.store.insert_shard(sid, index, hash_range, (None, None), start, now)
                if tags:
                    self.store.set_tags(sid, json.dumps(tags))
        return {}

    def delete_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            stream = self.requested_stream(request)
            with self.store.transaction():
                self.store.delete_stream(stream.sid)
        return {}

    def describe_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        limit = min(
            optional_int(request, "Limit", "limit", 1, 10000, _DESCRIBE_PAGE), _DESCRIBE_PAGE
        )
        after = request.get("ExclusiveStartShardId")
        if after is not None:
            check_string(after, "exclusiveStartShardId", 1, 128)
        with self.lock:
            stream = self.requested_stream(request)
            shards = self.shards(stream)
        if after is not None:
            shards = [s for s in shards if s.id > after]
        return {
            "StreamDescription": {
                "StreamName": stream.name,
                "StreamARN": stream.arn,
                "StreamStatus": "ACTIVE",
                "StreamModeDetails": stream.mode_details(),
                "Shards": [s.describe() for s in shards[:limit]],
                "HasMoreShards": len(shards) > limit,
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": stream.created,
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
            }
        }

    def describe_stream_summary(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            stream = self.requested_stream(request)
            open_shards = sum(1 for s in self.shards(stream) if s.is_open)
        return {
            "StreamDescriptionSummary": {
                "StreamName": stream.name,
                "StreamARN": stream.arn,
                "StreamStatus": "ACTIVE",
                "StreamModeDetails": stream.mode_details(),
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": stream.created,
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
                "OpenShardCount": open_shards,
                "ConsumerCount": 0,
            }
        }

    def list_streams(self, request: dict[str, Any]) -> dict[str, Any]:
        limit = min(optional_int(request, "Limit", "limit", 1, 10000, _LIST_STREAMS_PAGE), 100)
        token = request.get("NextToken")
        after = request.get("ExclusiveStartStreamName")
        if token is not None:
            after = _decode_token(token, "ListStreams")["after"]
        elif after is not None:
            after = check_stream_name(after, "exclusiveStartStreamName")
        with self.lock:
            rows = self.store.list_streams(str(after or ""), limit + 1)
        streams = [Stream.from_row(row) for row in rows]
        page, more = streams[:limit], len(streams) > limit
        result: dict[str, Any] = {
            "StreamNames": [s.name for s in page],
            "HasMoreStreams": more,
            "StreamSummaries": [
                {
                    "StreamName": s.name,
                    "StreamARN": s.arn,
                    "StreamStatus": "ACTIVE",
                    "StreamModeDetails": s.mode_details(),
                    "StreamCreationTimestamp": s.created,
                }
                for s in page
            ],
        }
        if more:
            result["NextToken"] = _encode_token({"after": page[-1].name})
        return result

    def list_shards(self, request: dict[str, Any]) -> dict[str, Any]:
        limit = optional_int(request, "MaxResults", "maxResults", 1, 10000, _LIST_SHARDS_PAGE)
        token = request.get("NextToken")
        if token is not None:
            if request.get("StreamName") is not None or request.get("StreamARN") is not None:
                raise InvalidArgumentError("NextToken and StreamName cannot be provided together.")
            if request.get("ExclusiveStartShardId") is not None:
                raise InvalidArgumentError(
                    "NextToken and ExclusiveStartShardId cannot be provided together."
                )
            state = _decode_token(token, "ListShards")
            name, created = str(state["stream"]), state["created"]
            after: str | None = str(state["after"])
            shard_filter = state.get("filter")
        else:
            if request.get("StreamName") is None and request.get("StreamARN") is None:
                raise InvalidArgumentError("Either NextToken or StreamName should be provided.")
            name = stream_name(request)
            after = request.get("ExclusiveStartShardId")
            if after is not None:
                check_string(after, "exclusiveStartShardId", 1, 128)
            created = None
            shard_filter = request.get("ShardFilter")
        with self.lock:
            stream = self.stream(name)
            if created is not None and created != stream.created:
                raise ExpiredNextTokenError(f"The timestamp of the NextToken {token} has expired.")
            shards = self.shards(stream)
            if shard_filter is not None:
                shards = _filtered(shards, shard_filter, self.trim_horizon(stream), stream.created)
        if after is not None:
            shards = [s for s in shards if s.id > after]
        page = shards[:limit]
        result: dict[str, Any] = {"Shards": [s.describe() for s in page]}
        if len(shards) > limit:
            result["NextToken"] = _encode_token(
                {
                    "stream": stream.name,
                    "after": page[-1].id,
                    "created": stream.created,
                    "filter": shard_filter,
                }
            )
        return result


def _stream_mode(details: object) -> str:
    mode = details.get("StreamMode") if isinstance(details, dict) else None
    if mode not in (PROVISIONED, ON_DEMAND):
        raise constraint(
            mode,
            "streamModeDetails.streamMode",
            "Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]",
        )
    return str(mode)


def _filtered(
    shards: list[Shard], spec: object, trim_horizon: float, created: float
) -> list[Shard]:
    """ListShards' `ShardFilter`: which shards of the stream the filter keeps."""
    if not isinstance(spec, dict):
        raise constraint(spec, "shardFilter", "Member must be a structure")
    kind = spec.get("Type")
    if kind not in _FILTER_TYPES:
        raise constraint(
            kind,
            "shardFilter.type",
            "Member must satisfy enum value set: [" + ", ".join(_FILTER_TYPES) + "]",
        )
    if kind == "AFTER_SHARD_ID":
        after = spec.get("ShardId")
        if after is None:
            raise InvalidArgumentError(
                "Must specify ShardId in ShardFilter when Type is AFTER_SHARD_ID"
            )
        return [s for s in shards if s.id > str(after)]
    if kind == "AT_LATEST":
        return [s for s in shards if s.is_open]
    if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        moment = spec.get("Timestamp")
        if not isinstance(moment, int | float):
            raise InvalidArgumentError(f"Must specify Timestamp in ShardFilter when Type is {kind}")
    else:
        moment = max(trim_horizon, created)
    if kind.startswith("FROM_"):
        return [s for s in shards if s.closed is None or s.closed >= moment]
    # AT_*: the shards open at that moment (a moment before the stream: its first shards).
    moment = max(float(moment), created)
    return [s for s in shards if s.opened <= moment and (s.closed is None or s.closed > moment)]


def _encode_token(state: dict[str, Any]) -> str:
    state = {**state, "t": time.time()}
    return base64.b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _decode_token(token: object, operation: str) -> dict[str, Any]:
    check_string(token, "nextToken", 1, 1048576)
    try:
        state = json.loads(base64.b64decode(str(token), validate=True))
        issued = float(state["t"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidArgumentError(f"Invalid NextToken for {operation}: {token}") from exc
    if not isinstance(state, dict):
        raise InvalidArgumentError(f"Invalid NextToken for {operation}: {token}")
    if time.time() - issued > _NEXT_TOKEN_LIFETIME:
        raise ExpiredNextTokenError(f"The timestamp of the NextToken {token} has expired.")
    return state
