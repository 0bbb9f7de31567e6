"""Lambda's platform log lines, the compact record they are stored from, and how a
terminal shows a log event. No third-party imports: the log writer process loads it.

    START RequestId: <id> Version: $LATEST
    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB
           \tMax Memory Used: 40 MB[\tInit Duration: 12.34 ms]      (one line, tabs)

A warm invocation that only succeeded needs just those lines and a usage row. At
gateway rates formatting them (and three event objects) in the invoker's process
was a measurable share of a request, so the invoker queues one `InvocationRecord`
tuple instead and the log writer process expands it (`expand_rows`) into exactly
the rows the invoker would have written.

`lambic local`'s terminal shows one access line per HTTP request (`access_line`,
queued by the gateway as an `AccessRecord`, printed but not stored), the functions'
own output prefixed `[function]`, and one `[event]` line per delivery; the platform
lines (START/END/REPORT) only with `--verbose`, since they are in `lambic logs`.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

from lambic.runtime.usage import UsageRecord

__all__ = [
    "AccessRecord",
    "InvocationRecord",
    "PathRewrite",
    "access_line",
    "end_and_report",
    "expand_rows",
    "function_of",
    "is_access_record",
    "is_platform_line",
    "sort_rows",
    "start_line",
    "terminal_lines",
]

# (log_group, log_stream, start_ms or None (START already written), end_ms, request_id,
#  duration_ms, billed_ms, memory_size_mb, max_memory_mb, init_ms or None,
#  function_name, status): a plain tuple, so it is serialized without a callback.
InvocationRecord = tuple[
    str, str, int | None, int, str, float, int, int, int, float | None, str, str
]
_RECORD_FIELDS = 12

# (timestamp_ms, method, path with query, status, duration_ms, function or "",
#  cold: 1 cold start, 0 warm, -1 no invocation): one HTTP request as the terminal
# shows it; seven fields, so it never looks like an event row or a record.
AccessRecord = tuple[int, str, str, int, float, str, int]
_ACCESS_FIELDS = 7
_PLATFORM_PREFIXES = ("START RequestId: ", "END RequestId: ", "REPORT RequestId: ")
# The `[event]` lines kept in each function's log group (`lambic/events` stream)
# already name their function: printed as they are.
_EVENT_PREFIX = "[event] "


def function_of(log_group: str) -> str:
    """The function a log group belongs to: `/aws/lambda/app-dev` -> `app-dev`."""
    return log_group.rsplit("/", 1)[-1]


def start_line(request_id: str) -> str:
    return f"START RequestId: {request_id} Version: $LATEST"


def end_and_report(
    request_id: str,
    duration_ms: float,
    billed_ms: int,
    memory_size_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
) -> list[str]:
    """The END and REPORT lines (Init Duration on a cold start only)."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms} ms\tMemory Size: {memory_size_mb} MB\t"
        f"Max Memory Used: {max_memory_mb} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    return [f"END RequestId: {request_id}", report]


def expand_rows(rows: Iterable[Sequence[Any]]) -> tuple[list[Sequence[Any]], list[Sequence[Any]]]:
    """Log event rows and usage rows from a queue of event rows and invocation records.

    Events are `(log_group, log_stream, timestamp_ms, message)`; order is kept, so a
    record's lines land after the invocation's own output, as on Lambda. (Access
    records are not log events: they are left out; see `sort_rows`.)
    """
    events, usage, _ = sort_rows(rows, verbose=False)
    return events, usage


def sort_rows(
    rows: Iterable[Sequence[Any]], *, verbose: bool
) -> tuple[list[Sequence[Any]], list[Sequence[Any]], list[Sequence[Any]]]:
    """(event rows to store, usage rows, rows to print) from a queue of event rows,
    invocation records and access records, in one pass (the log writer runs it for
    every request): rows to print keep the queue's order and hold the platform lines
    only when `verbose`."""
    events: list[Sequence[Any]] = []
    usage: list[Sequence[Any]] = []
    shown: list[Sequence[Any]] = []
    for row in rows:
        fields = len(row)
        if fields == _ACCESS_FIELDS:
            shown.append(row)
            continue
        if fields != _RECORD_FIELDS:
            events.append(row)
            shown.append(row)
            continue
        group, stream, start_ms, end_ms, request_id, duration, billed, memory, max_mb = row[:9]
        init_ms, function_name, status = row[9:]
        platform = [] if start_ms is None else [(group, stream, start_ms, start_line(request_id))]
        for line in end_and_report(request_id, duration, billed, memory, max_mb, init_ms):
            platform.append((group, stream, end_ms, line))
        events += platform
        if verbose:
            shown += platform
        usage.append(
            UsageRecord(function_name, request_id, end_ms, status, duration, billed, memory,
                        max_mb, init_ms, init_ms is not None)
        )  # fmt: skip
    return events, usage, shown


class PathRewrite:
    """Code-snapshot paths in log text back to the project's own files.

    Environments run a snapshot of the project (see `_snapshot`), so tracebacks name
    `<prefix><n>/app.py`; a developer wants to see (and click) `<source>/app.py`.
    """

    __slots__ = ("_pattern", "prefix", "source")

    def __init__(self, prefix: str, source: str) -> None:
        self.prefix = prefix
        self.source = source
        self._pattern = re.compile(re.escape(prefix) + r"\d+")

    def apply(self, text: str) -> str:
        if self.prefix not in text:  # the usual case, and far cheaper than the regex
            return text
        return self._pattern.sub(lambda _: self.source, text)


def is_platform_line(message: str) -> bool:
    """START, END or REPORT: Lambda's own line for every invocation."""
    return message.startswith(_PLATFORM_PREFIXES)


def is_access_record(row: Sequence[Any]) -> bool:
    return len(row) == _ACCESS_FIELDS


_REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
    413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip


@functools.lru_cache(maxsize=4)
def _clock(second: int) -> str:
    # The access line's local time, formatted once per second rather than per request.
    return time.strftime("%H:%M:%S", time.localtime(second))


def access_line(record: Sequence[Any]) -> str:
    """One request as uvicorn would print it, plus what Lambda adds:

    12:01:02 "GET /latest?limit=5" 200 OK 3.4 ms warm [app-dev]
    """
    timestamp_ms, method, path, status, duration_ms, function, cold = record
    clock = _clock(timestamp_ms // 1000)
    status_text = f"{status} {_REASONS[status]}" if status in _REASONS else str(status)
    line = f'{clock} "{method} {path}" {status_text} {duration_ms:.1f} ms'
    if cold >= 0:
        line += f" {'cold' if cold else 'warm'} [{function}]"
    return line


def terminal_lines(
    log_group: str,
    message: str,
    rewrite: PathRewrite | None = None,
    *,
    verbose: bool = True,
) -> list[str]:
    """How `lambic local` prints one log event: `[function] line` for each line;
    nothing for START/END/REPORT unless `verbose`."""
    if not verbose and is_platform_line(message):
        return []
    text = message.rstrip("\n")
    if text.startswith(_EVENT_PREFIX):
        return [text]
    prefix = f"[{function_of(log_group)}] "
    if rewrite is not None:
        text = rewrite.apply(text)
    return [prefix + line for line in text.splitlines() or [""]]
