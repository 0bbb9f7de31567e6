"""A Chalice project, not one file changed, under a real `lambic local` and `lambic invoke`.

tests/deploy_apps/chalice_project is what `chalice new-project` users have: `from chalice
import Chalice`, `.chalice/config.json` with two stages, `chalicelib/`. Its routes answer
with the stage's settings, and its S3 and SQS handlers get their events.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "deploy_apps" / "chalice_project"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def eventually(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def recorded(out: Path, kind: str) -> list[dict[str, Any]]:
    path = out / f"{kind}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("chalice")
    project, out = root / "project", root / "out"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__"))
    out.mkdir()
    # The one edit a test needs: where handlers record (an environment variable, as a
    # user would set one). The app and chalicelib are untouched.
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"]["OUT_DIR"] = str(out)
    config_path.write_text(json.dumps(config))
    return project, out


@pytest.fixture(scope="module")
def cloud(project: tuple[Path, Path]) -> Iterator[dict[str, Any]]:
    port, services_port = free_port(), free_port()
    argv = [sys.executable, "-m", "lambic", "local", "--project-dir", str(project[0])]
    proc = subprocess.Popen(
        [*argv, "--port", str(port), "--services-port", str(services_port), "--no-reload"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:  # the banner ends with the line that says how to stop
        lines.append(line.rstrip("\n"))
        if "Press Ctrl-C" in line or len(lines) > 200:
            break
    try:
        yield {"port": port, "services": f"http://127.0.0.1:{services_port}", "banner": lines}
    finally:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()


def client(cloud: dict[str, Any], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=cloud["services"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


def request(cloud: dict[str, Any], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", cloud["port"], timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_the_banner_serves_the_chalice_app_and_lists_its_unsupported_keys_once(
    cloud: dict[str, Any],
) -> None:
    banner = "\n".join(cloud["banner"])
    assert "Serving chaliceproj (stage dev)" in banner, banner
    assert "(API Gateway stage 'api' served at /)" in banner
    warnings = [line for line in cloud["banner"] if line.startswith("Warning")]
    assert warnings == ["Warning: .chalice/config.json: not supported by Lambic yet, ignored: xray"]


def test_routes_answer_with_the_stage_settings_from_chalice_config(
    cloud: dict[str, Any],
) -> None:
    assert request(cloud, "GET", "/") == (200, {"greeting": "hello from dev", "memory": "128"})
    assert request(cloud, "PUT", "/users/ada", {"admin": True}) == (
        200,
        {"name": "ada", "body": {"admin": True}},
    )


def test_s3_and_sqs_handlers_get_their_events(
    cloud: dict[str, Any], project: tuple[Path, Path]
) -> None:
    out = project[1]
    client(cloud, "s3").put_object(Bucket="chalice-uploads", Key="in/report.csv", Body=b"a,b")
    sqs = client(cloud, "sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName="chalice-jobs")["QueueUrl"], MessageBody="go"
    )

    assert eventually(lambda: recorded(out, "s3"), "the S3 event") == [
        {"bucket": "chalice-uploads", "key": "in/report.csv"}
    ]
    assert eventually(lambda: recorded(out, "sqs"), "the SQS message") == [{"body": "go"}]


def test_invoke_runs_plain_and_schedule_handlers_of_the_other_stage(
    project: tuple[Path, Path],
) -> None:
    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lambic", "invoke", "--project-dir", str(project[0]), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    added = invoke("-n", "add", "--stage", "prod", "--payload", '{"a": 2, "b": 3}')
    assert (added.returncode, json.loads(added.stdout)) == (0, {"sum": 5}), added.stderr
    fired = invoke("-n", "hourly", "--schedule")
    assert fired.returncode == 0, fired.stderr
    assert len(recorded(project[1], "schedule")) == 1
