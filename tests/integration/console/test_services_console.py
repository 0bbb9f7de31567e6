"""`lambic services` serves the console's service panels (there is no app to show)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def call(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Host": f"127.0.0.1:{port}", "X-Lambic-Console": "1"}
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_lambic_services_prints_the_console_and_serves_its_service_panels() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambic", "services", "--in-memory", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        console = proc.stdout.readline().strip()
        port = int(first.split("http://127.0.0.1:", 1)[1].split(" ", 1)[0])
        assert console == f"Console: http://127.0.0.1:{port}/_lambic/console/"

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                status, _ = call(port, "PUT", "/_lambic/api/s3/object?bucket=nope&key=a")
                break
            except ConnectionError:
                time.sleep(0.05)
        assert status == 404  # S3's own NoSuchBucket, through the panel

        status, body = call(port, "GET", "/_lambic/api/overview")
        assert status == 404 and "lambic local" in body["message"]
        status, body = call(port, "GET", "/_lambic/api/sqs/queues")
        assert (status, body) == (200, {"queues": []})
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
