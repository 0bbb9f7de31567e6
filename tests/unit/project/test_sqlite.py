"""`project.sqlite`: every database Lambic keeps runs in WAL mode with the policy's
`synchronous` (NORMAL, or FULL with durability="full"), however it was opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lambic.project.metering import Meter
from lambic.project.sqlite import Durability, open_database
from lambic.runtime import logstore


def _modes(conn: sqlite3.Connection) -> tuple[str, int]:
    return (
        conn.execute("PRAGMA journal_mode").fetchone()[0],
        conn.execute("PRAGMA synchronous").fetchone()[0],
    )


@pytest.mark.parametrize(("durability", "synchronous"), [("normal", 1), ("full", 2)])
def test_a_fresh_service_database_is_wal_with_the_policy(
    tmp_path: Path, durability: Durability, synchronous: int
) -> None:
    conn = open_database(tmp_path / "fresh.sqlite3", durability=durability)
    assert _modes(conn) == ("wal", synchronous)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    again = sqlite3.connect(tmp_path / "fresh.sqlite3")
    # WAL is a property of the file: a later plain connection finds it, and the row.
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again.execute("SELECT x FROM t").fetchall() == [(1,)]
    again.close()


def test_the_log_store_and_the_meter_are_wal_normal(tmp_path: Path) -> None:
    conn = logstore.connect(tmp_path / "logs.sqlite3")
    assert _modes(conn) == ("wal", 1)
    conn.close()
    meter = Meter(tmp_path / "usage.sqlite3")
    try:
        assert _modes(meter._connection()) == ("wal", 1)
    finally:
        meter.close()
