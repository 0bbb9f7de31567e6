"""What ran, as billable quantities: read from a stage's log store with SQL aggregates.

Two tables of `.lambic/state/<stage>/logs.sqlite3` hold it: `usage` (one row per
Lambda invocation: billed ms including a cold start's init, memory size) and
`metered` (the services' and the gateway's counts per minute; see
`lambic.project.metering`). Both are summed in SQLite, grouped, never loaded row by
row, so a million invocations read in a fraction of a second.

Each quantity names the price it is billed by (`price_key`): Lambda's GB-seconds by
the function's architecture, API Gateway's requests by the API type, stored bytes
(`byte_hours`) as `<service>.storage`.

    with sqlite3.connect(".lambic/state/dev/logs.sqlite3") as conn:
        observed = read_quantities(conn, since_ms=0, until_ms=now_ms)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Observed", "Quantity", "price_key", "read_quantities"]

#: Architectures Lambda bills apart; a function's config picks one (x86_64 by default).
ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class Quantity:
    """One billable quantity of one resource over the window (`metric`'s own unit)."""

    service: str
    resource: str  # the function, table, bucket, queue, topic; the API type for API Gateway
    metric: str
    quantity: float
    price_key: str


@dataclass(frozen=True)
class Observed:
    """The quantities of a window and when the activity in it began and ended."""

    since_ms: int
    until_ms: int
    quantities: list[Quantity] = field(default_factory=list)
    first_ms: int | None = None
    last_ms: int | None = None

    def total(self, service: str, metric: str) -> float:
        return sum(
            q.quantity for q in self.quantities if q.service == service and q.metric == metric
        )


def price_key(service: str, resource: str, metric: str) -> str:
    """The price a metered quantity is billed by.

    >>> price_key("apigateway", "http", "requests"), price_key("s3", "photos", "byte_hours")
    ('apigateway.http.requests', 's3.storage')
    >>> price_key("dynamodb", "orders", "write_units")
    'dynamodb.write_units'
    """
    if service == "apigateway":
        return f"apigateway.{resource}.{metric}"
    if metric == "byte_hours":
        return f"{service}.storage"
    return f"{service}.{metric}"


def read_quantities(
    conn: sqlite3.Connection,
    *,
    since_ms: int,
    until_ms: int,
    architecture: Callable[[str], str] | None = None,
) -> Observed:
    """Quantities in `[since_ms, until_ms)`; `architecture` gives a deployed function's
    architecture, "x86_64" (the default) or "arm64"."""
    quantities: list[Quantity] = []
    firsts: list[int] = []
    lasts: list[int] = []
    if _has_table(conn, "usage"):
        # Grouped by function alone, the order of the covering index `logstore` keeps:
        # no sort of a million rows (grouping by memory size too would need one).
        rows = conn.execute(
            "SELECT function_name, COUNT(*), SUM(billed_ms * memory_size_mb),"
            " MIN(timestamp_ms), MAX(timestamp_ms) FROM usage"
            " WHERE timestamp_ms >= ? AND timestamp_ms < ? GROUP BY function_name",
            (since_ms, until_ms),
        ).fetchall()
        for function, count, mb_ms, first, last in rows:
            arch = architecture(function) if architecture is not None else "x86_64"
            # GB-seconds: MB x ms / 1024 MB per GB / 1000 ms per s (Lambda's own unit).
            gb_seconds = (mb_ms or 0) / 1024 / 1000
            quantities.append(Quantity("lambda", function, "requests", count, "lambda.requests"))
            key = f"lambda.gb_seconds.{arch}"
            quantities.append(Quantity("lambda", function, "gb_seconds", gb_seconds, key))
            firsts.append(first)
            lasts.append(last)
    if _has_table(conn, "metered"):
        rows = conn.execute(
            "SELECT service, resource, metric, SUM(quantity), MIN(minute_ms), MAX(minute_ms)"
            " FROM metered WHERE minute_ms >= ? AND minute_ms < ?"
            " GROUP BY service, resource, metric ORDER BY service, resource, metric",
            (since_ms - since_ms % 60_000, until_ms),
        ).fetchall()
        for service, resource, metric, total, first, last in rows:
            key = price_key(service, resource, metric)
            quantities.append(Quantity(service, resource, metric, total or 0.0, key))
            if metric != "byte_hours":  # storage samples are not activity
                firsts.append(max(first, since_ms))
                lasts.append(min(last + 60_000, until_ms))
    return Observed(
        since_ms,
        until_ms,
        quantities,
        min(firsts) if firsts else None,
        max(lasts) if lasts else None,
    )


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,))
    return row.fetchone() is not None
