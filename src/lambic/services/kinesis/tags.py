"""Stream tags (both APIs: *TagsToStream/*ForStream and *Resource) and retention periods.

Tags are kept on the stream's row as one JSON object; a stream holds at most 50.
Retention is 24 hours by default and between 24 and 8760 hours (a year); records older
than it are no longer returned.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lambic.project.account import LOCAL_ACCOUNT_ID
from lambic.services.kinesis.errors import InvalidArgumentError, constraint
from lambic.services.kinesis.model import (
    MAX_RETENTION_HOURS,
    Stream,
    check_int,
    check_string,
    name_from_arn,
    optional_int,
)

if TYPE_CHECKING:
    from lambic.services.kinesis.engine import KinesisEngine

MAX_TAGS = 50
_MIN_RETENTION_HOURS = 24


def add_tags_to_stream(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    tags = check_tags(request.get("Tags"))
    with engine.lock:
        _merge_tags(engine, engine.requested_stream(request), tags)
    return {}


def remove_tags_from_stream(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    names = _tag_keys(request.get("TagKeys"))
    with engine.lock:
        _drop_tags(engine, engine.requested_stream(request), names)
    return {}


def list_tags_for_stream(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    limit = optional_int(request, "Limit", "limit", 1, MAX_TAGS, MAX_TAGS)
    after = request.get("ExclusiveStartTagKey")
    if after is not None:
        check_string(after, "exclusiveStartTagKey", 1, 128)
    with engine.lock:
        tags = engine.requested_stream(request).tags
    names = sorted(k for k in tags if after is None or k > after)
    return {
        "Tags": [{"Key": k, "Value": tags[k]} for k in names[:limit]],
        "HasMoreTags": len(names) > limit,
    }


def tag_resource(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    tags = check_tags(request.get("Tags"))
    with engine.lock:
        _merge_tags(engine, _resource(engine, request), tags)
    return {}


def untag_resource(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    names = _tag_keys(request.get("TagKeys"))
    with engine.lock:
        _drop_tags(engine, _resource(engine, request), names)
    return {}


def list_tags_for_resource(engine: KinesisEngine, request: dict[str, Any]) -> dict[str, Any]:
    with engine.lock:
        tags = _resource(engine, request).tags
    return {"Tags": [{"Key": k, "Value": tags[k]} for k in sorted(tags)]}


def increase_stream_retention_period(
    engine: KinesisEngine, request: dict[str, Any]
) -> dict[str, Any]:
    return _set_retention(engine, request, longer=True)


def decrease_stream_retention_period(
    engine: KinesisEngine, request: dict[str, Any]
) -> dict[str, Any]:
    return _set_retention(engine, request, longer=False)


def _set_retention(
    engine: KinesisEngine, request: dict[str, Any], *, longer: bool
) -> dict[str, Any]:
    hours = request.get("RetentionPeriodHours")
    if hours is None:
        raise constraint(None, "retentionPeriodHours", "Member must not be null")
    check_int(hours, "retentionPeriodHours", -(2**31))
    if hours < _MIN_RETENTION_HOURS:
        raise InvalidArgumentError(
            f"Minimum allowed retention period is {_MIN_RETENTION_HOURS} hours. Requested "
            f"retention period ({hours} hours) is too short."
        )
    if hours > MAX_RETENTION_HOURS:
        raise InvalidArgumentError(
            f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested "
            f"retention period ({hours} hours) is too long."
        )
    with engine.lock:
        stream = engine.requested_stream(request)
        current = stream.retention_hours
        if longer and hours < current:
            raise InvalidArgumentError(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not "
                f"be shorter than existing retention period ({current} hours). Use "
                "DecreaseRetentionPeriod API."
            )
        if not longer and hours > current:
            raise InvalidArgumentError(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not "
                f"be longer than existing retention period ({current} hours). Use "
                "IncreaseRetentionPeriod API."
            )
        engine.store.set_retention(stream.sid, hours)
    return {}


def _resource(engine: KinesisEngine, request: dict[str, Any]) -> Stream:
    arn = request.get("ResourceARN")
    if arn is None:
        raise constraint(None, "resourceARN", "Member must not be null")
    return engine.stream(name_from_arn(arn, "resourceARN"))


def check_tags(tags: object) -> dict[str, str]:
    """A `Tags` map checked as Kinesis checks it (1-50 pairs, keys 1-128, values 0-256)."""
    if tags is None:
        raise constraint(None, "tags", "Member must not be null")
    if not isinstance(tags, dict):
        raise constraint(tags, "tags", "Member must be a map")
    if not tags:
        raise constraint("{}", "tags", "Member must have length greater than or equal to 1")
    for key, value in tags.items():
        check_string(key, "tags.key", 1, 128)
        check_string(value, "tags.value", 0, 256)
    if len(tags) > MAX_TAGS:
        raise InvalidArgumentError(
            f"Failed to add tags because a given stream cannot have more than {MAX_TAGS} tags."
        )
    return {str(k): str(v) for k, v in tags.items()}


def _tag_keys(names: object) -> list[str]:
    if names is None:
        raise constraint(None, "tagKeys", "Member must not be null")
    if not isinstance(names, list) or not names:
        raise constraint(names, "tagKeys", "Member must have length greater than or equal to 1")
    if len(names) > MAX_TAGS:
        raise constraint(
            "[...]", "tagKeys", f"Member must have length less than or equal to {MAX_TAGS}"
        )
    return [check_string(name, "tagKeys.member", 1, 128) for name in names]


def _merge_tags(engine: KinesisEngine, stream: Stream, tags: dict[str, str]) -> None:
    merged = {**stream.tags, **tags}
    if len(merged) > MAX_TAGS:
        raise InvalidArgumentError(
            f"Failed to add tags to stream {stream.name} under account {LOCAL_ACCOUNT_ID} "
            f"because a given stream cannot have more than {MAX_TAGS} tags."
        )
    engine.store.set_tags(stream.sid, json.dumps(merged))


def _drop_tags(engine: KinesisEngine, stream: Stream, names: list[str]) -> None:
    kept = {k: v for k, v in stream.tags.items() if k not in names}
    engine.store.set_tags(stream.sid, json.dumps(kept))
