"""DynamoDB Streams shards through the edge: DescribeStream paging and filters, closed
shards, GetShardIterator's argument rules, as AWS answers them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.dynamodb import create_service
from lambic.services.server import EdgeServer
from tests._support.clients import aws_client


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    service = create_service(None)
    edge = EdgeServer({"dynamodb": service}).start()
    yield edge.url
    edge.stop()
    service.close()


@pytest.fixture
def stream(url: str) -> tuple[Any, Any, str, str]:
    """(dynamodb client, streams client, table name, stream ARN) of a fresh KEYS_ONLY stream."""
    ddb, streams = (
        aws_client("dynamodb", url),
        aws_client("dynamodbstreams", url, parameter_validation=False),
    )
    name = "sh-" + uuid.uuid4().hex[:10]
    arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]["LatestStreamArn"]
    return ddb, streams, name, arn


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def _all_shards(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every shard, paging with Limit=1 and ExclusiveStartShardId as consumers do."""
    page = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"]
    shards = list(page["Shards"])
    while "LastEvaluatedShardId" in page:
        assert page["LastEvaluatedShardId"] == shards[-1]["ShardId"]
        page = streams.describe_stream(
            StreamArn=arn, Limit=1, ExclusiveStartShardId=page["LastEvaluatedShardId"]
        )["StreamDescription"]
        shards += page["Shards"]
    return shards


def test_describe_stream_pages_through_shards_and_stops_after_the_last(
    stream: tuple[Any, Any, str, str],
) -> None:
    _, streams, _, arn = stream
    shards = _all_shards(streams, arn)
    assert len(shards) == 1
    assert "ParentShardId" not in shards[0]  # the stream's first shard has no parent
    after_last = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shards[-1]["ShardId"])
    assert after_last["StreamDescription"]["Shards"] == []
    assert "LastEvaluatedShardId" not in after_last["StreamDescription"]
    # A well-formed id past every shard is not an error on AWS either: just no shards.
    beyond = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId="shardId-" + "z" * 40)
    assert beyond["StreamDescription"]["Shards"] == []


def test_child_shards_filter_lists_the_children_of_a_shard(
    stream: tuple[Any, Any, str, str],
) -> None:
    _, streams, _, arn = stream
    (shard,) = _all_shards(streams, arn)
    children = streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard["ShardId"]}
    )["StreamDescription"]
    assert children["Shards"] == [] and children["StreamArn"] == arn
    for bad in (
        {"Type": "PARENT_SHARDS", "ShardId": shard["ShardId"]},
        {"ShardId": shard["ShardId"]},
        {"Type": "CHILD_SHARDS"},
        {"Type": "CHILD_SHARDS", "ShardId": "short"},
    ):
        with pytest.raises(ClientError) as excinfo:
            streams.describe_stream(StreamArn=arn, ShardFilter=bad)
        assert _code(excinfo) == "ValidationException"
    with pytest.raises(ClientError, match=r"shardFilter\.shardId"):
        streams.describe_stream(
            StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": "short"}
        )


def test_a_malformed_stream_arn_is_invalid_and_an_unknown_one_is_not_found(
    stream: tuple[Any, Any, str, str],
) -> None:
    _, streams, _, arn = stream
    bogus = "not-an-arn-but-long-enough-to-pass-the-length-check"
    for call in (
        lambda: streams.describe_stream(StreamArn=bogus),
        lambda: streams.list_streams(ExclusiveStartStreamArn=bogus),
        lambda: streams.get_shard_iterator(
            StreamArn=bogus, ShardId="shardId-" + "0" * 30, ShardIteratorType="LATEST"
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _code(excinfo) == "ValidationException"
    unknown = arn.replace(":table/", ":table/gone-")
    with pytest.raises(ClientError) as excinfo:
        streams.describe_stream(StreamArn=unknown)
    assert _code(excinfo) == "ResourceNotFoundException"


def test_sequence_numbers_go_with_the_iterator_types_that_take_them(
    stream: tuple[Any, Any, str, str],
) -> None:
    ddb, streams, name, arn = stream
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    (shard,) = _all_shards(streams, arn)
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    base = {"StreamArn": arn, "ShardId": shard["ShardId"]}
    for kind in ("TRIM_HORIZON", "LATEST"):
        with pytest.raises(ClientError, match="Must not specify a sequence number"):
            streams.get_shard_iterator(**base, ShardIteratorType=kind, SequenceNumber=start)
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        with pytest.raises(ClientError, match="Must specify a sequence number"):
            streams.get_shard_iterator(**base, ShardIteratorType=kind)
    with pytest.raises(ClientError) as excinfo:
        streams.get_shard_iterator(**base, ShardIteratorType="NEWEST")
    assert _code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        streams.get_shard_iterator(
            StreamArn=arn, ShardId="shardId-" + "9" * 30, ShardIteratorType="LATEST"
        )
    assert _code(excinfo) == "ResourceNotFoundException"


def test_at_timestamp_starts_at_the_first_record_written_since(
    stream: tuple[Any, Any, str, str],
) -> None:
    ddb, streams, name, arn = stream
    ddb.put_item(TableName=name, Item={"pk": {"S": "old"}})
    time.sleep(1.05)  # records carry whole seconds
    since = time.time()
    ddb.put_item(TableName=name, Item={"pk": {"S": "new"}})
    (shard,) = _all_shards(streams, arn)
    base = {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "AT_TIMESTAMP"}
    iterator = streams.get_shard_iterator(**base, Timestamp=int(since) + 0.0)["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["new"]
    with pytest.raises(ClientError, match="in the future"):
        streams.get_shard_iterator(**base, Timestamp=time.time() + 3600)


def test_a_disabled_stream_has_a_closed_shard_that_stays_readable(
    stream: tuple[Any, Any, str, str],
) -> None:
    ddb, streams, name, arn = stream
    (shard,) = _all_shards(streams, arn)
    base = {"StreamArn": arn, "ShardId": shard["ShardId"]}
    latest = streams.get_shard_iterator(**base, ShardIteratorType="LATEST")["ShardIterator"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    with pytest.raises(ClientError, match="Table has no stream to disable: TableName: " + name):
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    (closed,) = _all_shards(streams, arn)
    assert closed["SequenceNumberRange"]["EndingSequenceNumber"].isdecimal()
    # Read to the end of the closed shard: the last page carries no NextShardIterator.
    page = streams.get_records(ShardIterator=latest)
    assert len(page["Records"]) == 1 and "NextShardIterator" not in page
    again = streams.get_shard_iterator(**base, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(streams.get_records(ShardIterator=again)["Records"]) == 1


def test_an_open_shard_always_gives_a_next_iterator(stream: tuple[Any, Any, str, str]) -> None:
    _, streams, _, arn = stream
    (shard,) = _all_shards(streams, arn)
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator)
    assert page["Records"] == [] and "NextShardIterator" in page
