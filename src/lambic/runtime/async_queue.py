"""Lambda's asynchronous invocation, durably: the internal event queue per function.

Data flow: an event source (S3 notification, schedule, SNS, EventBridge) calls
`enqueue()`, which commits the event to SQLite before returning, so an accepted event
survives `kill -9`. One worker per function takes due events, invokes the function
synchronously through the invoker, and then:

- success: the event is deleted;
- throttled: it waits and is tried again, without using up a retry (AWS keeps
  throttled events for up to the maximum event age);
- function error: it is retried up to `maximum_retry_attempts` (default 2) times,
  about 1 and then 2 minutes apart, as Lambda does;
- retries exhausted or older than `maximum_event_age_in_seconds` (default 6 h): the
  event goes to the function's on-failure destination (an invocation record) or DLQ
  (the original event), when configured, and is dropped.

Events that were in flight when the process died are run again on restart: delivery is
at least once, as on AWS.

The hand-over is direct. A producer on another thread (the services' edge calls the
S3 and SNS listeners there) commits the row, then passes it, already in hand, to the
runtime's loop with one `call_soon_threadsafe`; if the function has room the delivery
starts in that callback, with no wakeup of the worker and no SELECT. Such a row is
"offered" from its commit until that callback runs, and the worker's own query skips
offered rows, so an event is never started twice. The worker reads SQLite only for
what the hand-over cannot do: events left from a crash, retries falling due, and
events that waited for room under the function's concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from lambic.project.config import AsyncSettings
from lambic.project.sqlite import open_database

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (60.0, 120.0)
THROTTLE_BACKOFF = 1.0
_FAILED = frozenset({"error", "timeout", "oom", "crash"})


class _Result(Protocol):
    status: str
    payload: bytes
    error_type: str | None
    request_id: str


class SyncInvoke(Protocol):
    """Runs one attempt synchronously, under the request id the event was accepted with."""

    def __call__(self, function: str, payload: bytes, request_id: str) -> Awaitable[_Result]: ...


@dataclass(frozen=True)
class FailedEvent:
    """What is handed to a destination when an event is given up on."""

    function: str
    function_arn: str
    payload: bytes
    condition: str  # "RetriesExhausted" | "EventAgeExceeded"
    attempts: int
    request_id: str
    error_type: str | None
    response_payload: bytes
    settings: AsyncSettings

    def destination_record(self, now: float) -> dict[str, Any]:
        """The invocation record Lambda sends to an on-failure destination."""
        try:
            request_payload: Any = json.loads(self.payload)
        except ValueError:
            request_payload = self.payload.decode("utf-8", "replace")
        try:
            response: Any = json.loads(self.response_payload) if self.response_payload else None
        except ValueError:
            response = self.response_payload.decode("utf-8", "replace")
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": _iso(now),
            "requestContext": {
                "requestId": self.request_id,
                "functionArn": f"{self.function_arn}:$LATEST",
                "condition": self.condition,
                "approximateInvokeCount": self.attempts,
            },
            "requestPayload": request_payload,
        }
        if self.attempts:
            record["responseContext"] = {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            }
            record["responsePayload"] = response
        return record


FailureSink = Callable[[FailedEvent], None]


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event, for the one-line report `lambic local` prints."""

    source: str
    function: str
    request_id: str
    outcome: str  # the invocation status, or "dropped" when given up on
    duration_ms: float
    attempt: int


DeliveryReport = Callable[[Delivery], None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS async_events (
    id INTEGER PRIMARY KEY,
    function TEXT NOT NULL,
    payload BLOB NOT NULL,
    request_id TEXT NOT NULL,
    source TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    last_error TEXT,
    last_response BLOB
);
CREATE INDEX IF NOT EXISTS async_events_due ON async_events (function, due_at);
"""


class AsyncEventQueue:
    """The durable per-function event queues and their workers."""

    def __init__(
        self,
        invoke: SyncInvoke,
        *,
        path: Path | None,
        settings: Callable[[str], AsyncSettings] = lambda name: AsyncSettings(),
        function_arn: Callable[[str], str] = lambda name: name,
        on_failure: FailureSink | None = None,
        concurrency: Callable[[str], int] = lambda name: 10,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        clock: Callable[[], float] = time.time,
        report: DeliveryReport | None = None,
    ) -> None:
        self._invoke = invoke
        self._report = report
        self._db = open_database(path)
        self._db.executescript(_SCHEMA)
        self._settings = settings
        self._function_arn = function_arn
        self._on_failure = on_failure
        self._concurrency = concurrency
        self._retry_delays = retry_delays
        self._clock = clock
        # Producers may run on other threads (the services' edge loop calls S3 and SNS
        # listeners there), so SQLite access is serialised and wakeups hop loops.
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeups: dict[str, asyncio.Event] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._inflight: dict[str, set[asyncio.Task[None]]] = {}
        self._running: set[int] = set()
        # Committed rows on their way to `_offer` (guarded by `_lock`, like the INSERT
        # that adds them, so `_due` never sees a row without seeing it offered).
        self._offered: set[int] = set()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._closed = False

    # ------------------------------------------------------------------ producers

    def enqueue(self, function: str, payload: bytes, *, request_id: str, source: str) -> int:
        """Accept an event for `function`; committed before this returns."""
        now = self._clock()
        loop = self._loop
        offer = function in self._workers and loop is not None and not loop.is_closed()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO async_events"
                " (function, payload, request_id, source, enqueued_at, due_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (function, payload, request_id, source, now, now),
            )
            event_id = int(cursor.lastrowid or 0)
            if offer:
                self._offered.add(event_id)
        if loop is None or not offer:
            self._wake(function)  # no worker yet: it will find the row when it starts
            return event_id
        row = (event_id, payload, request_id, now, 0, source)
        if _running_loop() is loop:
            self._offer(function, row)
        else:
            try:
                loop.call_soon_threadsafe(self._offer, function, row)
            except RuntimeError:  # the loop closed meanwhile: the row waits for a restart
                with self._lock:
                    self._offered.discard(event_id)
        return event_id

    def pending(self, function: str | None = None) -> int:
        """Events accepted and not yet finished (for tests and `lambic local`'s status)."""
        with self._lock:
            if function is None:
                row = self._db.execute("SELECT COUNT(*) FROM async_events").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM async_events WHERE function = ?", (function,)
                ).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ workers

    def start(self, functions: list[str]) -> None:
        """Start a worker for each function; events left from a crash are run again."""
        self._loop = asyncio.get_running_loop()
        for function in functions:
            if function not in self._workers:
                self._wakeups[function] = asyncio.Event()
                self._inflight[function] = set()
                self._workers[function] = asyncio.get_running_loop().create_task(
                    self._work(function), name=f"lambic-async-{function}"
                )

    def retain(self, functions: list[str]) -> None:
        """After a reload: workers for exactly `functions` (their events stay queued)."""
        for function in [name for name in self._workers if name not in functions]:
            self._workers.pop(function).cancel()
            self._wakeups.pop(function, None)
            self._inflight.pop(function, None)
        self.start(functions)

    async def aclose(self, grace: float = 5.0) -> None:
        """Stop the workers; deliveries in flight get `grace` seconds to finish.

        One still running after that is cancelled and its event stays queued, so it
        runs again on the next start (at least once, as after a crash).
        """
        self._closed = True
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        if self._deliveries:
            _, late = await asyncio.wait(set(self._deliveries), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        self._db.close()

    def _wake(self, function: str) -> None:
        event = self._wakeups.get(function)
        if event is None or self._loop is None or self._loop.is_closed():
            return
        if _running_loop() is self._loop:
            event.set()
        else:
            self._loop.call_soon_threadsafe(event.set)

    def _offer(self, function: str, row: tuple[Any, ...]) -> None:
        """On the loop: start a just-committed event now if its function has room."""
        with self._lock:
            self._offered.discard(row[0])
        inflight = self._inflight.get(function)
        if self._closed or inflight is None:
            return  # removed by a reload or closing: the row stays queued
        if len(inflight) < max(1, self._concurrency(function)):
            self._start_delivery(function, row)
        else:
            self._wake(function)  # the worker takes it from SQLite when there is room

    def _start_delivery(self, function: str, row: tuple[Any, ...]) -> None:
        inflight = self._inflight[function]
        self._running.add(row[0])
        task = asyncio.get_running_loop().create_task(self._deliver(function, row))
        inflight.add(task)
        self._deliveries.add(task)
        task.add_done_callback(self._finished(row[0], inflight, self._wakeups[function]))

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    async def _work(self, function: str) -> None:
        inflight = self._inflight[function]
        wakeup = self._wakeups[function]
        while not self._closed:
            wakeup.clear()
            limit = max(1, self._concurrency(function))
            for row in self._due(function, limit - len(inflight)):
                self._start_delivery(function, row)
            delay = self._next_due_in(function) if len(inflight) < limit else None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=delay)

    def _finished(
        self, event_id: int, inflight: set[asyncio.Task[None]], wakeup: asyncio.Event
    ) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            inflight.discard(task)
            self._deliveries.discard(task)
            self._running.discard(event_id)
            wakeup.set()

        return done

    def _due(self, function: str, room: int) -> list[tuple[Any, ...]]:
        if room <= 0:
            return []
        with self._lock:
            skip = self._running | self._offered
            rows = self._db.execute(
                "SELECT id, payload, request_id, enqueued_at, attempts, source FROM async_events"
                " WHERE function = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?",
                (function, self._clock(), room + len(skip)),
            ).fetchall()
        return [row for row in rows if row[0] not in skip][:room]

    def _next_due_in(self, function: str) -> float | None:
        """Seconds until the next retry falls due; None when none is waiting.

        Rows already due are running, offered, or waiting for room (the worker is woken
        when room frees up), so only future ones set a timer; counting due ones would
        turn the wait into a busy loop for as long as a delivery runs.
        """
        now = self._clock()
        row = self._execute(
            "SELECT MIN(due_at) FROM async_events WHERE function = ? AND due_at > ?",
            (function, now),
        ).fetchone()
        if row[0] is None:
            return None
        return max(0.0, float(row[0]) - now)

    async def _deliver(self, function: str, row: tuple[Any, ...]) -> None:
        event_id, payload, request_id, enqueued_at, attempts, source = row
        row = row[:5]
        settings = self._settings(function)
        if self._clock() - enqueued_at > settings.maximum_event_age_in_seconds:
            self._give_up(function, row, "EventAgeExceeded", None, b"")
            self._emit(source, function, request_id, "dropped", 0.0, attempts)
            return
        started = time.perf_counter()
        try:
            result = await self._invoke(function, payload, request_id)
        except Exception as exc:  # the function was removed by a reload, the invoker closed
            log.warning("Async event %s for %s not delivered: %s", request_id, function, exc)
            self._reschedule(event_id, attempts, THROTTLE_BACKOFF * 5, None, b"")
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        self._emit(source, function, result.request_id, result.status, elapsed_ms, attempts + 1)
        if result.status == "ok":
            self._execute("DELETE FROM async_events WHERE id = ?", (event_id,))
        elif result.status == "throttled":
            self._reschedule(event_id, attempts, THROTTLE_BACKOFF, None, b"")
        elif result.status in _FAILED:
            attempts += 1
            if attempts > settings.maximum_retry_attempts:
                self._give_up(
                    function,
                    (*row[:4], attempts),
                    "RetriesExhausted",
                    result.error_type,
                    result.payload,
                )
            else:
                delay = self._retry_delays[min(attempts, len(self._retry_delays)) - 1]
                self._reschedule(event_id, attempts, delay, result.error_type, result.payload)
        else:
            self._execute("DELETE FROM async_events WHERE id = ?", (event_id,))

    def _emit(
        self, source: str, function: str, request_id: str, outcome: str, ms: float, attempt: int
    ) -> None:
        if self._report is not None:
            try:
                self._report(Delivery(source, function, request_id, outcome, ms, attempt))
            except Exception:
                log.exception("Delivery report failed")

    def _reschedule(
        self, event_id: int, attempts: int, delay: float, error: str | None, response: bytes
    ) -> None:
        self._execute(
            "UPDATE async_events SET attempts = ?, due_at = ?, last_error = ?, last_response = ?"
            " WHERE id = ?",
            (attempts, self._clock() + delay, error, response, event_id),
        )

    def _give_up(
        self,
        function: str,
        row: tuple[Any, ...],
        condition: str,
        error_type: str | None,
        response: bytes,
    ) -> None:
        event_id, payload, request_id, _enqueued, attempts = row
        if error_type is None and attempts:
            stored = self._execute(
                "SELECT last_error, last_response FROM async_events WHERE id = ?", (event_id,)
            ).fetchone()
            if stored:
                error_type, response = stored[0], stored[1] or b""
        failed = FailedEvent(
            function=function,
            function_arn=self._function_arn(function),
            payload=payload,
            condition=condition,
            attempts=attempts,
            request_id=request_id,
            error_type=error_type,
            response_payload=response,
            settings=self._settings(function),
        )
        log.warning(
            "Giving up on async event %s for %s: %s after %d attempt(s)",
            request_id,
            function,
            condition,
            attempts,
        )
        if self._on_failure is not None:
            try:
                self._on_failure(failed)
            except Exception:
                # The destination failing must not lose the event: keep it for later.
                log.exception("On-failure destination for %s failed; keeping the event", function)
                self._reschedule(event_id, attempts, self._retry_delays[-1], error_type, response)
                return
        self._execute("DELETE FROM async_events WHERE id = ?", (event_id,))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _iso(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


__all__ = [
    "AsyncEventQueue",
    "AsyncSettings",
    "Delivery",
    "FailedEvent",
]
