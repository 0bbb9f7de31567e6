"""What the console reads from the stage's log store (`logs.sqlite3`), in plain rows.

A read-only connection of its own (WAL lets it read while the log writer commits);
every query is bounded (a row limit or the newest N), so a store with millions of
invocations answers as fast as a new one. Functions are named here by their deployed
name, as the store records them.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["FunctionStats", "LogStoreReader", "percentile"]

#: Durations the p50/p99 of a function are computed from (its newest invocations).
STATS_WINDOW = 2000


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ascending values (None for no values)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * fraction // 1))  # ceil without math
    return sorted_values[int(rank) - 1]


@dataclass(frozen=True)
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    max_memory_mb: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    last_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Tally:
    """One function's running figures (the console's cache of the usage table)."""

    __slots__ = ("colds", "count", "durations", "errors", "last", "max_mb")

    def __init__(
        self,
        count: int = 0,
        errors: int = 0,
        colds: int = 0,
        max_mb: int = 0,
        last: int | None = None,
        durations: list[float] | None = None,
    ) -> None:
        self.count, self.errors, self.colds, self.max_mb, self.last = (
            count, errors, colds, max_mb, last,
        )  # fmt: skip
        self.durations: deque[float] = deque(durations or (), maxlen=STATS_WINDOW)

    def add(self, status: str, cold: int, max_mb: int, ts: int, duration: float) -> None:
        self.count += 1
        self.errors += status != "ok"
        self.colds += bool(cold)
        self.max_mb = max(self.max_mb, max_mb)
        self.last = ts if self.last is None else max(self.last, ts)
        self.durations.append(duration)

    def stats(self) -> FunctionStats:
        ordered = sorted(self.durations)
        return FunctionStats(
            self.count, self.errors, self.colds, self.max_mb, percentile(ordered, 0.5),
            percentile(ordered, 0.99), self.last,
        )  # fmt: skip


_USAGE_COLUMNS = (
    "id, function_name, request_id, timestamp_ms, status, duration_ms, billed_ms,"
    " memory_size_mb, max_memory_mb, init_ms, cold_start"
)


def _usage_row(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = [k.strip() for k in _USAGE_COLUMNS.split(",")]
    record = dict(zip(keys, row, strict=True))
    record["cold_start"] = bool(record["cold_start"])
    return record


class LogStoreReader:
    """Read-only queries over one stage's log store; opened lazily (the file appears
    with the first invocation)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._tallies: dict[str, _Tally] | None = None
        self._seen = 0

    def _db(self) -> sqlite3.Connection | None:
        if self._conn is None:
            if not self.path.exists():
                return None
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=5, check_same_thread=False
            )
            try:
                conn.execute("SELECT 1 FROM usage LIMIT 1")
            except sqlite3.Error:  # not created yet by the writer
                conn.close()
                return None
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def stats(self) -> dict[str, FunctionStats]:
        """Every function's figures. The first call reads the whole table once; later
        calls fold in only the rows added since, so the overview costs the same with a
        million invocations recorded as with ten."""
        db = self._db()
        if db is None:
            return {}
        if self._tallies is None:
            self._tallies = {}
            for name, count, errors, colds, max_mb, last in db.execute(
                "SELECT function_name, COUNT(*), SUM(status != 'ok'), SUM(cold_start),"
                " MAX(max_memory_mb), MAX(timestamp_ms) FROM usage GROUP BY function_name"
            ):
                # Newest first through the (function_name, timestamp_ms) index.
                durations = [
                    row[0]
                    for row in db.execute(
                        "SELECT duration_ms FROM usage WHERE function_name = ?"
                        " ORDER BY timestamp_ms DESC, id DESC LIMIT ?",
                        (name, STATS_WINDOW),
                    )
                ]
                durations.reverse()
                self._tallies[name] = _Tally(count, errors, colds, max_mb, last, durations)
            self._seen = db.execute("SELECT COALESCE(MAX(id), 0) FROM usage").fetchone()[0]
        else:
            for row_id, name, status, cold, max_mb, ts, duration in db.execute(
                "SELECT id, function_name, status, cold_start, max_memory_mb, timestamp_ms,"
                " duration_ms FROM usage WHERE id > ? ORDER BY id",
                (self._seen,),
            ):
                self._tallies.setdefault(name, _Tally()).add(status, cold, max_mb, ts, duration)
                self._seen = row_id
        return {name: tally.stats() for name, tally in self._tallies.items()}

    def invocations(
        self, function: str, limit: int = 50, before_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The newest invocations of a function (older than row `before_id`: the next
        page), newest first."""
        db = self._db()
        if db is None:
            return []
        if before_id is None:
            rows = db.execute(
                f"SELECT {_USAGE_COLUMNS} FROM usage WHERE function_name = ?"
                " ORDER BY timestamp_ms DESC, id DESC LIMIT ?",
                (function, limit),
            )
        else:
            # Keyset paging along the (function_name, timestamp_ms) index, whose entries
            # end with the rowid: no sort, however long the history.
            rows = db.execute(
                f"SELECT {_USAGE_COLUMNS} FROM usage WHERE function_name = ? AND"
                " (timestamp_ms, id) < (SELECT timestamp_ms, id FROM usage WHERE id = ?)"
                " ORDER BY timestamp_ms DESC, id DESC LIMIT ?",
                (function, before_id, limit),
            )
        return [_usage_row(row) for row in rows]

    def usage_after(self, after_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """Invocations recorded after the row `after_id` (for the live feed)."""
        db = self._db()
        if db is None:
            return []
        rows = db.execute(
            f"SELECT {_USAGE_COLUMNS} FROM usage WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [_usage_row(row) for row in rows]

    def last_ids(self) -> tuple[int, int]:
        """(newest usage id, newest log event id): where a live feed starts."""
        db = self._db()
        if db is None:
            return 0, 0
        usage = db.execute("SELECT COALESCE(MAX(id), 0) FROM usage").fetchone()[0]
        events = db.execute("SELECT COALESCE(MAX(id), 0) FROM log_events").fetchone()[0]
        return int(usage), int(events)

    def invocation_logs(self, log_group: str, request_id: str) -> list[dict[str, Any]]:
        """The log lines of one invocation: its stream from START to REPORT."""
        db = self._db()
        if db is None:
            return []
        start = db.execute(
            "SELECT id, log_stream FROM log_events WHERE log_group = ? AND message = ?"
            " ORDER BY id DESC LIMIT 1",
            (log_group, f"START RequestId: {request_id} Version: $LATEST"),
        ).fetchone()
        if start is None:
            return []
        start_id, stream = start
        lines = []
        for row_id, ts, message in db.execute(
            "SELECT id, timestamp_ms, message FROM log_events"
            " WHERE log_group = ? AND log_stream = ? AND id >= ? ORDER BY id LIMIT 2000",
            (log_group, stream, start_id),
        ):
            lines.append({"id": row_id, "timestamp_ms": ts, "message": message})
            if message.startswith(f"REPORT RequestId: {request_id}"):
                break
        return lines

    def logs(
        self,
        *,
        log_group: str | None = None,
        text: str | None = None,
        after_id: int = 0,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Log events, oldest first: the newest `limit` (or those after `after_id`)."""
        db = self._db()
        if db is None:
            return []
        where = ["id > ?"]
        args: list[Any] = [after_id]
        if log_group:
            where.append("log_group = ?")
            args.append(log_group)
        if text:
            where.append("instr(lower(message), lower(?)) > 0")
            args.append(text)
        order = "ASC" if after_id else "DESC"
        rows = db.execute(
            "SELECT id, log_group, log_stream, timestamp_ms, message FROM log_events"
            f" WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?",
            [*args, limit],
        ).fetchall()
        if order == "DESC":
            rows.reverse()
        return [
            {"id": r[0], "log_group": r[1], "log_stream": r[2], "timestamp_ms": r[3],
             "message": r[4]}
            for r in rows
        ]  # fmt: skip
