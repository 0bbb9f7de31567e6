"""The Kinesis engine in memory: routing by hash key, reads, resharding lineage."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lambic.services.kinesis import create_service, keys, records, resharding
from lambic.services.kinesis.engine import KinesisEngine
from lambic.services.kinesis.errors import (
    InvalidArgumentError,
    LimitExceededError,
    ResourceInUseError,
)


@pytest.fixture
def engine() -> KinesisEngine:
    return create_service(None).engine


def _put(engine: KinesisEngine, key: str, data: bytes = b"x", **extra: Any) -> dict[str, Any]:
    request = {"StreamName": "s", "PartitionKey": key, "Data": base64.b64encode(data).decode()}
    return records.put_record(engine, {**request, **extra})


def _read_all(engine: KinesisEngine, shard: str) -> tuple[list[bytes], dict[str, Any]]:
    request = {"StreamName": "s", "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
    iterator = records.get_shard_iterator(engine, request)["ShardIterator"]
    answer = records.get_records(engine, {"ShardIterator": iterator})
    return [base64.b64decode(r["Data"]) for r in answer["Records"]], answer


def test_a_record_goes_to_the_shard_whose_range_holds_its_hash_key(engine: KinesisEngine) -> None:
    engine.create_stream({"StreamName": "s", "ShardCount": 4})
    for key in ("a", "b", "user-1", "user-2", "z" * 256):
        shard = keys.parse_shard_id(_put(engine, key)["ShardId"])
        assert shard == keys.hash_key(key) // 2**126
    explicit = _put(engine, "ignored", ExplicitHashKey=str(2**127))
    assert explicit["ShardId"] == "shardId-000000000002"


def test_sequence_numbers_increase_within_a_shard_and_encode_it(engine: KinesisEngine) -> None:
    engine.create_stream({"StreamName": "s", "ShardCount": 2})
    numbers = [_put(engine, "same-key")["SequenceNumber"] for _ in range(5)]
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert len(set(numbers)) == 5


def test_a_split_closes_the_parent_and_its_children_take_new_records(
    engine: KinesisEngine,
) -> None:
    engine.create_stream({"StreamName": "s", "ShardCount": 1})
    _put(engine, "before", b"before")
    resharding.split_shard(
        engine,
        {"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "2"},
    )
    shards = engine.list_shards({"StreamName": "s"})["Shards"]
    parent, low, high = shards
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert low["ParentShardId"] == high["ParentShardId"] == parent["ShardId"]
    assert low["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": "1"}
    assert high["HashKeyRange"]["StartingHashKey"] == "2"
    data, answer = _read_all(engine, parent["ShardId"])
    assert data == [b"before"]
    assert "NextShardIterator" not in answer  # a closed shard read to its end
    assert [c["ShardId"] for c in answer["ChildShards"]] == [low["ShardId"], high["ShardId"]]
    assert _put(engine, "after")["ShardId"] in (low["ShardId"], high["ShardId"])
    with pytest.raises(ResourceInUseError, match="has already been merged or split"):
        resharding.split_shard(
            engine,
            {"StreamName": "s", "ShardToSplit": parent["ShardId"], "NewStartingHashKey": "5"},
        )


def test_a_split_key_outside_the_shard_and_a_merge_of_non_neighbours_are_refused(
    engine: KinesisEngine,
) -> None:
    engine.create_stream({"StreamName": "s", "ShardCount": 3})
    with pytest.raises(InvalidArgumentError, match="NewStartingHashKey 0 used in SplitShard"):
        resharding.split_shard(
            engine,
            {"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "0"},
        )
    with pytest.raises(InvalidArgumentError, match="not an adjacent pair"):
        resharding.merge_shards(
            engine,
            {
                "StreamName": "s",
                "ShardToMerge": "shardId-000000000000",
                "AdjacentShardToMerge": "shardId-000000000002",
            },
        )


def test_listeners_hear_each_committed_put(engine: KinesisEngine) -> None:
    heard: list[str] = []
    engine.add_listener(heard.append)
    engine.create_stream({"StreamName": "s", "ShardCount": 1})
    _put(engine, "k")
    records.put_records(
        engine,
        {"StreamName": "s", "Records": [{"PartitionKey": "k", "Data": "eA=="}] * 2},
    )
    assert heard == ["s", "s"]
    engine.remove_listener(heard.append)
    _put(engine, "k")
    assert heard == ["s", "s"]


def test_the_account_open_shard_quota_holds_for_creates_and_splits(engine: KinesisEngine) -> None:
    engine.create_stream({"StreamName": "big", "ShardCount": 500})
    with pytest.raises(LimitExceededError, match="Current shard count for the account: 500"):
        engine.create_stream({"StreamName": "s", "ShardCount": 1})
    with pytest.raises(LimitExceededError):
        resharding.split_shard(
            engine,
            {
                "StreamName": "big",
                "ShardToSplit": "shardId-000000000000",
                "NewStartingHashKey": "2",
            },
        )
    engine.delete_stream({"StreamName": "big"})
    engine.create_stream({"StreamName": "s", "ShardCount": 1})
