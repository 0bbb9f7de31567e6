"""Reading a log store's database as tests check it: every stored message, in order; and
making a store busy, so that it starts its writer process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lambic.runtime.logstore import BUSY_ROWS, LogEvent, LogStore

__all__ = ["make_busy", "stored_messages"]

BUSY_GROUP, BUSY_STREAM = "/aws/lambda/busy-dev-load", "2026/01/01/[$LATEST]busy"


def make_busy(store: LogStore) -> None:
    """Hand `store` one batch big enough to start its writer process (`BUSY_ROWS`) and
    wait until it is committed: from then on the writer commits every batch."""
    for index in range(BUSY_ROWS):
        store.append(LogEvent(BUSY_GROUP, BUSY_STREAM, index, f"busy {index}"))
    store.flush()


def stored_messages(db: Path) -> list[str]:
    """Every log event's message in `db` (a `logs.sqlite3`), in the order stored."""
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT message FROM log_events ORDER BY id")]
    finally:
        conn.close()
