"""Kinesis resharding with unchanged boto3 over a real edge: split, merge, shard count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import create_services
from lambic.services.server import EdgeServer


@pytest.fixture
def kinesis(start_edge: Callable[..., EdgeServer], make_client: Callable[..., Any]) -> Any:
    edge = start_edge(create_services(None, names=["kinesis"]).by_name())
    return make_client("kinesis", edge.url)


def _shards(kinesis: Any, name: str) -> dict[str, dict[str, Any]]:
    return {s["ShardId"]: s for s in kinesis.list_shards(StreamName=name)["Shards"]}


def test_a_split_then_a_merge_keep_lineage_and_close_the_parents(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=1)
    before = kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    kinesis.split_shard(
        StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    shards = _shards(kinesis, "s")
    parent = shards["shardId-000000000000"]
    assert parent["SequenceNumberRange"]["EndingSequenceNumber"] == before["SequenceNumber"]
    assert shards["shardId-000000000001"]["ParentShardId"] == "shardId-000000000000"
    assert shards["shardId-000000000002"]["HashKeyRange"]["StartingHashKey"] == str(2**127)

    # The parent is read to its end: no next iterator, its children named instead.
    iterator = kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    end = kinesis.get_records(ShardIterator=iterator)
    assert [r["Data"] for r in end["Records"]] == [b"old"]
    assert end.get("NextShardIterator") is None
    assert [c["ShardId"] for c in end["ChildShards"]] == [
        "shardId-000000000001",
        "shardId-000000000002",
    ]
    after = kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k")
    assert after["ShardId"] != "shardId-000000000000"

    kinesis.merge_shards(
        StreamName="s",
        ShardToMerge="shardId-000000000001",
        AdjacentShardToMerge="shardId-000000000002",
    )
    merged = _shards(kinesis, "s")["shardId-000000000003"]
    assert merged["ParentShardId"] == "shardId-000000000001"
    assert merged["AdjacentParentShardId"] == "shardId-000000000002"
    assert merged["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}
    open_shards = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})
    assert [s["ShardId"] for s in open_shards["Shards"]] == ["shardId-000000000003"]
    summary = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 1

    with pytest.raises(ClientError) as caught:
        kinesis.merge_shards(
            StreamName="s",
            ShardToMerge="shardId-000000000001",
            AdjacentShardToMerge="shardId-000000000002",
        )
    assert caught.value.response["Error"]["Code"] == "ResourceInUseException"


def test_update_shard_count_scales_uniformly_within_double_and_half(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=2)
    answer = kinesis.update_shard_count(
        StreamName="s", TargetShardCount=4, ScalingType="UNIFORM_SCALING"
    )
    assert (answer["CurrentShardCount"], answer["TargetShardCount"]) == (2, 4)
    open_shards = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(open_shards) == 4
    assert [s["HashKeyRange"]["StartingHashKey"] for s in open_shards] == [
        str(i * 2**126) for i in range(4)
    ]
    assert {s["ParentShardId"] for s in open_shards} == {
        "shardId-000000000000",
        "shardId-000000000001",
    }
    with pytest.raises(ClientError) as caught:
        kinesis.update_shard_count(
            StreamName="s", TargetShardCount=9, ScalingType="UNIFORM_SCALING"
        )
    # A default limit (a quota), so LimitExceededException, as the API reference lists.
    assert caught.value.response["Error"] == {
        "Code": "LimitExceededException",
        "Message": "UpdateShardCount cannot scale up over double your current open shard count. "
        "Current open shard count: 4 Target shard count: 9",
    }
    with pytest.raises(ClientError) as caught:
        kinesis.update_shard_count(
            StreamName="s", TargetShardCount=1, ScalingType="UNIFORM_SCALING"
        )
    assert caught.value.response["Error"]["Code"] == "LimitExceededException"
    assert caught.value.response["Error"]["Message"].startswith(
        "UpdateShardCount cannot scale down below half your current open shard count."
    )
    every = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "FROM_TRIM_HORIZON"})
    assert len(every["Shards"]) == 6


def test_update_shard_count_is_refused_on_an_on_demand_stream(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    with pytest.raises(ClientError) as caught:
        kinesis.update_shard_count(
            StreamName="od", TargetShardCount=2, ScalingType="UNIFORM_SCALING"
        )
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Request is invalid. Stream od under account 000000000000 is in On-Demand mode.",
    }
