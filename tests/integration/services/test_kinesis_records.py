"""Kinesis records with unchanged boto3 over a real edge: puts, iterators, reads, limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import create_services
from lambic.services.server import EdgeServer

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"


@pytest.fixture
def kinesis(start_edge: Callable[..., EdgeServer], make_client: Callable[..., Any]) -> Any:
    edge = start_edge(create_services(None, names=["kinesis"]).by_name())
    client = make_client("kinesis", edge.url)
    client.create_stream(StreamName="s", ShardCount=2)
    return client


def _error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error: dict[str, Any] = caught.value.response["Error"]
    return error


def _iterator(kinesis: Any, shard: str, kind: str = "TRIM_HORIZON", **extra: Any) -> str:
    answer = kinesis.get_shard_iterator(
        StreamName="s", ShardId=shard, ShardIteratorType=kind, **extra
    )
    return str(answer["ShardIterator"])


def test_records_of_one_key_are_read_back_in_order_with_their_fields(kinesis: Any) -> None:
    puts = [
        kinesis.put_record(StreamName="s", Data=f"m{i}".encode(), PartitionKey="k")
        for i in range(5)
    ]
    shard = puts[0]["ShardId"]
    assert {p["ShardId"] for p in puts} == {shard}
    assert [int(p["SequenceNumber"]) for p in puts] == sorted(
        int(p["SequenceNumber"]) for p in puts
    )

    answer = kinesis.get_records(ShardIterator=_iterator(kinesis, shard), Limit=3)
    assert [r["Data"] for r in answer["Records"]] == [b"m0", b"m1", b"m2"]
    first = answer["Records"][0]
    assert first["PartitionKey"] == "k"
    assert first["SequenceNumber"] == puts[0]["SequenceNumber"]
    assert abs(first["ApproximateArrivalTimestamp"].timestamp() - time.time()) < 60
    assert answer["MillisBehindLatest"] >= 0
    rest = kinesis.get_records(ShardIterator=answer["NextShardIterator"])
    assert [r["Data"] for r in rest["Records"]] == [b"m3", b"m4"]
    assert rest["MillisBehindLatest"] == 0
    empty = kinesis.get_records(ShardIterator=rest["NextShardIterator"])
    assert empty["Records"] == [] and "NextShardIterator" in empty


def test_iterator_types_start_where_aws_starts_them(kinesis: Any) -> None:
    puts = [
        kinesis.put_record(StreamName="s", Data=f"m{i}".encode(), PartitionKey="k")
        for i in range(3)
    ]
    shard, middle = puts[0]["ShardId"], puts[1]["SequenceNumber"]

    def read(iterator: str) -> list[bytes]:
        return [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]

    assert read(_iterator(kinesis, shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=middle)) == [
        b"m1",
        b"m2",
    ]
    assert read(
        _iterator(kinesis, shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=middle)
    ) == [b"m2"]
    latest = _iterator(kinesis, shard, "LATEST")
    assert read(latest) == []
    kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k")
    assert read(latest) == [b"new"]
    past = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert read(_iterator(kinesis, shard, "AT_TIMESTAMP", Timestamp=past))[:1] == [b"m0"]

    error = _error(
        kinesis.get_shard_iterator,
        StreamName="s",
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber="1234",
    )
    assert error["Code"] == "InvalidArgumentException"
    error = _error(
        kinesis.get_shard_iterator,
        StreamName="s",
        ShardId="shardId-000000000009",
        ShardIteratorType="LATEST",
    )
    assert error["Code"] == "ResourceNotFoundException"
    assert error["Message"] == (
        "Shard shardId-000000000009 in stream s under account 000000000000 does not exist"
    )


def test_explicit_hash_keys_pick_the_shard_and_put_records_reports_each_record(
    kinesis: Any,
) -> None:
    low = kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey="0")
    high = kinesis.put_record(
        StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128 - 1)
    )
    assert (low["ShardId"], high["ShardId"]) == ("shardId-000000000000", "shardId-000000000001")

    answer = kinesis.put_records(
        StreamARN=ARN + "s",
        Records=[{"Data": f"b{i}".encode(), "PartitionKey": f"key-{i}"} for i in range(20)],
    )
    assert answer["FailedRecordCount"] == 0
    assert len(answer["Records"]) == 20
    assert all(
        r["SequenceNumber"] and r["ShardId"].startswith("shardId-") for r in answer["Records"]
    )
    stored = []
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        stored += kinesis.get_records(ShardIterator=_iterator(kinesis, shard))["Records"]
    assert sorted(r["Data"] for r in stored if r["Data"].startswith(b"b")) == sorted(
        f"b{i}".encode() for i in range(20)
    )


def test_limits_answer_in_aws_words(kinesis: Any) -> None:
    error = _error(
        kinesis.put_record, StreamName="s", Data=b"x" * (1024 * 1024 + 1), PartitionKey="k"
    )
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value at 'data' failed to satisfy constraint: Member "
        "must have length less than or equal to 1048576"
    )
    error = _error(
        kinesis.put_records,
        StreamName="s",
        Records=[{"Data": b"x", "PartitionKey": "k"}] * 501,
    )
    assert error["Code"] == "ValidationException"
    assert (
        "at 'records' failed to satisfy constraint: Member must have length less than or "
        "equal to 500" in error["Message"]
    )
    error = _error(kinesis.put_record, StreamName="s", Data=b"x", PartitionKey="k" * 257)
    assert error["Code"] == "ValidationException"
    assert "at 'partitionKey'" in error["Message"]
    error = _error(kinesis.put_record, StreamName="nope", Data=b"x", PartitionKey="k")
    assert error["Message"] == "Stream nope under account 000000000000 not found."
    iterator = _iterator(kinesis, "shardId-000000000000")
    error = _error(kinesis.get_records, ShardIterator=iterator, Limit=10001)
    assert error["Code"] == "InvalidArgumentException"
    error = _error(kinesis.get_records, ShardIterator="bogus")
    assert error["Code"] == "InvalidArgumentException"


def test_an_iterator_older_than_five_minutes_is_expired(
    kinesis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    iterator = _iterator(kinesis, "shardId-000000000000")
    later = time.time() + 301
    monkeypatch.setattr("lambic.services.kinesis.keys.time.time", lambda: later)
    error = _error(kinesis.get_records, ShardIterator=iterator)
    assert error["Code"] == "ExpiredIteratorException"
    assert error["Message"].startswith("Iterator expired. The iterator was created at time ")
    assert error["Message"].endswith("tolerated delay of 300000 milliseconds.")
