"""SQLite persistence for DynamoDB tables, items, secondary-index entries and stream logs.

Layout (one database file, `dynamodb.sqlite3`):

- `tables`: one row per table, its definition as JSON.
- `items`: primary key (tid, hh, hk, rk). `hk`/`rk` are the order-preserving key
  encodings from `types.encode_key_value`; `hh` is a 32-bit hash of `hk`, so a Scan
  walks partitions in hash order as DynamoDB does and `Segment`/`TotalSegments` are
  ranges of `hh`. A Query is a seek on (tid, hh, hk) and a walk along `rk`.
- `index_entries`: one row per item per secondary index, keyed by the index's own
  (hash, range) encodings then the table key, joined back to `items`.
- `streams` / `stream_records`: the durable per-table change log behind DynamoDB Streams.

Every multi-statement change runs inside `transaction()` (BEGIN IMMEDIATE), so an
acknowledged write and its index entries and stream record commit together.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

from lambic.project.sqlite import SQLiteStore
from lambic.services.dynamodb.tables import TableDefinition

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tables (
    name TEXT PRIMARY KEY,
    tid INTEGER NOT NULL UNIQUE,
    definition TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    tid INTEGER NOT NULL,
    hh INTEGER NOT NULL,
    hk BLOB NOT NULL,
    rk BLOB NOT NULL,
    size INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tid, hh, hk, rk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_entries (
    tid INTEGER NOT NULL,
    iname TEXT NOT NULL,
    ihh INTEGER NOT NULL,
    ihk BLOB NOT NULL,
    irk BLOB NOT NULL,
    hh INTEGER NOT NULL,
    hk BLOB NOT NULL,
    rk BLOB NOT NULL,
    PRIMARY KEY (tid, iname, ihh, ihk, irk, hk, rk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams (
    arn TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    label TEXT NOT NULL,
    view_type TEXT NOT NULL,
    key_schema TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stream_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stream_records_by_arn ON stream_records (arn, seq);
"""

Row = tuple[Any, ...]


def partition_hash(hk: bytes) -> int:
    """The 32-bit hash that orders partitions for Scan and splits Scan segments."""
    return zlib.crc32(hk)


class DynamoDBStore(SQLiteStore):
    """All SQL the DynamoDB engine runs; no DynamoDB semantics live here."""

    SCHEMA = _SCHEMA

    # ---- tables -----------------------------------------------------------------------

    def load_tables(self) -> list[tuple[int, TableDefinition]]:
        rows = self.conn.execute("SELECT tid, definition FROM tables ORDER BY name").fetchall()
        return [(tid, TableDefinition.from_json(json.loads(doc))) for tid, doc in rows]

    def insert_table(self, table: TableDefinition) -> int:
        row = self.conn.execute("SELECT COALESCE(MAX(tid), 0) + 1 FROM tables").fetchone()
        tid = int(row[0])
        self.conn.execute(
            "INSERT INTO tables (name, tid, definition) VALUES (?, ?, ?)",
            (table.name, tid, json.dumps(table.to_json())),
        )
        return tid

    def save_table(self, table: TableDefinition) -> None:
        self.conn.execute(
            "UPDATE tables SET definition = ? WHERE name = ?",
            (json.dumps(table.to_json()), table.name),
        )

    def delete_table(self, tid: int, name: str) -> None:
        self.conn.execute("DELETE FROM tables WHERE tid = ?", (tid,))
        self.conn.execute("DELETE FROM items WHERE tid = ?", (tid,))
        self.conn.execute("DELETE FROM index_entries WHERE tid = ?", (tid,))

    def table_stats(self, tid: int) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE tid = ?", (tid,)
        ).fetchone()
        return int(row[0]), int(row[1])

    def index_stats(self, tid: int, iname: str) -> int:
        row = self.conn.execute(
            "SELECT COUNT(*) FROM index_entries WHERE tid = ? AND iname = ?", (tid, iname)
        ).fetchone()
        return int(row[0])

    # ---- items ------------------------------------------------------------------------

    def get_item(self, tid: int, hk: bytes, rk: bytes) -> str | None:
        row = self.conn.execute(
            "SELECT doc FROM items WHERE tid = ? AND hh = ? AND hk = ? AND rk = ?",
            (tid, partition_hash(hk), hk, rk),
        ).fetchone()
        return None if row is None else str(row[0])

    def get_item_sized(self, tid: int, hk: bytes, rk: bytes) -> tuple[str, int] | None:
        """The item's document and the size stored with it (DynamoDB's measure)."""
        row = self.conn.execute(
            "SELECT doc, size FROM items WHERE tid = ? AND hh = ? AND hk = ? AND rk = ?",
            (tid, partition_hash(hk), hk, rk),
        ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def put_item(self, tid: int, hk: bytes, rk: bytes, size: int, doc: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO items (tid, hh, hk, rk, size, doc) VALUES (?, ?, ?, ?, ?, ?)",
            (tid, partition_hash(hk), hk, rk, size, doc),
        )

    def delete_item(self, tid: int, hk: bytes, rk: bytes) -> None:
        self.conn.execute(
            "DELETE FROM items WHERE tid = ? AND hh = ? AND hk = ? AND rk = ?",
            (tid, partition_hash(hk), hk, rk),
        )

    def iter_table(self, tid: int) -> Iterator[Row]:
        """(hk, rk, doc) of every item, for backfilling a new index."""
        yield from self.conn.execute("SELECT hk, rk, doc FROM items WHERE tid = ?", (tid,))

    def query_partition(
        self, tid: int, hk: bytes, where: str, params: tuple[Any, ...], forward: bool, limit: int
    ) -> list[Row]:
        """(hk, rk, size, doc) of one partition in range-key order; `where` constrains `rk`."""
        order = "ASC" if forward else "DESC"
        sql = (
            "SELECT hk, rk, size, doc FROM items WHERE tid = ? AND hh = ? AND hk = ?"
            f"{where} ORDER BY rk {order} LIMIT ?"
        )
        return self.conn.execute(sql, (tid, partition_hash(hk), hk, *params, limit)).fetchall()

    def query_index(
        self,
        tid: int,
        iname: str,
        ihk: bytes,
        where: str,
        params: tuple[Any, ...],
        forward: bool,
        limit: int,
    ) -> list[Row]:
        """(irk, hk, rk, size, doc) of one index partition in index order."""
        order = "ASC" if forward else "DESC"
        sql = (
            "SELECT e.irk, e.hk, e.rk, i.size, i.doc FROM index_entries e JOIN items i "
            "ON i.tid = e.tid AND i.hh = e.hh AND i.hk = e.hk AND i.rk = e.rk "
            "WHERE e.tid = ? AND e.iname = ? AND e.ihh = ? AND e.ihk = ?"
            f"{where} ORDER BY e.irk {order}, e.hk {order}, e.rk {order} LIMIT ?"
        )
        return self.conn.execute(
            sql, (tid, iname, partition_hash(ihk), ihk, *params, limit)
        ).fetchall()

    def scan(
        self, tid: int, low: int, high: int, start: tuple[int, bytes, bytes] | None, limit: int
    ) -> list[Row]:
        """(hh, hk, rk, size, doc) in hash order for hh in [low, high), after `start`."""
        if start is None:
            return self.conn.execute(
                "SELECT hh, hk, rk, size, doc FROM items WHERE tid = ? AND hh >= ? AND hh < ? "
                "ORDER BY hh, hk, rk LIMIT ?",
                (tid, low, high, limit),
            ).fetchall()
        return self.conn.execute(
            "SELECT hh, hk, rk, size, doc FROM items WHERE tid = ? AND hh < ? "
            "AND (hh, hk, rk) > (?, ?, ?) AND hh >= ? ORDER BY hh, hk, rk LIMIT ?",
            (tid, high, *start, low, limit),
        ).fetchall()

    def scan_index(
        self,
        tid: int,
        iname: str,
        low: int,
        high: int,
        start: tuple[int, bytes, bytes, bytes, bytes] | None,
        limit: int,
    ) -> list[Row]:
        """(ihh, ihk, irk, hk, rk, size, doc) of an index in hash order."""
        base = (
            "SELECT e.ihh, e.ihk, e.irk, e.hk, e.rk, i.size, i.doc FROM index_entries e "
            "JOIN items i ON i.tid = e.tid AND i.hh = e.hh AND i.hk = e.hk AND i.rk = e.rk "
            "WHERE e.tid = ? AND e.iname = ? AND e.ihh >= ? AND e.ihh < ?"
        )
        order = " ORDER BY e.ihh, e.ihk, e.irk, e.hk, e.rk LIMIT ?"
        if start is None:
            return self.conn.execute(base + order, (tid, iname, low, high, limit)).fetchall()
        return self.conn.execute(
            base + " AND (e.ihh, e.ihk, e.irk, e.hk, e.rk) > (?, ?, ?, ?, ?)" + order,
            (tid, iname, low, high, *start, limit),
        ).fetchall()

    # ---- secondary index entries -------------------------------------------------------

    def put_index_entry(
        self, tid: int, iname: str, ihk: bytes, irk: bytes, hk: bytes, rk: bytes
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO index_entries (tid, iname, ihh, ihk, irk, hh, hk, rk) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (tid, iname, partition_hash(ihk), ihk, irk, partition_hash(hk), hk, rk),
        )

    def delete_index_entry(
        self, tid: int, iname: str, ihk: bytes, irk: bytes, hk: bytes, rk: bytes
    ) -> None:
        self.conn.execute(
            "DELETE FROM index_entries WHERE tid = ? AND iname = ? AND ihh = ? AND ihk = ? "
            "AND irk = ? AND hk = ? AND rk = ?",
            (tid, iname, partition_hash(ihk), ihk, irk, hk, rk),
        )

    def drop_index(self, tid: int, iname: str) -> None:
        self.conn.execute("DELETE FROM index_entries WHERE tid = ? AND iname = ?", (tid, iname))

    # ---- streams ----------------------------------------------------------------------

    def insert_stream(
        self, arn: str, table: str, label: str, view_type: str, key_schema: str, created: float
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO streams "
            "(arn, table_name, label, view_type, key_schema, status, created) "
            "VALUES (?, ?, ?, ?, ?, 'ENABLED', ?)",
            (arn, table, label, view_type, key_schema, created),
        )

    def disable_stream(self, arn: str) -> None:
        self.conn.execute("UPDATE streams SET status = 'DISABLED' WHERE arn = ?", (arn,))

    def list_streams(self) -> list[Row]:
        """(arn, table_name, label, view_type, key_schema, status, created) by ARN."""
        return self.conn.execute(
            "SELECT arn, table_name, label, view_type, key_schema, status, created "
            "FROM streams ORDER BY arn"
        ).fetchall()

    def get_stream(self, arn: str) -> Row | None:
        row: Row | None = self.conn.execute(
            "SELECT arn, table_name, label, view_type, key_schema, status, created "
            "FROM streams WHERE arn = ?",
            (arn,),
        ).fetchone()
        return row

    def append_record(self, arn: str, record: str) -> int:
        cursor = self.conn.execute(
            "INSERT INTO stream_records (arn, record) VALUES (?, ?)", (arn, record)
        )
        return int(cursor.lastrowid or 0)

    def read_records(self, arn: str, after: int, limit: int) -> list[tuple[int, str]]:
        rows = self.conn.execute(
            "SELECT seq, record FROM stream_records WHERE arn = ? AND seq > ? ORDER BY seq LIMIT ?",
            (arn, after, limit),
        ).fetchall()
        return [(int(seq), str(record)) for seq, record in rows]

    def record_bounds(self, arn: str) -> tuple[int | None, int | None]:
        row = self.conn.execute(
            "SELECT MIN(seq), MAX(seq) FROM stream_records WHERE arn = ?", (arn,)
        ).fetchone()
        return row[0], row[1]
