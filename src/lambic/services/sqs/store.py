"""SQS's SQLite tables: queues, their messages, and FIFO deduplication records.

Every hot-path statement is a fixed string (sqlite3 caches the prepared statement)
and walks an index: messages by (queue, visible_at, id) for receiving, the primary key
for deleting by receipt handle, (queue, dedup_id) for FIFO deduplication. Times are
integer epoch milliseconds. The engine holds the lock; the store only speaks SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambic.project.sqlite import SQLiteStore
from lambic.services.sqs.model import Queue

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5_body TEXT NOT NULL,
    attributes TEXT,
    md5_attributes TEXT,
    system_attributes TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_at INTEGER,
    receipt TEXT,
    group_id TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue, visible_at, id);
CREATE INDEX IF NOT EXISTS messages_by_age ON messages (queue, sent_at);
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_id)
);
"""

_MESSAGE_COLUMNS = (
    "id, message_id, body, md5_body, attributes, md5_attributes, system_attributes, "
    "sent_at, visible_at, receive_count, first_receive_at, receipt, group_id, expires_at"
)


@dataclass
class StoredMessage:
    row_id: int
    message_id: str
    body: str
    md5_body: str
    attributes: str | None
    md5_attributes: str | None
    system_attributes: dict[str, str]
    sent_at: int
    visible_at: int
    receive_count: int
    first_receive_at: int | None
    receipt: str | None
    group_id: str | None
    expires_at: int


def _message(row: tuple[Any, ...]) -> StoredMessage:
    return StoredMessage(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        json.loads(row[6]),
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
        row[13],
    )


def _queue(row: tuple[Any, ...]) -> Queue:
    return Queue(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4], row[5])


class SqsStore(SQLiteStore):
    """The SQL behind the SQS engine; one connection, used under the engine's lock."""

    SCHEMA = _SCHEMA

    # Queues -------------------------------------------------------------------------

    def load_queues(self) -> list[Queue]:
        rows = self.conn.execute(
            "SELECT name, arn, attributes, tags, created, modified FROM queues"
        ).fetchall()
        return [_queue(row) for row in rows]

    def save_queue(self, queue: Queue) -> None:
        self.conn.execute(
            "INSERT INTO queues (name, arn, attributes, tags, created, modified) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "attributes = excluded.attributes, tags = excluded.tags, modified = excluded.modified",
            (
                queue.name,
                queue.arn,
                json.dumps(queue.attributes),
                json.dumps(queue.tags),
                queue.created,
                queue.modified,
            ),
        )

    def delete_queue(self, name: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM messages WHERE queue = ?", (name,))
            self.conn.execute("DELETE FROM dedup WHERE queue = ?", (name,))
            self.conn.execute("DELETE FROM queues WHERE name = ?", (name,))

    def purge(self, name: str) -> None:
        self.conn.execute("DELETE FROM messages WHERE queue = ?", (name,))

    def next_sequence(self, name: str) -> int:
        row = self.conn.execute(
            "UPDATE queues SET sequence = sequence + 1 WHERE name = ? RETURNING sequence", (name,)
        ).fetchone()
        return int(row[0])

    # Messages -----------------------------------------------------------------------

    def insert_message(
        self,
        queue: str,
        message_id: str,
        body: str,
        md5_body: str,
        attributes: str | None,
        md5_attributes: str | None,
        system_attributes: dict[str, str],
        sent_at: int,
        visible_at: int,
        expires_at: int,
        group_id: str | None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO messages (queue, message_id, body, md5_body, attributes, "
            "md5_attributes, system_attributes, sent_at, visible_at, expires_at, group_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                queue,
                message_id,
                body,
                md5_body,
                attributes,
                md5_attributes,
                json.dumps(system_attributes),
                sent_at,
                visible_at,
                expires_at,
                group_id,
            ),
        )

    def visible_messages(self, queue: str, now: int, limit: int) -> list[StoredMessage]:
        rows = self.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages "
            "WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?",
            (queue, now, limit),
        ).fetchall()
        return [_message(row) for row in rows]

    def fifo_candidates(self, queue: str, now: int, limit: int) -> list[StoredMessage]:
        """Visible messages of groups with nothing in flight, oldest first (FIFO order)."""
        rows = self.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND visible_at <= ? "
            "AND group_id NOT IN (SELECT group_id FROM messages WHERE queue = ? "
            "AND visible_at > ? AND receipt IS NOT NULL) ORDER BY id LIMIT ?",
            (queue, now, queue, now, limit),
        ).fetchall()
        return [_message(row) for row in rows]

    def mark_received(
        self, row_id: int, receipt: str, visible_at: int, first_receive_at: int
    ) -> None:
        self.conn.execute(
            "UPDATE messages SET receipt = ?, visible_at = ?, receive_count = receive_count + 1, "
            "first_receive_at = COALESCE(first_receive_at, ?) WHERE id = ?",
            (receipt, visible_at, first_receive_at, row_id),
        )

    def message_by_row(self, queue: str, row_id: int) -> StoredMessage | None:
        row = self.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ? AND queue = ?", (row_id, queue)
        ).fetchone()
        return _message(row) if row else None

    def delete_message(self, queue: str, row_id: int, receipt: str | None = None) -> None:
        """Delete by row id; with `receipt`, only while that is the latest receipt handle."""
        if receipt is None:
            self.conn.execute("DELETE FROM messages WHERE id = ? AND queue = ?", (row_id, queue))
        else:
            self.conn.execute(
                "DELETE FROM messages WHERE id = ? AND queue = ? AND receipt = ?",
                (row_id, queue, receipt),
            )

    def set_visible_at(self, row_id: int, visible_at: int) -> None:
        self.conn.execute("UPDATE messages SET visible_at = ? WHERE id = ?", (visible_at, row_id))

    def move_message(
        self,
        row_id: int,
        queue: str,
        visible_at: int,
        system_attributes: dict[str, str],
        expires_at: int,
    ) -> None:
        """Move a message to another queue (dead-letter redrive), visible and unreceived."""
        self.conn.execute(
            "UPDATE messages SET queue = ?, visible_at = ?, receipt = NULL, receive_count = 0, "
            "first_receive_at = NULL, system_attributes = ?, expires_at = ? WHERE id = ?",
            (queue, visible_at, json.dumps(system_attributes), expires_at, row_id),
        )

    def all_visible(self, queue: str, now: int) -> list[StoredMessage]:
        """Every visible message of a queue, oldest first (dead-letter redrive)."""
        rows = self.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages "
            "WHERE queue = ? AND visible_at <= ? ORDER BY id",
            (queue, now),
        ).fetchall()
        return [_message(row) for row in rows]

    def expire(self, queue: str, sent_before: int) -> int:
        """Delete messages sent at or before `sent_before` (retention is the queue's
        current period, so changing MessageRetentionPeriod affects queued messages)."""
        cursor = self.conn.execute(
            "DELETE FROM messages WHERE queue = ? AND sent_at <= ?", (queue, sent_before)
        )
        return cursor.rowcount

    def next_visible_at(self, queue: str, now: int) -> int | None:
        row = self.conn.execute(
            "SELECT MIN(visible_at) FROM messages WHERE queue = ? AND visible_at > ?", (queue, now)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def counts(self, queue: str, now: int, sent_after: int) -> tuple[int, int, int]:
        """(visible, in flight, delayed), as the Approximate* attributes report them."""
        row = self.conn.execute(
            "SELECT "
            "COALESCE(SUM(visible_at <= ?), 0), "
            "COALESCE(SUM(visible_at > ? AND receipt IS NOT NULL), 0), "
            "COALESCE(SUM(visible_at > ? AND receipt IS NULL), 0) "
            "FROM messages WHERE queue = ? AND sent_at > ?",
            (now, now, now, queue, sent_after),
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    # FIFO deduplication -------------------------------------------------------------

    def find_duplicate(self, queue: str, dedup_id: str, now: int) -> tuple[str, str | None] | None:
        row = self.conn.execute(
            "SELECT message_id, sequence_number FROM dedup "
            "WHERE queue = ? AND dedup_id = ? AND expires_at > ?",
            (queue, dedup_id, now),
        ).fetchone()
        return (str(row[0]), row[1]) if row else None

    def record_dedup(
        self, queue: str, dedup_id: str, message_id: str, sequence: str, expires_at: int
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO dedup (queue, dedup_id, message_id, sequence_number, "
            "expires_at) VALUES (?, ?, ?, ?, ?)",
            (queue, dedup_id, message_id, sequence, expires_at),
        )
