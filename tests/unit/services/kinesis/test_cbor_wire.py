"""Kinesis's CBOR requests read into the handlers' JSON shape, answers written back."""

from __future__ import annotations

import pytest

from lambic.services._cbor import Tagged, dumps, loads
from lambic.services.kinesis.cbor_wire import read_request, write_response
from lambic.services.kinesis.errors import SerializationError


def test_blobs_become_base64_and_tagged_millis_become_seconds_at_any_depth() -> None:
    body = dumps(
        {
            "StreamName": "s",
            "ShardFilter": {"Type": "FROM_TIMESTAMP", "Timestamp": Tagged(1, 1500)},
            "StreamCreationTimestamp": Tagged(1, 2_000_250),
        }
    )
    assert read_request("ListShards", body) == {
        "StreamName": "s",
        "ShardFilter": {"Type": "FROM_TIMESTAMP", "Timestamp": 1.5},
        "StreamCreationTimestamp": 2000.25,
    }
    records = read_request("PutRecords", dumps({"Records": [{"Data": b"\x00\xff"}]}))
    assert records == {"Records": [{"Data": "AP8="}]}


def test_an_empty_body_is_an_empty_request() -> None:
    assert read_request("ListStreams", b"") == {}


@pytest.mark.parametrize(
    "value",
    [
        {"Timestamp": Tagged(0, "2013-03-21T20:04:00Z")},  # a date string: not AWS's form
        {"Timestamp": Tagged(1, "soon")},
        {"ShardId": Tagged(1, 5)},  # a timestamp where a string belongs
        {"ShardId": b"shardId-000000000000"},
        {1: "integer member name"},
        {"Limit": float("nan")},
    ],
)
def test_values_the_shape_cannot_hold_are_serialization_errors(value: object) -> None:
    with pytest.raises(SerializationError):
        read_request("GetShardIterator", dumps(value))


def test_answers_carry_data_as_bytes_and_timestamps_as_tagged_millis() -> None:
    answer = {
        "Records": [{"Data": "AP8=", "ApproximateArrivalTimestamp": 1700000000.123}],
        "StreamDescriptionSummary": {"StreamCreationTimestamp": 1700000000.0, "Data": 1},
    }
    assert loads(write_response(answer)) == {
        "Records": [{"Data": b"\x00\xff", "ApproximateArrivalTimestamp": Tagged(1, 1700000000123)}],
        "StreamDescriptionSummary": {
            "StreamCreationTimestamp": Tagged(1, 1700000000000),
            "Data": 1,
        },
    }
