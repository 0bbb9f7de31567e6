"""SQLite persistence for Kinesis: streams, their shards and the record log.

Layout (one database file, `kinesis.sqlite3`, opened by `project.sqlite.open_database`:
WAL, so an acknowledged PutRecord survives `kill -9`):

- `streams`: one row per stream; `sid` is never reused, so a re-created stream shares
  nothing with the one deleted under its name.
- `shards`: one row per shard ever created (open or closed), hash key range as decimal
  text (128-bit numbers exceed SQLite's integers), lineage and when it opened/closed.
- `records`: the log. `pos` (AUTOINCREMENT: never reused, even after deletes) orders
  every record ever put; a record's sequence number is built from its shard and `pos`.

Every change of more than one statement runs in `transaction()`; this module holds SQL
only, the engine holds the semantics and calls it under its lock.
"""

from __future__ import annotations

from typing import Any

from lambic.project.sqlite import SQLiteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    sid INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL,
    retention_hours INTEGER NOT NULL,
    created REAL NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS shards (
    sid INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    start_hash TEXT NOT NULL,
    end_hash TEXT NOT NULL,
    parent INTEGER,
    adjacent_parent INTEGER,
    start_pos INTEGER NOT NULL,
    end_pos INTEGER,
    opened REAL NOT NULL,
    closed REAL,
    PRIMARY KEY (sid, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    sid INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL,
    arrival REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_shard ON records (sid, shard, pos);
"""

Row = tuple[Any, ...]
#: The columns of a stream row, in `StreamRow` order.
_STREAM_COLUMNS = "sid, name, mode, retention_hours, created, tags"
#: The columns of a shard row.
_SHARD_COLUMNS = (
    "idx, start_hash, end_hash, parent, adjacent_parent, start_pos, end_pos, opened, closed"
)


class KinesisStore(SQLiteStore):
    """All SQL the Kinesis engine runs; no Kinesis semantics live here."""

    SCHEMA = _SCHEMA

    # ---- streams ----------------------------------------------------------------------

    def insert_stream(self, name: str, mode: str, retention_hours: int, created: float) -> int:
        cursor = self.conn.execute(
            "INSERT INTO streams (name, mode, retention_hours, created) VALUES (?, ?, ?, ?)",
            (name, mode, retention_hours, created),
        )
        return int(cursor.lastrowid or 0)

    def get_stream(self, name: str) -> Row | None:
        row: Row | None = self.conn.execute(
            f"SELECT {_STREAM_COLUMNS} FROM streams WHERE name = ?", (name,)
        ).fetchone()
        return row

    def list_streams(self, after: str, limit: int) -> list[Row]:
        return self.conn.execute(
            f"SELECT {_STREAM_COLUMNS} FROM streams WHERE name > ? ORDER BY name LIMIT ?",
            (after, limit),
        ).fetchall()

    def open_shard_count(self) -> int:
        """Open shards over every stream (AWS's shard quota is per account)."""
        row = self.conn.execute("SELECT COUNT(*) FROM shards WHERE closed IS NULL").fetchone()
        return int(row[0])

    def delete_stream(self, sid: int) -> None:
        self.conn.execute("DELETE FROM streams WHERE sid = ?", (sid,))
        self.conn.execute("DELETE FROM shards WHERE sid = ?", (sid,))
        self.conn.execute("DELETE FROM records WHERE sid = ?", (sid,))

    def set_retention(self, sid: int, hours: int) -> None:
        self.conn.execute("UPDATE streams SET retention_hours = ? WHERE sid = ?", (hours, sid))

    def set_tags(self, sid: int, tags: str) -> None:
        self.conn.execute("UPDATE streams SET tags = ? WHERE sid = ?", (tags, sid))

    # ---- shards -----------------------------------------------------------------------

    def shards(self, sid: int) -> list[Row]:
        """Every shard of the stream, open and closed, in creation order."""
        return self.conn.execute(
            f"SELECT {_SHARD_COLUMNS} FROM shards WHERE sid = ? ORDER BY idx", (sid,)
        ).fetchall()

    def insert_shard(
        self,
        sid: int,
        idx: int,
        hash_range: tuple[int, int],
        parents: tuple[int | None, int | None],
        start_pos: int,
        opened: float,
    ) -> None:
        self.conn.execute(
            "INSERT INTO shards (sid, idx, start_hash, end_hash, parent, adjacent_parent, "
            "start_pos, opened) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, idx, str(hash_range[0]), str(hash_range[1]), *parents, start_pos, opened),
        )

    def close_shard(self, sid: int, idx: int, end_pos: int, closed: float) -> None:
        self.conn.execute(
            "UPDATE shards SET end_pos = ?, closed = ? WHERE sid = ? AND idx = ?",
            (end_pos, closed, sid, idx),
        )

    # ---- records ----------------------------------------------------------------------

    def append(self, sid: int, shard: int, partition_key: str, data: bytes, arrival: float) -> int:
        """Append one record; its log position."""
        cursor = self.conn.execute(
            "INSERT INTO records (sid, shard, partition_key, data, arrival) VALUES (?, ?, ?, ?, ?)",
            (sid, shard, partition_key, data, arrival),
        )
        return int(cursor.lastrowid or 0)

    def read(self, sid: int, shard: int, after: int, since: float, limit: int) -> list[Row]:
        """(pos, partition_key, data, arrival) after `after`, arrived at or after `since`."""
        return self.conn.execute(
            "SELECT pos, partition_key, data, arrival FROM records WHERE sid = ? AND shard = ? "
            "AND pos > ? AND arrival >= ? ORDER BY pos LIMIT ?",
            (sid, shard, after, since, limit),
        ).fetchall()

    def last_position(self, sid: int, shard: int) -> int | None:
        """The log position of the shard's newest record, None when it has none."""
        row = self.conn.execute(
            "SELECT MAX(pos) FROM records WHERE sid = ? AND shard = ?", (sid, shard)
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def log_position(self) -> int:
        """The newest log position handed out by any stream (0 before the first)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
        return 0 if row is None else int(row[0])

    def first_at(self, sid: int, shard: int, after: int, arrival: float) -> int | None:
        """The position of the shard's first record after `after` arrived at or after
        `arrival`."""
        row = self.conn.execute(
            "SELECT MIN(pos) FROM records WHERE sid = ? AND shard = ? AND pos > ? AND arrival >= ?",
            (sid, shard, after, arrival),
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def trim(self, sid: int, before: float) -> None:
        """Drop the stream's records older than its retention period."""
        self.conn.execute("DELETE FROM records WHERE sid = ? AND arrival < ?", (sid, before))

    def stored_bytes(self) -> int:
        row = self.conn.execute(
            "SELECT COALESCE(SUM(LENGTH(data) + LENGTH(partition_key)), 0) FROM records"
        ).fetchone()
        return int(row[0])
