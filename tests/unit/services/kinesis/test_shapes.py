"""Members of the wrong JSON type are refused as Kinesis's deserializer words it
(sentences kinesalite's tests recorded against AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from lambic.services.kinesis.errors import SerializationError
from lambic.services.kinesis.shapes import check_types

NUMBER = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "DeleteStream",
            {"StreamName": True},
            "class java.lang.Boolean can not be converted to an String",
        ),
        ("DeleteStream", {"StreamName": 23}, f"{NUMBER} can not be converted to an String"),
        ("DeleteStream", {"StreamName": []}, "Start of list found where not expected"),
        ("DeleteStream", {"StreamName": {}}, "Start of structure or map found where not expected."),
        (
            "CreateStream",
            {"ShardCount": "23"},
            "class java.lang.String can not be converted to an Integer",
        ),
        (
            "CreateStream",
            {"ShardCount": False},
            "class java.lang.Boolean can not be converted to an Integer",
        ),
        (
            "DeleteStream",
            {"EnforceConsumerDeletion": "23"},
            "'23' can not be converted to an Boolean",
        ),
        (
            "DeleteStream",
            {"EnforceConsumerDeletion": 23},
            f"{NUMBER} can not be converted to an Boolean",
        ),
        ("PutRecord", {"Data": 23}, f"{NUMBER} can not be converted to a Blob"),
        ("PutRecords", {"Records": "23"}, "Expected list or null"),
        ("PutRecords", {"Records": {}}, "Start of structure or map found where not expected."),
        (
            "PutRecords",
            {"Records": [{"PartitionKey": True}]},
            "class java.lang.Boolean can not be converted to an String",
        ),
        ("PutRecords", {"Records": ["23"]}, "Expected null"),
        ("AddTagsToStream", {"Tags": 23}, "Expected map or null"),
        ("AddTagsToStream", {"Tags": []}, "Start of list found where not expected"),
        ("AddTagsToStream", {"Tags": {"a": 23}}, f"{NUMBER} can not be converted to an String"),
        ("CreateStream", {"StreamModeDetails": "23"}, "Expected null"),
        (
            "GetShardIterator",
            {"Timestamp": "23"},
            "class java.lang.String can not be converted to milliseconds since epoch",
        ),
    ],
)
def test_a_member_of_the_wrong_json_type_is_a_serialization_exception(
    operation: str, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(SerializationError) as refused:
        check_types(operation, body)
    assert refused.value.message == message


def test_right_types_nulls_and_unknown_members_pass() -> None:
    check_types(
        "PutRecords",
        {"StreamName": "s", "Records": [{"Data": "eA==", "PartitionKey": "k"}], "Other": 1},
    )
    check_types("DeleteStream", {"StreamName": None, "EnforceConsumerDeletion": 1.5})
    check_types("GetShardIterator", {"Timestamp": 1700000000.5})
