"""Metering what AWS would bill: counted in memory, flushed to the stage's state in batches.

Every billable action of the local cloud (an API Gateway request, DynamoDB request
units, an S3 request by pricing class, an SQS request in 64 KB chunks, an SNS publish
or delivery, an EventBridge event) calls `Meter.add(service, resource, metric, n)`
where it happens. That adds `n` to an in-memory total per minute, service, resource
and metric (one dict update under an uncontended lock); a thread writes the totals
every `flush_interval` seconds into the `metered` table of the stage's log store
(`logs.sqlite3`, beside Lambda's per-invocation `usage` rows), one row per minute,
service, resource and metric. So the hot path never touches SQLite, holds nothing per
request, and the table grows by minutes of activity, not by requests.

Stored data is metered by sampling: `Meter.sample(provider)` registers a function
returning `{(service, resource): bytes}`; every `sample_interval` seconds (and at
close) the thread adds `bytes x hours since the last sample` as `byte_hours`, the
unit S3 and DynamoDB storage prices come down to (GB-month = byte-hours / 730 / 2**30).

    meter = create_meter(state_dir)          # None when metering is switched off
    meter.add("sqs", "orders", "requests", 1)
    meter.close()                            # flushes; the rows are in logs.sqlite3

`LAMBIC_METERING=off` switches metering off for a process (the benches compare both).
The WebSocket API meters through the same call (`lambic.runtime.usage.WebSocketUsage`):
`meter.add("apigateway", "websocket", "messages", n)` and `"connection_minutes"`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from lambic.project.paths import LOG_STORE_FILE
from lambic.project.sqlite import use_wal

__all__ = [
    "METERED_SCHEMA",
    "METERING_ENV",
    "Meter",
    "StorageProvider",
    "Tally",
    "create_meter",
    "metering_enabled",
]

#: Set to "off" (or 0/false/no) to run without metering.
METERING_ENV = "LAMBIC_METERING"

METERED_SCHEMA = """
CREATE TABLE IF NOT EXISTS metered (
    minute_ms INTEGER NOT NULL,
    service TEXT NOT NULL,
    resource TEXT NOT NULL,
    metric TEXT NOT NULL,
    quantity REAL NOT NULL,
    -- Keyed by what is metered first: the cost report's GROUP BY reads the key's
    -- order, with no sort (a time-first key made it 4x slower).
    PRIMARY KEY (service, resource, metric, minute_ms)
) WITHOUT ROWID;
"""

#: {(service, resource): bytes stored now}
StorageProvider = Callable[[], Mapping[tuple[str, str], int]]

_Key = tuple[int, str, str, str]


def metering_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(METERING_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


class Tally:
    """One metric's running total, added to by one thread (see `Meter.tally`)."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0.0


class Meter:
    """Billable quantities of one stage, aggregated in memory and flushed in batches."""

    def __init__(
        self,
        path: Path,
        *,
        flush_interval: float = 2.0,
        sample_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._flush_interval = flush_interval
        self._sample_interval = sample_interval
        self._clock = clock
        self._lock = threading.Lock()
        # What was counted since the last flush: one list of quantities per minute,
        # service, resource and metric. `add` appends to its key's list, and the flush
        # takes the first n items (`del cell[:n]`): each step is one operation the GIL
        # makes atomic, so adders on any thread need no lock (a lock's acquire and
        # release were a third of `add`'s cost, paid on every request), and what is
        # appended while the flush sums stays for the next one. The lists hold numbers
        # only (no GC-tracked objects; a queue of one tuple per add, summed at the
        # flush, kept thousands of tuples alive through young collections).
        self._cells: dict[_Key, list[float]] = {}
        self._take_lock = threading.Lock()  # one taker at a time (flush and close)
        # (start, end) of the current minute in clock seconds, and its epoch ms: `add`
        # dates a count with a comparison, not a float floor division per call. One
        # tuple, replaced whole, so a concurrent reader never sees half of it.
        self._minute: tuple[float, float, int] = (0.0, 0.0, 0)
        # (key, tally, [total already taken]) for each `tally()`.
        self._tallies: list[tuple[tuple[str, str, str], Tally, list[float]]] = []
        self._providers: list[StorageProvider] = []
        self._last_sample: float | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = False
        self._conn: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()

    def add(self, service: str, resource: str, metric: str, quantity: float = 1) -> None:
        """Count `quantity` of `metric` for `resource` now (cheap: called per request)."""
        now = self._clock()
        minute = self._minute
        if not minute[0] <= now < minute[1]:
            minute = self._roll_minute(now)
        key = (minute[2], service, resource, metric)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells.setdefault(key, [])
        cell.append(quantity)
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._closed:
                    self._start()

    def _roll_minute(self, now: float) -> tuple[float, float, int]:
        start = now // 60 * 60
        self._minute = minute = (start, start + 60, int(start) * 1000)
        return minute

    def tally(self, service: str, resource: str, metric: str) -> Tally:
        """A counter for one metric that a single thread adds to without a lock
        (`tally.total += n`): the gateway's event loop, once per request. The flush
        dates what it finds there by its own clock, so a count may land in the next
        minute by at most `flush_interval` (`add` dates each count exactly)."""
        tally = Tally()
        with self._lock:
            self._tallies.append(((service, resource, metric), tally, [0.0]))
            if self._thread is None and not self._closed:
                self._start()
        return tally

    def sample(self, provider: StorageProvider) -> None:
        """Meter stored bytes from `provider`, called on the meter's own thread."""
        with self._lock:
            self._providers.append(provider)
            if self._last_sample is None:
                self._last_sample = self._clock()  # stored bytes count from now on
            if self._thread is None and not self._closed:
                self._start()

    def _start(self) -> None:
        # Started by the first use, not at construction: the services' start-up stays
        # as it was, and a process that meters nothing runs no thread.
        self._thread = threading.Thread(target=self._run, name="lambic-meter", daemon=True)
        self._thread.start()

    def flush(self) -> None:
        """Write what was counted so far (and take a storage sample if one is due)."""
        self._sample_storage(force=False)
        counts = self._take()
        if counts:
            self._write(counts)

    def _take(self) -> dict[_Key, float]:
        """Everything counted so far, per minute, service, resource and metric."""
        with self._take_lock:
            counts: dict[_Key, float] = {}
            # Two minutes back: no adder still dates a count that far back, so an
            # empty list there is dropped (the table would otherwise keep a key per
            # minute and metric for the process's life).
            stale = int(self._clock() // 60) * 60_000 - 120_000
            cells = self._cells
            for key, cell in list(cells.items()):
                length = len(cell)
                if length:
                    counts[key] = sum(cell[:length])  # added in order, as they came
                    del cell[:length]
                elif key[0] < stale:
                    del cells[key]
            if self._tallies:
                minute = int(self._clock() // 60) * 60_000
                for (service, resource, metric), tally, taken in list(self._tallies):
                    total = tally.total  # one read: the owner thread may add meanwhile
                    if total != taken[0]:
                        key = (minute, service, resource, metric)
                        counts[key] = counts.get(key, 0) + total - taken[0]
                        taken[0] = total
        return counts

    def _sample_storage(self, *, force: bool) -> None:
        if not self._providers:
            return
        now = self._clock()
        last = self._last_sample if self._last_sample is not None else now
        if not force and now - last < self._sample_interval:
            return
        self._last_sample = now
        hours = (now - last) / 3600
        for provider in list(self._providers):
            try:
                stored = provider()
            except (OSError, sqlite3.Error):  # a store being closed: next sample counts
                continue
            for (service, resource), size in stored.items():
                if size:
                    self.add(service, resource, "byte_hours", size * hours)

    def _connection(self) -> sqlite3.Connection:
        # One connection for the meter's life, opened by the first write: a flush is
        # then one upsert and a commit (opening a connection each time cost more).
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            use_wal(conn)
            conn.executescript(METERED_SCHEMA)
            self._conn = conn
        return self._conn

    def _write(self, counts: dict[_Key, float]) -> None:
        rows = [(*key, quantity) for key, quantity in counts.items()]
        try:
            with self._write_lock:  # flush() may also be called from another thread
                conn = self._connection()
                with conn:
                    conn.executemany(
                        "INSERT INTO metered (minute_ms, service, resource, metric, quantity)"
                        " VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT (service, resource, metric, minute_ms)"
                        " DO UPDATE SET quantity = quantity + excluded.quantity",
                        rows,
                    )
        except sqlite3.Error:
            pass  # a full disk loses this batch of counts; serving goes on

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            if self._closed:
                return
            self.flush()

    def close(self) -> None:
        """Stop the thread and write everything counted, with a last storage sample."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(30)
        self._sample_storage(force=True)
        counts = self._take()
        if counts:
            self._write(counts)
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def create_meter(state_dir: Path | None, environ: Mapping[str, str] = os.environ) -> Meter | None:
    """The stage's meter writing into `<state_dir>/logs.sqlite3`; None in memory or when
    `LAMBIC_METERING=off`."""
    if state_dir is None or not metering_enabled(environ):
        return None
    state_dir.mkdir(parents=True, exist_ok=True)
    return Meter(state_dir / LOG_STORE_FILE)
