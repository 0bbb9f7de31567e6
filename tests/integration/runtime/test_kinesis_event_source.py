"""Kinesis → Lambda: records put with boto3 reach the handler in order, across a split."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lambic.runtime.event_sources import Engines
from lambic.runtime.stream_poller import StreamBatchOutcome
from lambic.services.kinesis import create_service as create_kinesis
from lambic.services.server import EdgeServer
from tests.integration.runtime.conftest import RunSources

WaitFor = Callable[..., Awaitable[None]]
Recorded = Callable[[Path, str], list[dict[str, Any]]]
AppCopy = Callable[[Path], tuple[Path, Path]]
APP = Path(__file__).resolve().parents[2] / "apps" / "kinesis_handlers"


def _data(record: dict[str, Any]) -> bytes:
    return base64.b64decode(record["kinesis"]["data"])


def test_records_arrive_in_order_a_failure_is_retried_and_children_follow_their_parent(
    tmp_path: Path,
    app_copy: AppCopy,
    start_edge: Callable[..., EdgeServer],
    make_client: Callable[..., Any],
    event_sources: RunSources,
    wait_for: WaitFor,
    recorded: Recorded,
) -> None:
    project_dir, out = app_copy(APP)
    service = create_kinesis(None)
    edge = start_edge({"kinesis": service})
    kinesis = make_client("kinesis", edge.url)
    reports: list[StreamBatchOutcome] = []

    async def scenario() -> None:
        # creates the missing stream "clicks" (one shard)
        async with event_sources(
            project_dir,
            out,
            "kinesishandlers",
            Engines(kinesis=service.engine),
            stream_report=reports.append,
            state_dir=tmp_path / "state",
        ):
            # One PutRecords: committed at once, so the first batch (3) is r1, r2, fail-once.
            await asyncio.to_thread(
                kinesis.put_records,
                StreamName="clicks",
                Records=[
                    {"Data": body, "PartitionKey": "user-1"}
                    for body in (b"r1", b"r2", b"fail-once", b"r4")
                ],
            )
            await wait_for(lambda: {_data(r) for r in recorded(out, "kinesis")} >= {b"r4"})
            # Split the shard: later records land in a child, read after the parent ends.
            await asyncio.to_thread(
                kinesis.split_shard,
                StreamName="clicks",
                ShardToSplit="shardId-000000000000",
                NewStartingHashKey=str(2**127),
            )
            await asyncio.to_thread(
                kinesis.put_records,
                StreamName="clicks",
                Records=[{"Data": b"after-split", "PartitionKey": "user-1"}],
            )
            await wait_for(lambda: b"after-split" in {_data(r) for r in recorded(out, "kinesis")})

    asyncio.run(scenario())
    records = recorded(out, "kinesis")
    first_seen: dict[str, dict[str, Any]] = {}
    for record in records:
        first_seen.setdefault(record["eventID"], record)
    assert [_data(r) for r in first_seen.values()] == [
        b"r1",
        b"r2",
        b"fail-once",
        b"r4",
        b"after-split",
    ]
    # The failed batch (r1, r2, fail-once) came again whole; r4 only after it succeeded.
    assert [_data(r) for r in records] == [
        b"r1", b"r2", b"fail-once", b"r1", b"r2", b"fail-once", b"r4", b"after-split"
    ]  # fmt: skip
    first = records[0]
    assert first["eventSource"] == "aws:kinesis"
    assert first["eventName"] == "aws:kinesis:record"
    assert first["eventSourceARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
    assert first["eventID"] == f"shardId-000000000000:{first['kinesis']['sequenceNumber']}"
    assert first["kinesis"]["partitionKey"] == "user-1"
    assert len(first["kinesis"]["sequenceNumber"]) == 56
    child = records[-1]
    assert not child["eventID"].startswith("shardId-000000000000:")
    assert {r.source for r in reports} == {"kinesis:clicks"}
    assert [r.status for r in reports][:2] == ["error", "ok"]


def test_a_child_shard_waits_until_its_parent_is_delivered_through_its_retries(
    tmp_path: Path,
    app_copy: AppCopy,
    start_edge: Callable[..., EdgeServer],
    make_client: Callable[..., Any],
    event_sources: RunSources,
    wait_for: WaitFor,
    recorded: Recorded,
) -> None:
    project_dir, out = app_copy(APP)
    service = create_kinesis(None)
    kinesis = make_client("kinesis", start_edge({"kinesis": service}).url)
    # Everything is in the stream before the mapping starts (TRIM_HORIZON): the parent
    # holds p1 and a record that fails once; its children hold c1 and c2.
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    for body in (b"p1", b"fail-once"):
        kinesis.put_record(StreamName="clicks", Data=body, PartitionKey="user-1")
    kinesis.split_shard(
        StreamName="clicks", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    kinesis.put_record(StreamName="clicks", Data=b"c1", PartitionKey="a", ExplicitHashKey="1")
    kinesis.put_record(
        StreamName="clicks", Data=b"c2", PartitionKey="b", ExplicitHashKey=str(2**128 - 1)
    )

    async def scenario() -> None:
        async with event_sources(
            project_dir,
            out,
            "kinesishandlers",
            Engines(kinesis=service.engine),
            state_dir=tmp_path / "state",
        ):
            await wait_for(lambda: {b"c1", b"c2"} <= {_data(r) for r in recorded(out, "kinesis")})

    asyncio.run(scenario())
    seen = [_data(r) for r in recorded(out, "kinesis")]
    # The parent's batch failed once and came again whole; only then the children.
    assert seen[:4] == [b"p1", b"fail-once", b"p1", b"fail-once"]
    assert sorted(seen[4:]) == [b"c1", b"c2"]
