"""Usage metering: one record per invocation, for the cost report.

Lambda bills by requests and GB-seconds of billed duration; we record what that
needs (function, billed ms, memory size) plus what a developer wants to see next to
it (cold start, init and max memory). Records go into the log store's `usage` table.

    summarize_usage(conn, since_ms=0)["myapp-dev"].gb_seconds
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["FunctionUsage", "UsageRecord", "summarize_usage"]


class UsageRecord(NamedTuple):
    """One invocation; field order is the `usage` table's column order."""

    function_name: str
    request_id: str
    timestamp_ms: int
    status: str
    duration_ms: float
    billed_ms: int
    memory_size_mb: int
    max_memory_mb: int
    init_ms: float | None
    cold_start: bool


@dataclass(frozen=True, slots=True)
class FunctionUsage:
    function_name: str
    invocations: int
    errors: int
    cold_starts: int
    billed_ms: int
    gb_seconds: float  # billed ms x memory, Lambda's unit of compute charge


def summarize_usage(conn: sqlite3.Connection, *, since_ms: int = 0) -> dict[str, FunctionUsage]:
    """Totals per function since `since_ms` (epoch milliseconds)."""
    rows = conn.execute(
        "SELECT function_name, COUNT(*), SUM(status != 'ok'), SUM(cold_start), SUM(billed_ms),"
        " SUM(billed_ms * memory_size_mb) FROM usage WHERE timestamp_ms >= ?"
        " GROUP BY function_name ORDER BY function_name",
        (since_ms,),
    )
    return {
        name: FunctionUsage(
            name, count, errors or 0, colds or 0, billed or 0, (mb_ms or 0) / 1024e3
        )
        for name, count, errors, colds, billed, mb_ms in rows
    }
