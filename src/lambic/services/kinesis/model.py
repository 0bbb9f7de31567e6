"""Streams and shards as the engine reads them from the store, and the request checks
every operation shares (stream names and ARNs, botocore's shape limits)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services.kinesis import keys
from lambic.services.kinesis.errors import (
    InvalidArgumentError,
    ValidationError,
    constraint,
)

_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_STREAM_ARN = re.compile(r"arn:aws[a-z-]*:kinesis:[a-z0-9-]+:(\d{12}):stream/([a-zA-Z0-9_.-]+)")
#: Stream modes (StreamModeDetails.StreamMode).
PROVISIONED, ON_DEMAND = "PROVISIONED", "ON_DEMAND"
#: The shards an on-demand stream starts with (AWS: 4).
ON_DEMAND_SHARDS = 4
DEFAULT_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760


def stream_arn(name: str) -> str:
    return f"arn:aws:kinesis:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:stream/{name}"


@dataclass(frozen=True)
class Stream:
    sid: int
    name: str
    mode: str
    retention_hours: int
    created: float
    tags: dict[str, str]

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Stream:
        sid, name, mode, retention, created, tags = row
        return cls(int(sid), str(name), str(mode), int(retention), float(created), json.loads(tags))

    @property
    def arn(self) -> str:
        return stream_arn(self.name)

    def mode_details(self) -> dict[str, str]:
        return {"StreamMode": self.mode}


@dataclass(frozen=True)
class Shard:
    index: int
    start_hash: int
    end_hash: int
    parent: int | None
    adjacent_parent: int | None
    start_pos: int
    end_pos: int | None  # None while open
    opened: float
    closed: float | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Shard:
        idx, start, end, parent, adjacent, start_pos, end_pos, opened, closed = row
        return cls(
            int(idx),
            int(start),
            int(end),
            parent,
            adjacent,
            int(start_pos),
            end_pos,
            float(opened),
            closed,
        )

    @property
    def id(self) -> str:
        return keys.shard_id(self.index)

    @property
    def is_open(self) -> bool:
        return self.closed is None

    def holds(self, hash_key: int) -> bool:
        return self.start_hash <= hash_key <= self.end_hash

    def describe(self) -> dict[str, Any]:
        """The `Shard` shape of DescribeStream and ListShards."""
        shard: dict[str, Any] = {"ShardId": self.id}
        if self.parent is not None:
            shard["ParentShardId"] = keys.shard_id(self.parent)
        if self.adjacent_parent is not None:
            shard["AdjacentParentShardId"] = keys.shard_id(self.adjacent_parent)
        shard["HashKeyRange"] = self.hash_range()
        sequence_range = {
            "StartingSequenceNumber": keys.sequence_number(self.index, self.start_pos)
        }
        if self.end_pos is not None:
            sequence_range["EndingSequenceNumber"] = keys.sequence_number(self.index, self.end_pos)
        shard["SequenceNumberRange"] = sequence_range
        return shard

    def hash_range(self) -> dict[str, str]:
        return {"StartingHashKey": str(self.start_hash), "EndingHashKey": str(self.end_hash)}


def check_stream_name(name: object, member: str = "streamName") -> str:
    if name is None:
        raise constraint(None, member, "Member must not be null")
    check_string(name, member, 1, 128)
    if not _STREAM_NAME.fullmatch(str(name)):
        raise constraint(
            name, member, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return str(name)


def stream_name(request: dict[str, Any]) -> str:
    """The stream a request names by `StreamName` or `StreamARN` (either is accepted)."""
    name, arn = request.get("StreamName"), request.get("StreamARN")
    if arn is not None:
        from_arn = name_from_arn(arn, "streamARN")
        if name is not None and check_stream_name(name) != from_arn:
            raise InvalidArgumentError(
                f"StreamName {name} and StreamARN {arn} do not refer to the same stream."
            )
        return from_arn
    if name is None:
        raise ValidationError("Either StreamName or StreamARN should be provided.")
    return check_stream_name(name)


def name_from_arn(arn: object, member: str) -> str:
    check_string(arn, member, 1, 2048)
    match = _STREAM_ARN.fullmatch(str(arn))
    if match is None:
        raise constraint(
            arn,
            member,
            "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:"
            "stream/\\S+",
        )
    return match.group(2)


def check_string(value: object, member: str, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise constraint(value, member, "Member must be a string")
    if len(value) < low:
        raise constraint(value, member, f"Member must have length greater than or equal to {low}")
    if len(value) > high:
        raise constraint(value, member, f"Member must have length less than or equal to {high}")
    return value


def check_int(value: object, member: str, low: int, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise constraint(value, member, "Member must be an integer")
    if value < low:
        raise constraint(value, member, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        raise constraint(value, member, f"Member must have value less than or equal to {high}")
    return value


def optional_int(
    request: dict[str, Any], key: str, member: str, low: int, high: int | None, default: int
) -> int:
    value = request.get(key)
    return default if value is None else check_int(value, member, low, high)
