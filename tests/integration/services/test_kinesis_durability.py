"""`lambic services` as a real process: an acknowledged Kinesis PutRecord survives a
restart and `kill -9`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic._cloud_process import free_port


@pytest.fixture
def run_server(tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[str], str]]]:
    """`lambic services` on the same state directory each time (a fresh port)."""
    processes: list[subprocess.Popen[str]] = []

    def start() -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        state = str(tmp_path / "state")
        process = subprocess.Popen(
            [sys.executable, "-m", "lambic", "services", "--state", state, "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        banner = process.stdout.readline()  # printed once the port is bound
        assert "Lambic services" in banner and "kinesis" in banner, banner
        return process, f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _all_records(kinesis: Any, stream: str) -> list[tuple[str, bytes]]:
    found = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found += [
            (r["SequenceNumber"], r["Data"])
            for r in kinesis.get_records(ShardIterator=iterator)["Records"]
        ]
    return found


def test_streams_shards_and_acknowledged_records_survive_kill_9(
    run_server: Callable[[], tuple[subprocess.Popen[str], str]], make_client: Any
) -> None:
    process, url = run_server()
    kinesis = make_client("kinesis", url)
    kinesis.create_stream(StreamName="durable", ShardCount=1)
    kinesis.add_tags_to_stream(StreamName="durable", Tags={"team": "web"})
    first = kinesis.put_record(StreamName="durable", Data=b"one", PartitionKey="k")
    kinesis.split_shard(
        StreamName="durable", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    second = kinesis.put_records(
        StreamName="durable", Records=[{"Data": b"two", "PartitionKey": "k"}]
    )["Records"][0]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    process, url = run_server()
    kinesis = make_client("kinesis", url)
    assert _all_records(kinesis, "durable") == [
        (first["SequenceNumber"], b"one"),
        (second["SequenceNumber"], b"two"),
    ]
    assert len(kinesis.list_shards(StreamName="durable")["Shards"]) == 3
    assert kinesis.list_tags_for_stream(StreamName="durable")["Tags"] == [
        {"Key": "team", "Value": "web"}
    ]
    # New records keep increasing past the ones written before the crash.
    third = kinesis.put_record(StreamName="durable", Data=b"three", PartitionKey="k")
    assert int(third["SequenceNumber"]) > int(second["SequenceNumber"])

    # A clean stop and restart keeps them too.
    process.terminate()
    process.wait(timeout=10)
    _, url = run_server()
    kinesis = make_client("kinesis", url)
    assert [data for _, data in _all_records(kinesis, "durable")] == [b"one", b"two", b"three"]
