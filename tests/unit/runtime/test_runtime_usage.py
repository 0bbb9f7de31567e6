"""API Gateway's billed requests as the gateway counts them: a REST API request is one,
an HTTP API request one per started 512 KB, a WebSocket message one per started 32 KB."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lambic.project.metering import Meter
from lambic.runtime.usage import WebSocketUsage, api_request_meter


def metered(path: Path) -> dict[tuple[str, str], float]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT resource, metric, SUM(quantity) FROM metered GROUP BY 1, 2")
        return {(r, m): q for r, m, q in rows}


def test_http_api_requests_are_metered_in_512_kb_increments(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "logs.sqlite3")
    count = api_request_meter(meter, "http")
    for size in (0, 512 * 1024, 512 * 1024 + 1, 2 * 1024 * 1024):
        count(size)
    meter.close()
    assert metered(tmp_path / "logs.sqlite3") == {("http", "requests"): 1 + 1 + 2 + 4}


def test_rest_api_requests_count_one_each_whatever_their_size(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "logs.sqlite3")
    count = api_request_meter(meter, "rest")
    for size in (0, 10 * 1024 * 1024):
        count(size)
    meter.close()
    assert metered(tmp_path / "logs.sqlite3") == {("rest", "requests"): 2}


def test_websocket_messages_are_metered_in_32_kb_increments_and_minutes_exactly(
    tmp_path: Path,
) -> None:
    meter = Meter(tmp_path / "logs.sqlite3")
    usage = WebSocketUsage(meter)
    for size in (0, 32 * 1024, 32 * 1024 + 1, 128 * 1024):
        usage.message(size)
    usage.connection_closed(90.0)  # a minute and a half
    usage.connection_closed(30.0)
    meter.close()
    assert metered(tmp_path / "logs.sqlite3") == {
        ("websocket", "messages"): 1 + 1 + 2 + 4,
        ("websocket", "connection_minutes"): 2.0,
    }
