"""API Gateway's billed requests as the gateway counts them: a REST API request is one,
an HTTP API request one per started 512 KB."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lambic.project.metering import Meter
from lambic.runtime.usage import api_request_meter


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
