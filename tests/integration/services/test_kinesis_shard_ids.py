"""How Kinesis reads the shard a request names, and which refusal comes first.

Facts from kinesalite's tests (github:mhart/kinesalite, recorded against AWS), checked
here with unchanged boto3 over a real edge: a ShardId names the index after its first
`-` (`shardId-5`, `shard-5`, `5`); one naming no index is refused by name before the
stream is looked up; GetShardIterator and GetRecords answer a missing stream as a
missing shard; SplitShard and MergeShards say "Could not find shard".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import create_services
from lambic.services.server import EdgeServer

ACCOUNT = "000000000000"


@pytest.fixture
def kinesis(start_edge: Callable[..., EdgeServer], make_client: Callable[..., Any]) -> Any:
    edge = start_edge(create_services(None, names=["kinesis"]).by_name())
    client = make_client("kinesis", edge.url)
    client.create_stream(StreamName="s", ShardCount=3)
    return client


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_short_and_prefixed_shard_ids_name_the_same_shard(kinesis: Any) -> None:
    put = kinesis.put_record(
        StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128 - 1)
    )
    assert put["ShardId"] == "shardId-000000000002"
    for name in ("shardId-000000000002", "shardId-2", "shard-2", "2", "anything-0002"):
        iterator = kinesis.get_shard_iterator(
            StreamName="s", ShardId=name, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [
            b"x"
        ], name


@pytest.mark.parametrize("shard", ["2147483648", "shardId-002147483648", "ABKLFD8", "2.14E4"])
def test_a_shard_id_naming_no_index_is_refused_by_name_even_for_a_missing_stream(
    kinesis: Any, shard: str
) -> None:
    expected = (
        "ResourceNotFoundException",
        f"Could not find shard {shard} in stream nope under account {ACCOUNT}.",
    )
    assert (
        _error(
            kinesis.get_shard_iterator,
            StreamName="nope",
            ShardId=shard,
            ShardIteratorType="LATEST",
        )
        == expected
    )
    assert (
        _error(
            kinesis.split_shard,
            StreamName="nope",
            ShardToSplit=shard,
            NewStartingHashKey="1",
        )
        == expected
    )
    assert (
        _error(
            kinesis.merge_shards,
            StreamName="nope",
            ShardToMerge="shard-0",
            AdjacentShardToMerge=shard,
        )
        == expected
    )


def test_get_shard_iterator_answers_a_missing_stream_as_its_missing_shard(kinesis: Any) -> None:
    for stream, shard in (("nope", "2147483647"), ("s", "shardId-5")):
        assert _error(
            kinesis.get_shard_iterator,
            StreamName=stream,
            ShardId=shard,
            ShardIteratorType="LATEST",
        ) == (
            "ResourceNotFoundException",
            f"Shard shardId-{int(shard.rsplit('-', 1)[-1]):012d} in stream {stream} under "
            f"account {ACCOUNT} does not exist",
        )


def test_split_and_merge_look_the_stream_up_then_the_shard(kinesis: Any) -> None:
    missing_stream = (
        "ResourceNotFoundException",
        f"Stream nope under account {ACCOUNT} not found.",
    )
    assert (
        _error(kinesis.split_shard, StreamName="nope", ShardToSplit="0", NewStartingHashKey="5")
        == missing_stream
    )
    assert (
        _error(kinesis.merge_shards, StreamName="nope", ShardToMerge="0", AdjacentShardToMerge="1")
        == missing_stream
    )
    missing_shard = (
        "ResourceNotFoundException",
        f"Could not find shard shardId-000000000005 in stream s under account {ACCOUNT}.",
    )
    assert (
        _error(
            kinesis.split_shard, StreamName="s", ShardToSplit="shardId-5", NewStartingHashKey="5"
        )
        == missing_shard
    )
    assert (
        _error(
            kinesis.merge_shards,
            StreamName="s",
            ShardToMerge="x-0",
            AdjacentShardToMerge="shardId-5",
        )
        == missing_shard
    )
    # Named the short way, the shards are found and the hash key is what is refused.
    code, message = _error(
        kinesis.split_shard, StreamName="s", ShardToSplit="shard-0", NewStartingHashKey="1"
    )
    assert code == "InvalidArgumentException"
    assert message.startswith(
        "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000"
    )
    code, message = _error(
        kinesis.merge_shards, StreamName="s", ShardToMerge="a-0", AdjacentShardToMerge="b-2"
    )
    assert (code, message) == (
        "InvalidArgumentException",
        f"Shards shardId-000000000000 and shardId-000000000002 in stream s under account "
        f"{ACCOUNT} are not an adjacent pair of shards eligible for merging",
    )


def test_a_sequence_number_missing_or_extra_for_the_iterator_type_is_refused_in_aws_words(
    kinesis: Any,
) -> None:
    lead = (
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
        "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        "Request specified "
    )
    request = {"StreamName": "s", "ShardId": "shardId-0"}
    assert _error(
        kinesis.get_shard_iterator, **request, ShardIteratorType="AFTER_SEQUENCE_NUMBER"
    ) == ("InvalidArgumentException", lead + "AFTER_SEQUENCE_NUMBER and no StartingSequenceNumber.")
    assert _error(
        kinesis.get_shard_iterator,
        **request,
        ShardIteratorType="LATEST",
        StartingSequenceNumber="1",
    ) == ("InvalidArgumentException", lead + "LATEST and also a StartingSequenceNumber.")


def test_get_records_after_the_stream_is_deleted_says_its_shard_does_not_exist(
    kinesis: Any,
) -> None:
    kinesis.create_stream(StreamName="gone", ShardCount=2)
    iterator = kinesis.get_shard_iterator(
        StreamName="gone", ShardId="shardId-1", ShardIteratorType="LATEST"
    )["ShardIterator"]
    kinesis.delete_stream(StreamName="gone")
    gone = (
        "ResourceNotFoundException",
        f"Shard shardId-000000000001 in stream gone under account {ACCOUNT} does not exist",
    )
    assert _error(kinesis.get_records, ShardIterator=iterator) == gone
    # Created again, it is another stream: the old iterator still names nothing.
    kinesis.create_stream(StreamName="gone", ShardCount=2)
    assert _error(kinesis.get_records, ShardIterator=iterator) == gone
    assert _error(kinesis.get_records, ShardIterator="not-an-iterator") == (
        "InvalidArgumentException",
        "Invalid ShardIterator.",
    )


def test_merge_needs_the_adjacent_shard_above_the_shard_to_merge(kinesis: Any) -> None:
    assert _error(
        kinesis.merge_shards, StreamName="s", ShardToMerge="shard-1", AdjacentShardToMerge="0"
    ) == (
        "InvalidArgumentException",
        f"Shards shardId-000000000001 and shardId-000000000000 in stream s under account "
        f"{ACCOUNT} are not an adjacent pair of shards eligible for merging",
    )
    kinesis.merge_shards(StreamName="s", ShardToMerge="shard-0", AdjacentShardToMerge="1")
    merged = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [s["ShardId"] for s in merged] == ["shardId-000000000002", "shardId-000000000003"]
