"""Usage metering: one record per invocation, for the cost report, and API requests.

Lambda bills by requests and GB-seconds of billed duration (rounded up to the ms,
including the init phase of a cold start since August 2025); we record what that
needs (function, billed ms, memory size) plus what a developer wants to see next to
it (cold start, init and max memory). Records go into the log store's `usage` table.
Everything else billable (API Gateway requests here, the services' units) is counted
by the stage's `Meter` into the `metered` table beside it (`lambic.project.metering`);
`lambic.cost` prices both.

    summarize_usage(conn, since_ms=0)["myapp-dev"].gb_seconds
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from lambic.project.metering import Meter

__all__ = [
    "FunctionUsage",
    "UsageRecord",
    "WebSocketUsage",
    "api_request_meter",
    "summarize_usage",
]

#: HTTP APIs are metered in 512 KB increments (a 600 KB request is two requests).
HTTP_API_INCREMENT = 512 * 1024
#: WebSocket messages are metered in 32 KB increments (a 33 KB message is two).
WEBSOCKET_MESSAGE_INCREMENT = 32 * 1024


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


def api_request_meter(meter: Meter, api_type: str) -> Callable[[int], None]:
    """The gateway's per-request callback for an API of `api_type` ("rest" or "http"):
    a REST API request is one request; an HTTP API request of 600 KB is two. Called
    on the event loop only, so it counts into a lock-free `Tally` (~0.1 us a request;
    `Meter.add` costs ~1 us)."""
    tally = meter.tally("apigateway", "http" if api_type == "http" else "rest", "requests")
    if api_type == "http":

        def http_request(size: int) -> None:
            tally.total += max(1, -(-size // HTTP_API_INCREMENT))

        return http_request

    def rest_request(size: int) -> None:
        tally.total += 1

    return rest_request


class WebSocketUsage:
    """A WebSocket API's billed quantities, counted into the stage's meter.

    API Gateway bills messages sent and received (client to API, and API to client
    through @connections), each in 32 KB increments, and the minutes connections stay
    open. Control frames (ping, pong, close) and the $connect/$disconnect handshakes are
    not messages. A connection's minutes are metered when it closes, as the exact
    duration: AWS documents no rounding, and a connection lasts 2 hours at most.
    """

    __slots__ = ("_meter",)

    def __init__(self, meter: Meter) -> None:
        self._meter = meter

    def message(self, size: int) -> None:
        units = max(1, -(-size // WEBSOCKET_MESSAGE_INCREMENT))
        self._meter.add("apigateway", "websocket", "messages", units)

    def connection_closed(self, seconds: float) -> None:
        self._meter.add("apigateway", "websocket", "connection_minutes", max(0.0, seconds) / 60)
