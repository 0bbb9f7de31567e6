"""Kinesis puts are metered in PUT payload units (one per started 25 KB of a record)."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

from lambic.project.metering import Meter
from lambic.services.base import Headers, ServiceRequest
from lambic.services.kinesis import create_service


def _call(service: Any, operation: str, body: dict[str, Any]) -> int:
    request = ServiceRequest(
        "POST",
        "/",
        "",
        Headers([("X-Amz-Target", f"Kinesis_20131202.{operation}")]),
        json.dumps(body).encode(),
    )
    status: int = asyncio.run(service.handle(request)).status
    return status


def test_each_record_counts_its_started_25_kb_units_and_a_refused_put_none(
    tmp_path: Path,
) -> None:
    meter = Meter(tmp_path / "logs.sqlite3", flush_interval=3600)
    service = create_service(None, meter=meter)
    try:
        assert _call(service, "CreateStream", {"StreamName": "s", "ShardCount": 1}) == 200
        big = base64.b64encode(b"x" * (30 * 1024)).decode()
        small = base64.b64encode(b"x" * 1024).decode()
        assert (
            _call(service, "PutRecord", {"StreamName": "s", "Data": big, "PartitionKey": "k"})
            == 200
        )
        records = [{"Data": small, "PartitionKey": "k"}, {"Data": big, "PartitionKey": "k"}]
        assert _call(service, "PutRecords", {"StreamName": "s", "Records": records}) == 200
        refused = {"StreamName": "missing", "Data": small, "PartitionKey": "k"}
        assert _call(service, "PutRecord", refused) == 400
        meter.flush()
        with sqlite3.connect(tmp_path / "logs.sqlite3") as conn:
            rows = conn.execute(
                "SELECT service, resource, metric, SUM(quantity) FROM metered GROUP BY 1, 2, 3"
            ).fetchall()
        assert rows == [("kinesis", "s", "put_payload_units", 5.0)]  # 2 + (1 + 2)
    finally:
        meter.close()
        service.close()
