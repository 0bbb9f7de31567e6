"""The JSON type of each request member, checked before any operation runs.

Kinesis deserializes a request into its input shape first: a member of the wrong JSON
type is a `SerializationException` (`{"__type": ..., "Message": ...}`, capital M) in
the words of AWS's Java deserializer, before any constraint is checked. The sentences
are those kinesalite's tests recorded against AWS (github:mhart/kinesalite,
test/helpers.js `assertType`); the member types are botocore's Kinesis model
(2013-12-02 service-2.json, input shapes of the operations served here).

    >>> try:
    ...     check_types("CreateStream", {"StreamName": True})
    ... except SerializationError as refused:
    ...     print(refused.message)
    class java.lang.Boolean can not be converted to an String
"""

from __future__ import annotations

from typing import Any

from lambic.services.kinesis.errors import SerializationError

# A type: a scalar name, ("list", member), ("map", value) or a structure {member: type}.
Shape = Any

_STREAM = {"StreamName": "string", "StreamARN": "string", "StreamId": "string"}
_RECORD = {"Data": "blob", "ExplicitHashKey": "string", "PartitionKey": "string"}
_TAG_MAP = ("map", "string")
_KEY_LIST = ("list", "string")

INPUTS: dict[str, dict[str, Shape]] = {
    "CreateStream": {
        **_STREAM,
        "ShardCount": "integer",
        "StreamModeDetails": {"StreamMode": "string"},
        "Tags": _TAG_MAP,
        "WarmThroughputMiBps": "integer",
        "MaxRecordSizeInKiB": "integer",
        "RecordDistributionStrategy": "string",
    },
    "DeleteStream": {**_STREAM, "EnforceConsumerDeletion": "boolean"},
    "DescribeStream": {**_STREAM, "Limit": "integer", "ExclusiveStartShardId": "string"},
    "DescribeStreamSummary": _STREAM,
    "ListStreams": {
        "Limit": "integer",
        "ExclusiveStartStreamName": "string",
        "NextToken": "string",
    },
    "ListShards": {
        **_STREAM,
        "NextToken": "string",
        "ExclusiveStartShardId": "string",
        "MaxResults": "integer",
        "StreamCreationTimestamp": "timestamp",
        "ShardFilter": {"Type": "string", "ShardId": "string", "Timestamp": "timestamp"},
    },
    "PutRecord": {**_STREAM, **_RECORD, "SequenceNumberForOrdering": "string", "DryRun": "boolean"},
    "PutRecords": {**_STREAM, "Records": ("list", _RECORD), "DryRun": "boolean"},
    "GetShardIterator": {
        **_STREAM,
        "ShardId": "string",
        "ShardIteratorType": "string",
        "StartingSequenceNumber": "string",
        "Timestamp": "timestamp",
        "DryRun": "boolean",
    },
    "GetRecords": {
        "ShardIterator": "string",
        "Limit": "integer",
        "StreamARN": "string",
        "StreamId": "string",
        "DryRun": "boolean",
    },
    "SplitShard": {**_STREAM, "ShardToSplit": "string", "NewStartingHashKey": "string"},
    "MergeShards": {**_STREAM, "ShardToMerge": "string", "AdjacentShardToMerge": "string"},
    "UpdateShardCount": {**_STREAM, "TargetShardCount": "integer", "ScalingType": "string"},
    "AddTagsToStream": {**_STREAM, "Tags": _TAG_MAP},
    "RemoveTagsFromStream": {**_STREAM, "TagKeys": _KEY_LIST},
    "ListTagsForStream": {**_STREAM, "ExclusiveStartTagKey": "string", "Limit": "integer"},
    "TagResource": {"Tags": _TAG_MAP, "ResourceARN": "string", "StreamId": "string"},
    "UntagResource": {"TagKeys": _KEY_LIST, "ResourceARN": "string", "StreamId": "string"},
    "ListTagsForResource": {"ResourceARN": "string", "StreamId": "string"},
    "IncreaseStreamRetentionPeriod": {**_STREAM, "RetentionPeriodHours": "integer"},
    "DecreaseStreamRetentionPeriod": {**_STREAM, "RetentionPeriodHours": "integer"},
}

_LIST_START = "Start of list found where not expected"
_MAP_START = "Start of structure or map found where not expected."
_NUMBER = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
_JAVA = {str: "class java.lang.String", bool: "class java.lang.Boolean"}
_SCALAR_NAMES = {"string": "an String", "integer": "an Integer", "long": "an Long"}


def check_types(operation: str, body: dict[str, Any]) -> None:
    """Refuse `body` as Kinesis's deserializer would if a member has the wrong JSON type
    (members the operation does not have are ignored, as AWS ignores them)."""
    shape = INPUTS.get(operation)
    if shape is not None:
        _check(shape, body)


def _check(shape: Shape, value: Any) -> None:
    if value is None:
        return
    if isinstance(shape, dict):
        if isinstance(value, list):
            raise SerializationError(_LIST_START)
        if not isinstance(value, dict):
            raise SerializationError("Expected null")
        for member, member_shape in shape.items():
            _check(member_shape, value.get(member))
    elif isinstance(shape, tuple) and shape[0] == "list":
        if isinstance(value, dict):
            raise SerializationError(_MAP_START)
        if not isinstance(value, list):
            raise SerializationError("Expected list or null")
        for item in value:
            _check(shape[1], item)
    elif isinstance(shape, tuple):
        if isinstance(value, list):
            raise SerializationError(_LIST_START)
        if not isinstance(value, dict):
            raise SerializationError("Expected map or null")
        for item in value.values():
            _check(shape[1], item)
    else:
        _scalar(str(shape), value)


def _scalar(kind: str, value: Any) -> None:
    if isinstance(value, list):
        raise SerializationError(_LIST_START)
    if isinstance(value, dict):
        raise SerializationError(_MAP_START)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("string", "blob"):
        if isinstance(value, str):
            return
        source = _NUMBER if number else _JAVA[type(value)]
        target = "a Blob" if kind == "blob" else "an String"
        raise SerializationError(f"{source} can not be converted to {target}")
    if kind in _SCALAR_NAMES:  # integer, long: any JSON number
        if not number:
            raise SerializationError(
                f"{_JAVA[type(value)]} can not be converted to {_SCALAR_NAMES[kind]}"
            )
    elif kind == "boolean":
        if isinstance(value, str):
            raise SerializationError(f"'{value}' can not be converted to an Boolean")
        if number and isinstance(value, int):
            raise SerializationError(f"{_NUMBER} can not be converted to an Boolean")
    elif kind == "timestamp" and not number:
        raise SerializationError(
            f"{_JAVA[type(value)]} can not be converted to milliseconds since epoch"
        )
