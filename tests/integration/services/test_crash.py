"""`lambic services` as a real process: acknowledged writes survive SIGKILL; clear errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambic._cloud_process import free_port

pytestmark = pytest.mark.slow

WRITER = r"""
import sys, boto3
from botocore.config import Config
url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="t",
          aws_secret_access_key="t", config=Config(retries={"max_attempts": 0},
          connect_timeout=2, read_timeout=5))
s3, ddb, sqs = (boto3.client(n, **kw) for n in ("s3", "dynamodb", "sqs"))
queue = sqs.get_queue_url(QueueName="crash")["QueueUrl"]
i = 0
while True:
    i += 1
    kind = ("s3", "ddb", "sqs")[i % 3]
    try:
        if kind == "s3":
            s3.put_object(Bucket="crash", Key=f"k{i}", Body=f"v{i}".encode())
        elif kind == "ddb":
            ddb.put_item(TableName="crash", Item={"id": {"S": f"k{i}"}, "v": {"N": str(i)}})
        else:
            sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    except Exception:
        sys.exit(0)
    print(kind, i, flush=True)
"""


def _start(state: Path, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lambic", "services", "--state", str(state), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the banner, printed once the port is bound
    assert "Lambic services" in line, process.stderr.read() if process.stderr else line
    return process


def _clients(url: str) -> tuple[Any, Any, Any]:
    config = Config(retries={"max_attempts": 5, "mode": "standard"})
    kw: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "t",
        "aws_secret_access_key": "t",
        "config": config,
    }
    return boto3.client("s3", **kw), boto3.client("dynamodb", **kw), boto3.client("sqs", **kw)


def test_every_acknowledged_write_survives_sigkill_of_the_services_process(
    tmp_path: Path,
) -> None:
    state, port = tmp_path / "state", free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(state, port)
    writer: subprocess.Popen[str] | None = None
    try:
        s3, ddb, sqs = _clients(url)
        s3.create_bucket(Bucket="crash")
        ddb.create_table(
            TableName="crash",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs.create_queue(QueueName="crash")
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        acked: list[tuple[str, int]] = []
        deadline = time.monotonic() + 30
        while len(acked) < 300 and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            kind, number = line.split()
            acked.append((kind, int(number)))
        assert len(acked) >= 300, "the writer did not get 300 writes acknowledged in 30 s"
        os.kill(server.pid, signal.SIGKILL)  # mid-run: the writer is still writing
        server.wait(timeout=10)
        for line in writer.stdout:  # writes acknowledged before the kill landed
            kind, number = line.split()
            acked.append((kind, int(number)))
        writer.wait(timeout=10)
        for client in (s3, ddb, sqs):
            client.close()
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
            writer.wait(timeout=10)
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        for stream in (server.stdout, server.stderr):
            if stream is not None:
                stream.close()
        if writer is not None and writer.stdout is not None:
            writer.stdout.close()

    restarted = _start(state, port)
    try:
        s3, ddb, sqs = _clients(url)
        for kind, number in acked:
            if kind == "s3":
                body = s3.get_object(Bucket="crash", Key=f"k{number}")["Body"].read()
                assert body == f"v{number}".encode()
            elif kind == "ddb":
                item = ddb.get_item(TableName="crash", Key={"id": {"S": f"k{number}"}})
                assert item["Item"]["v"] == {"N": str(number)}
        queue = sqs.get_queue_url(QueueName="crash")["QueueUrl"]
        bodies: set[str] = set()
        for _ in range(200):
            batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                break
            bodies.update(m["Body"] for m in messages)
        expected = {f"m{number}" for kind, number in acked if kind == "sqs"}
        assert expected <= bodies
        for client in (s3, ddb, sqs):
            client.close()
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
        for stream in (restarted.stdout, restarted.stderr):
            if stream is not None:
                stream.close()


def test_port_in_use_is_one_clear_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "lambic", "services", "--in-memory", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"Port {port}" in lines[0]
    assert "in use" in lines[0]
