"""Quantities come from the stage's log store with SQL sums over a window."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lambic.cost import read_quantities
from lambic.project.metering import Meter
from lambic.runtime.logstore import connect, write_rows
from lambic.runtime.usage import UsageRecord


def usage(
    function: str, ts: int, billed: int, memory: int, init: float | None = None
) -> UsageRecord:
    return UsageRecord(
        function, f"r{ts}", ts, "ok", billed - 0.5, billed, memory, 40, init, init is not None
    )


def test_lambda_requests_and_gb_seconds_per_function_and_architecture(tmp_path: Path) -> None:
    conn = connect(tmp_path / "logs.sqlite3")
    write_rows(conn, [], [
        usage("app-dev", 1_000, 100, 256, init=40.0),  # a cold start bills its init too
        usage("app-dev", 2_000, 3, 256),
        usage("app-dev-worker", 3_000, 1000, 1024),
        usage("app-dev", 9_000, 50, 256),  # after the window
    ])  # fmt: skip
    observed = read_quantities(
        conn,
        since_ms=0,
        until_ms=5_000,
        architecture=lambda name: "arm64" if name == "app-dev-worker" else "x86_64",
    )
    by = {(q.resource, q.metric): q for q in observed.quantities}
    assert by[("app-dev", "requests")].quantity == 2
    assert by[("app-dev", "gb_seconds")].quantity == (103 * 256) / 1024 / 1000
    assert by[("app-dev", "gb_seconds")].price_key == "lambda.gb_seconds.x86_64"
    assert by[("app-dev-worker", "gb_seconds")].quantity == 1.0
    assert by[("app-dev-worker", "gb_seconds")].price_key == "lambda.gb_seconds.arm64"
    assert (observed.first_ms, observed.last_ms) == (1_000, 3_000)


def test_metered_quantities_are_summed_over_minutes_in_the_window(tmp_path: Path) -> None:
    path = tmp_path / "logs.sqlite3"
    clock = [60.0]
    meter = Meter(path, clock=lambda: clock[0], flush_interval=3600)
    meter.add("apigateway", "http", "requests", 2)
    meter.add("s3", "photos", "byte_hours", 10.0)
    clock[0] = 180.0
    meter.add("apigateway", "http", "requests", 3)
    clock[0] = 600.0
    meter.add("apigateway", "http", "requests", 100)  # after the window
    meter.close()
    with sqlite3.connect(path) as conn:
        observed = read_quantities(conn, since_ms=60_000, until_ms=300_000)
    by = {(q.service, q.metric): q for q in observed.quantities}
    assert by[("apigateway", "requests")].quantity == 5
    assert by[("apigateway", "requests")].price_key == "apigateway.http.requests"
    assert by[("s3", "byte_hours")].price_key == "s3.storage"
    # Activity: from the first minute to the end of the last one with requests.
    assert (observed.first_ms, observed.last_ms) == (60_000, 240_000)


def test_an_empty_store_has_no_quantities(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "empty.sqlite3") as conn:
        observed = read_quantities(conn, since_ms=0, until_ms=1)
    assert observed.quantities == [] and observed.first_ms is None
