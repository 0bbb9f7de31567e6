"""`lambic services` as a real process: every acknowledged version and delete marker of a
versioned bucket survives SIGKILL, with its bytes."""

from __future__ import annotations

import os
import signal
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

# Writes versions of a few keys (and delete markers now and then); prints each
# acknowledged write as "put KEY VERSION BODY" or "del KEY VERSION".
WRITER = r"""
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="t", aws_secret_access_key="t",
                  config=Config(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=5))
i = 0
while True:
    i += 1
    key = f"k{i % 5}"
    try:
        if i % 7 == 0:
            v = s3.delete_object(Bucket="crash", Key=key)["VersionId"]
            print("del", key, v, flush=True)
        else:
            v = s3.put_object(Bucket="crash", Key=key, Body=f"b{i}".encode())["VersionId"]
            print("put", key, v, f"b{i}", flush=True)
    except Exception:
        sys.exit(0)
"""


def _start(state: Path, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lambic", "services", "--state", str(state), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    assert "Lambic services" in process.stdout.readline()  # printed once the port is bound
    return process


def _client(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=Config(retries={"max_attempts": 5, "mode": "standard"}),
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def test_acknowledged_versions_survive_sigkill(tmp_path: Path) -> None:
    state, port = tmp_path / "state", free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(state, port)
    writer: subprocess.Popen[str] | None = None
    acked: list[list[str]] = []
    try:
        s3 = _client(url)
        s3.create_bucket(Bucket="crash")
        s3.put_bucket_versioning(Bucket="crash", VersioningConfiguration={"Status": "Enabled"})
        s3.close()
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        deadline = time.monotonic() + 30
        while len(acked) < 150 and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            acked.append(line.split())
        assert len(acked) >= 150, "the writer did not get 150 writes acknowledged in 30 s"
        os.kill(server.pid, signal.SIGKILL)  # mid-run: the writer is still writing
        server.wait(timeout=10)
        acked.extend(line.split() for line in writer.stdout)
        writer.wait(timeout=10)
    finally:
        if writer is not None:
            _stop(writer)
        _stop(server)

    restarted = _start(state, port)
    try:
        s3 = _client(url)
        listed: set[str] = set()
        kwargs: dict[str, Any] = {"Bucket": "crash"}
        while True:
            page = s3.list_object_versions(**kwargs)
            listed.update(v["VersionId"] for v in page.get("Versions", []))
            listed.update(m["VersionId"] for m in page.get("DeleteMarkers", []))
            if not page["IsTruncated"]:
                break
            kwargs.update(
                KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"]
            )
        assert {entry[2] for entry in acked} <= listed
        for entry in acked:
            if entry[0] == "put":
                got = s3.get_object(Bucket="crash", Key=entry[1], VersionId=entry[2])
                assert got["Body"].read() == entry[3].encode()
        s3.close()
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
        if restarted.stdout is not None:
            restarted.stdout.close()
