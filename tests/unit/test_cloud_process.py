"""`LocalCloudProcess` (the pytest plugin's `lambic_local`) reads what `lambic local`
leaves behind: its banner, the stage's endpoint file and log store."""

from __future__ import annotations

import json
from pathlib import Path

from lambic._cloud_process import READY_LINE, LocalCloudProcess
from lambic.runtime.logstore import LogEvent, LogStore


def make_project(root: Path) -> Path:
    (root / ".lambic").mkdir(parents=True)
    (root / ".lambic" / "config.json").write_text('{"app_name": "shop", "stages": {"dev": {}}}')
    return root


def test_the_websocket_url_comes_from_the_endpoint_file(tmp_path: Path) -> None:
    cloud = LocalCloudProcess(make_project(tmp_path / "shop"))
    assert cloud.websocket_url is None
    cloud.state_dir.mkdir(parents=True)
    (cloud.state_dir / "local.json").write_text(
        json.dumps({"url": "http://127.0.0.1:4566", "pid": 1, "websocket": "ws://127.0.0.1:9001"})
    )

    assert cloud.websocket_url == "ws://127.0.0.1:9001"


def test_the_websocket_url_comes_from_the_banner_when_the_file_has_none(tmp_path: Path) -> None:
    cloud = LocalCloudProcess(make_project(tmp_path / "shop"))
    cloud.lines += ["WebSocket API on ws://127.0.0.1:9002/dev.", READY_LINE, "ws://later:1"]

    assert cloud.websocket_url == "ws://127.0.0.1:9002/dev"


def test_a_functions_log_lines_invocations_and_deliveries(tmp_path: Path) -> None:
    cloud = LocalCloudProcess(make_project(tmp_path / "shop"))
    assert cloud.log_lines("worker") == []
    store = LogStore(cloud.state_dir / "logs.sqlite3")
    group = "/aws/lambda/shop-dev-worker"
    store.append(LogEvent(group, "lambic/events", 1, "[event] sqs:jobs -> worker r1 ok 2.0 ms"))
    store.append(LogEvent(group, "2026/01/01/[$LATEST]ab", 2, "START RequestId: r1"))
    store.append(LogEvent(group, "2026/01/01/[$LATEST]ab", 3, "REPORT RequestId: r1\tDuration"))
    store.append(LogEvent("/aws/lambda/shop-dev", "s", 4, "REPORT RequestId: r2\tDuration"))
    store.close()

    assert cloud.invocations("worker") == 1
    assert cloud.deliveries("worker") == ["[event] sqs:jobs -> worker r1 ok 2.0 ms"]
    assert cloud.log_lines("shop-dev-worker")[1] == "START RequestId: r1"
    assert cloud.invocations("api_handler") == 1
