"""Reading a log store's database as tests check it: every stored message, in order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["stored_messages"]


def stored_messages(db: Path) -> list[str]:
    """Every log event's message in `db` (a `logs.sqlite3`), in the order stored."""
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT message FROM log_events ORDER BY id")]
    finally:
        conn.close()
