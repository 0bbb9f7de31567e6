"""The local CloudWatch Logs: per-function log groups and streams in SQLite (WAL).

`.lambic/state/<stage>/logs.sqlite3` holds every log event (START/END/REPORT, the
function's stdout/stderr and logging output) and one usage row per invocation.

Writes come from the event loop at request rate, so they never touch SQLite there:
`append()` puts the row on a queue; every few ms a thread commits the batch, or, once
batches are big (`BUSY_ROWS`), hands it to a writer process which commits it (see
`LogStore`). `close()` flushes everything
before it returns, so an invocation whose result was returned is on disk once the
invoker has closed. Readers
(`lambic logs`) open their own connection; WAL lets them read while we write.

    store = LogStore(path)
    store.append(LogEvent("/aws/lambda/app-dev", "2026/01/01/[$LATEST]ab..", ts, "hi"))
    store.read_events("/aws/lambda/app-dev", since_ms=0)
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson

from lambic.project.sqlite import use_wal
from lambic.runtime._log_lines import (
    AccessRecord,
    InvocationRecord,
    PathRewrite,
    access_line,
    function_of,
    is_access_record,
    sort_rows,
    terminal_lines,
)
from lambic.runtime._log_writer_fork import ForkedWriter
from lambic.runtime.errors import LambicRuntimeError
from lambic.runtime.usage import UsageRecord

__all__ = ["BUSY_ROWS", "LogEvent", "LogStore", "StoredEvent", "log_groups", "resolve_log_group"]

#: A batch (what `LogStore` gathered in one `flush_interval`) of at least this many rows
#: starts the writer process, which from then on commits and prints every batch. The
#: writer takes ~27 us of the gateway's process's CPU off each invocation (the commit
#: and the printing; bench: ~11% more requests/s under load) but holds memory of its own
#: (~3.4 MB forked by `lambic local`'s zygote, ~9 MB as a new interpreter): below ~150
#: invocations/s (a few rows each) that CPU is under half a percent of a core, so a
#: quiet store commits in its own thread and starts no writer.
BUSY_ROWS = 32

# Plain rowid keys, not AUTOINCREMENT: its bookkeeping cost ~15% of each write here,
# and ids still only grow because nothing is ever deleted from these tables.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_events (
    id INTEGER PRIMARY KEY,
    log_group TEXT NOT NULL,
    log_stream TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_group_time ON log_events (log_group, timestamp_ms);
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY,
    function_name TEXT NOT NULL,
    request_id TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    billed_ms INTEGER NOT NULL,
    memory_size_mb INTEGER NOT NULL,
    max_memory_mb INTEGER NOT NULL,
    init_ms REAL,
    cold_start INTEGER NOT NULL
);
-- One index for both readers of `usage`: (function_name, timestamp_ms, id) pages a
-- function's invocations newest first with no sort (the console), and the trailing
-- memory and billed ms cover the cost report's sums (`lambic.cost.quantities`: the
-- index alone is read, ~0.2 s for a million invocations instead of ~0.6 s). It
-- replaces the (function_name, timestamp_ms) index it extends.
CREATE INDEX IF NOT EXISTS usage_function_time_cost
    ON usage (function_name, timestamp_ms, id, memory_size_mb, billed_ms);
DROP INDEX IF EXISTS usage_function_time;
"""


class LogEvent(NamedTuple):
    """One CloudWatch-style log event, as it is stored and offered to a log sink.

    A NamedTuple, not a dataclass: the invoker makes three or more per invocation at
    gateway rates, and the tuple goes into SQLite as it is.
    """

    log_group: str
    log_stream: str
    timestamp_ms: int
    message: str

    @property
    def function_name(self) -> str:
        return function_of(self.log_group)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    log_group: str
    log_stream: str
    timestamp_ms: int
    message: str

    @property
    def function_name(self) -> str:
        return function_of(self.log_group)


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
    use_wal(conn)
    conn.executescript(_SCHEMA)
    return conn


def commit_batch(
    conn: sqlite3.Connection,
    queued: list[Any],
    usage: list[Any],
    echo: BinaryIO | None = None,
    rewrite: PathRewrite | None = None,
    *,
    verbose: bool = True,
) -> None:
    """Store one batch (used by the writer process, and by the fallback in-process).

    `queued` holds event rows and, in order among them, invocation records, which
    become their START/END/REPORT rows and usage rows here, and the gateway's access
    records, which are only printed. With `echo`, the events are also printed there
    as `lambic local` shows them (START/END/REPORT only when `verbose`).
    """
    events, record_usage, shown = sort_rows(queued, verbose=verbose)
    with contextlib.suppress(sqlite3.Error):  # a full disk loses the batch only
        write_rows(conn, events, [*usage, *record_usage])
    # Printed after the commit: a terminal that blocks (paused output) delays what
    # the developer sees, never what is stored.
    if echo is not None and shown:
        lines: list[str] = []
        for e in shown:
            if is_access_record(e):
                lines.append(access_line(e))
            else:
                lines += terminal_lines(e[0], e[3], rewrite, verbose=verbose)
        if not lines:
            return
        with contextlib.suppress(OSError, ValueError):  # a closed terminal stops nothing
            echo.write(("\n".join(lines) + "\n").encode("utf-8", "replace"))
            echo.flush()


def write_rows(conn: sqlite3.Connection, events: list[Any], usage: list[Any]) -> None:
    """Insert event rows and usage rows in one transaction."""
    with conn:
        if events:
            conn.executemany(
                "INSERT INTO log_events (log_group, log_stream, timestamp_ms, message)"
                " VALUES (?, ?, ?, ?)",
                events,
            )
        if usage:
            conn.executemany(
                "INSERT INTO usage (function_name, request_id, timestamp_ms, status,"
                " duration_ms, billed_ms, memory_size_mb, max_memory_mb, init_ms,"
                " cold_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                usage,
            )


class LogStore:
    """Durable log + usage store: the event loop queues, another process writes.

    A thread takes what was queued every `flush_interval` seconds, sends it as one
    JSON line to a small writer process (`_log_writer`) and waits for its commit.
    SQLite therefore never runs in the invoker's process: its per-row work (and the
    GIL hand-offs around every statement) measured ~25 us per invocation there.
    If the writer process is gone, the thread writes itself, so no batch is lost.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        flush_interval: float = 0.05,
        echo_fd: int | None = None,
        rewrite: PathRewrite | None = None,
        verbose: bool = True,
        forked: ForkedWriter | None = None,
        busy_rows: int | None = None,
    ) -> None:
        """`echo_fd`: also print every event there (a terminal), as `[function] line`
        (START/END/REPORT only when `verbose`); `rewrite` maps snapshot paths in them.
        `forked`: the writer `lambic local`'s zygote forks (`_log_writer_fork`), to
        start instead of a new interpreter. `busy_rows`: how many rows in one batch
        start the writer (default `BUSY_ROWS`; 0: at once)."""
        self.path = Path(path)
        try:
            self._conn = connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise LambicRuntimeError(
                f"Cannot open the log store {self.path}: {exc}; check that the directory "
                "is writable (or delete a corrupt file)"
            ) from exc
        # deque.append / popleft are atomic, so the event loop never takes a lock.
        self._events: deque[LogEvent | InvocationRecord | AccessRecord] = deque()
        self._usage: deque[UsageRecord] = deque()
        self._wake = threading.Event()
        self._flushed = threading.Condition()
        self._generation = 0
        self._interval = flush_interval
        self._closed = False
        self._echo: BinaryIO | None = None
        if echo_fd is not None:
            try:
                self._echo = os.fdopen(os.dup(echo_fd), "wb")
            except OSError:  # no such descriptor (stdout closed): logs are only stored
                self._echo = None
        self._rewrite = rewrite
        self._verbose = verbose
        # The writer process is started by the first busy batch (`BUSY_ROWS`); until
        # then (a quiet cloud: always) batches are committed here.
        self._writer: subprocess.Popen[bytes] | ForkedWriter | None = None
        self._writer_begun = False
        self._busy_rows = BUSY_ROWS if busy_rows is None else busy_rows
        self._unstarted = forked if forked is not None and not forked.started else None
        self._thread = threading.Thread(target=self._run, name="lambic-logstore", daemon=True)
        self._thread.start()

    def _spawn_writer(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "lambic.runtime._log_writer", str(self.path)]
        if self._echo is not None:
            command += ["--echo-fd", str(self._echo.fileno())]
        if self._rewrite is not None:
            command += ["--rewrite", self._rewrite.prefix, self._rewrite.source]
        if self._verbose:
            command.append("--verbose")
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=() if self._echo is None else (self._echo.fileno(),),
        )

    def append(self, item: LogEvent | InvocationRecord | AccessRecord) -> None:
        """Queue one log event, invocation record or access record (to print only);
        cheap: called per log line."""
        if not self._closed:
            self._events.append(item)
        # After close() the writer is gone; late events are dropped, not queued forever.

    def append_usage(self, record: UsageRecord) -> None:
        if not self._closed:
            self._usage.append(record)

    @staticmethod
    def _take(queue: deque[Any]) -> list[Any]:
        items = []
        with contextlib.suppress(IndexError):
            while True:
                items.append(queue.popleft())
        return items

    def _write_batch(self) -> None:
        events = self._take(self._events)
        usage = self._take(self._usage)
        if not events and not usage:
            return
        if not self._writer_begun and len(events) + len(usage) >= self._busy_rows:
            self._writer_begun = True
            self._writer = self._begin_writer()
        writer = self._writer
        if writer is not None and writer.stdin is not None and writer.stdout is not None:
            # orjson: ~6x faster than json here, and this runs under the GIL the event
            # loop needs. Rows are NamedTuples, which orjson takes via `default=tuple`.
            line = orjson.dumps({"e": events, "u": usage}, default=tuple) + b"\n"
            try:
                writer.stdin.write(line)
                writer.stdin.flush()
                if writer.stdout.readline() == b"ok\n":
                    return
            except (OSError, ValueError):
                pass
            self._writer = None  # the writer died: from now on, write here
        # A full disk must not stop the invoker; the batch is lost, serving goes on.
        commit_batch(self._conn, events, usage, self._echo, self._rewrite, verbose=self._verbose)

    def _begin_writer(self) -> subprocess.Popen[bytes] | ForkedWriter:
        forked, self._unstarted = self._unstarted, None
        if forked is None:
            return self._spawn_writer()
        try:
            forked.start(
                self.path,
                None if self._echo is None else self._echo.fileno(),
                None if self._rewrite is None else (self._rewrite.prefix, self._rewrite.source),
                verbose=self._verbose,
            )
        except OSError:  # it is gone (its zygote died before forking it)
            return self._spawn_writer()
        return forked

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            stopping = self._closed
            self._write_batch()
            with self._flushed:
                self._generation += 1
                self._flushed.notify_all()
            if stopping:
                self._stop_writer()
                return

    def _stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        for stream in (writer.stdin, writer.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            writer.wait(10)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait(5)

    def flush(self, timeout: float = 10.0) -> None:
        """Block until everything appended so far is committed."""
        with self._flushed:
            target = self._generation + 2  # a full pass that started after this call
            self._wake.set()
            self._flushed.wait_for(lambda: self._generation >= target or self._closed, timeout)

    def close(self) -> None:
        """Commit everything queued, stop the writer process; later appends are dropped."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(30)
        if self._thread.is_alive():  # pragma: no cover - a wedged disk
            self._stop_writer()
        if self._unstarted is not None:  # never busy: its zygote forks none
            self._unstarted.close()
            self._unstarted = None
        self._conn.close()
        if self._echo is not None:
            with contextlib.suppress(OSError):
                self._echo.close()

    # ------------------------------------------------------------------ reading

    def read_events(
        self, log_group: str | None = None, *, since_ms: int = 0, after_id: int = 0
    ) -> list[StoredEvent]:
        return list(iter_events(self._conn, log_group, since_ms=since_ms, after_id=after_id))


def iter_events(
    conn: sqlite3.Connection,
    log_group: str | None = None,
    *,
    since_ms: int = 0,
    after_id: int = 0,
) -> Iterator[StoredEvent]:
    sql = (
        "SELECT id, log_group, log_stream, timestamp_ms, message FROM log_events"
        " WHERE id > ? AND timestamp_ms >= ?"
    )
    args: list[object] = [after_id, since_ms]
    if log_group is not None:
        sql += " AND log_group = ?"
        args.append(log_group)
    for row in conn.execute(sql + " ORDER BY id", args):
        yield StoredEvent(*row)


def log_groups(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT log_group FROM log_events ORDER BY 1")]


def resolve_log_group(
    conn: sqlite3.Connection, name: str, app_name: str | None, stage: str
) -> str | None:
    """The log group of function `name` (app.py's short name or the deployed name), if
    it has logged anything: `/aws/lambda/<app>-<stage>[-<name>]` as on AWS."""
    # Imported here: the log writer, which imports this module, never reads groups, and
    # the config's modules (~1 MB of its own memory) are all it would import them for.
    from lambic.project.config import deployed_name

    groups = log_groups(conn)
    candidates = [f"/aws/lambda/{name}"]
    if app_name:
        candidates.insert(0, f"/aws/lambda/{deployed_name(app_name, stage, name)}")
    for group in candidates:
        if group in groups:
            return group
    suffix = [g for g in groups if g.endswith(f"-{stage}-{name}")]
    return suffix[0] if len(suffix) == 1 else None
