"""SNS's SQLite tables: topics, subscriptions and FIFO deduplication records.

Topics and subscriptions are few and read on every publish, so the engine keeps them
in memory and writes through; this module is the write-through and the reload.
"""

from __future__ import annotations

import json
from typing import Any

from lambic.project.sqlite import SQLiteStore
from lambic.services.sns.model import Subscription, Topic

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS subscriptions (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    owner TEXT NOT NULL,
    attributes TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic_arn, created);
CREATE TABLE IF NOT EXISTS dedup (
    topic_arn TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (topic_arn, dedup_id)
);
"""


class SnsStore(SQLiteStore):
    """The SQL behind the SNS engine; one connection, used under the engine's lock."""

    SCHEMA = _SCHEMA

    def load_topics(self) -> list[Topic]:
        rows = self.conn.execute("SELECT arn, name, attributes, tags FROM topics").fetchall()
        return [Topic(r[0], r[1], json.loads(r[2]), json.loads(r[3])) for r in rows]

    def load_subscriptions(self) -> list[Subscription]:
        rows = self.conn.execute(
            "SELECT arn, topic_arn, protocol, endpoint, owner, attributes, confirmed, token "
            "FROM subscriptions ORDER BY created, rowid"
        ).fetchall()
        return [_subscription(row) for row in rows]

    def save_topic(self, topic: Topic) -> None:
        self.conn.execute(
            "INSERT INTO topics (arn, name, attributes, tags) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(arn) DO UPDATE SET attributes = excluded.attributes, "
            "tags = excluded.tags",
            (topic.arn, topic.name, json.dumps(topic.attributes), json.dumps(topic.tags)),
        )

    def delete_topic(self, arn: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM subscriptions WHERE topic_arn = ?", (arn,))
            self.conn.execute("DELETE FROM dedup WHERE topic_arn = ?", (arn,))
            self.conn.execute("DELETE FROM topics WHERE arn = ?", (arn,))

    def save_subscription(self, subscription: Subscription, created: int) -> None:
        self.conn.execute(
            "INSERT INTO subscriptions (arn, topic_arn, protocol, endpoint, owner, attributes, "
            "confirmed, token, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(arn) DO UPDATE SET attributes = excluded.attributes, "
            "confirmed = excluded.confirmed",
            (
                subscription.arn,
                subscription.topic_arn,
                subscription.protocol,
                subscription.endpoint,
                subscription.owner,
                json.dumps(subscription.attributes),
                int(subscription.confirmed),
                subscription.token,
                created,
            ),
        )

    def delete_subscription(self, arn: str) -> None:
        self.conn.execute("DELETE FROM subscriptions WHERE arn = ?", (arn,))

    def next_sequence(self, topic_arn: str) -> int:
        row = self.conn.execute(
            "UPDATE topics SET sequence = sequence + 1 WHERE arn = ? RETURNING sequence",
            (topic_arn,),
        ).fetchone()
        return int(row[0])

    def find_duplicate(self, topic_arn: str, dedup_id: str, now: int) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT message_id, sequence_number FROM dedup "
            "WHERE topic_arn = ? AND dedup_id = ? AND expires_at > ?",
            (topic_arn, dedup_id, now),
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def record_dedup(
        self, topic_arn: str, dedup_id: str, message_id: str, sequence: str, expires_at: int
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO dedup (topic_arn, dedup_id, message_id, sequence_number, "
            "expires_at) VALUES (?, ?, ?, ?, ?)",
            (topic_arn, dedup_id, message_id, sequence, expires_at),
        )


def _subscription(row: tuple[Any, ...]) -> Subscription:
    return Subscription(
        row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), bool(row[6]), row[7]
    )
