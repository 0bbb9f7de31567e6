"""What every service's SQLite store shares: its schema, its connection, its transactions.

A store holds the SQL of one service and no AWS semantics; the engine calls it under
its own lock. `transaction()` is for changes of more than one statement: the
connection is in autocommit mode (`lambic.services.sqlite.open_database`), so without
it each statement would commit on its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

__all__ = ["SQLiteStore"]


class SQLiteStore:
    """One connection with the subclass's `SCHEMA` applied (idempotently) at construction."""

    SCHEMA: ClassVar[str] = ""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.executescript(self.SCHEMA)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """`BEGIN IMMEDIATE` … `COMMIT`; any exception, even KeyboardInterrupt, rolls back."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
