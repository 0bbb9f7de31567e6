"""Opening the SQLite databases the services keep their state in.

Durability policy (documented for users in the README): every service database runs
in WAL mode with `synchronous=NORMAL`. A write is acknowledged to the client only
after its transaction has committed, and a committed WAL transaction is in the
operating system's page cache, so it survives `kill -9` of the Lambic process. It is
not fsynced per commit, so a power cut or kernel crash may lose the last moments of
writes; `durability="full"` (`synchronous=FULL`, an fsync per commit) closes that gap
at a cost in throughput. The database itself never corrupts either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Literal

__all__ = ["Durability", "SQLiteStore", "open_database", "use_wal"]

Durability = Literal["normal", "full"]


def use_wal(conn: sqlite3.Connection, durability: Durability = "normal") -> None:
    """Put a freshly opened connection in WAL mode with the policy's `synchronous`.

    `synchronous` first: switching a new, empty database to WAL writes its header
    through a rollback journal, and under the default FULL that switch takes one
    fdatasync more (4 instead of 3; up to 7 fresh databases are created on a first
    `lambic local`). The journal is still synced before the database is written, so
    the switch stays crash-safe, and every write after it runs under the same WAL
    setting as before: acknowledged writes are exactly as durable.
    """
    conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
    conn.execute("PRAGMA journal_mode=WAL")


def open_database(path: Path | None, *, durability: Durability = "normal") -> sqlite3.Connection:
    """Open (creating if needed) a service database; `None` gives a private in-memory one.

    The connection is in autocommit mode (`isolation_level=None`): engines open their
    own `BEGIN IMMEDIATE` transactions so a multi-statement change is atomic.
    `check_same_thread=False` because the edge's event loop thread owns it but may be
    created on another thread; engines serialise access themselves.
    """
    if path is None:
        target = ":memory:"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path)
    conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    use_wal(conn, durability)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


class SQLiteStore:
    """What a store of SQL shares: one connection from `open_database` with the
    subclass's `SCHEMA` applied (idempotently) at construction, and transactions.

    A store holds the SQL of one service or runtime table and no AWS semantics; its
    owner calls it under its own lock. `transaction()` is for changes of more than one
    statement: the connection is in autocommit mode, so without it each statement
    would commit on its own.
    """

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
