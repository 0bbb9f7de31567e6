"""The `versions` table: a versioned key's noncurrent versions and its delete markers.

A key's current object stays in `objects` (so GET and ListObjects on a versioned
bucket cost what they cost on any other); every older version, and every delete
marker, is a row here. The invariant the engine keeps, in one transaction per change:
for each key, the version with the highest `seq` is the newest; if it is an object it
is the `objects` row, if it is a delete marker the key has no `objects` row.

Every function takes the connection of the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lambic.services.s3.store import NULL_VERSION, ObjectAttrs, StoredObject

_COLUMNS = "key, blob, size, etag, modified, attrs, version_id, seq, delete_marker"


def _version(bucket: str, row: tuple[Any, ...]) -> StoredObject:
    return StoredObject(
        bucket,
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        ObjectAttrs.from_json(row[5]),
        row[6],
        row[7],
        bool(row[8]),
    )


def archive(conn: sqlite3.Connection, obj: StoredObject) -> None:
    """Keep `obj` (an object or a delete marker) as a noncurrent row."""
    conn.execute(
        "INSERT OR REPLACE INTO versions "
        "(bucket, key, seq, version_id, blob, size, etag, modified, attrs, delete_marker) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            obj.bucket,
            obj.key,
            obj.seq,
            obj.version_id,
            obj.blob,
            obj.size,
            obj.etag,
            obj.modified,
            obj.attrs.to_json(),
            int(obj.delete_marker),
        ),
    )


def newest(conn: sqlite3.Connection, bucket: str, key: str) -> StoredObject | None:
    """The newest row here for `key` (a delete marker when it is the key's latest)."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1",
        (bucket, key),
    ).fetchone()
    return _version(bucket, row) if row else None


def find(conn: sqlite3.Connection, bucket: str, key: str, version_id: str) -> StoredObject | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
        (bucket, key, version_id),
    ).fetchone()
    return _version(bucket, row) if row else None


def remove(conn: sqlite3.Connection, obj: StoredObject) -> None:
    conn.execute(
        "DELETE FROM versions WHERE bucket = ? AND key = ? AND seq = ?",
        (obj.bucket, obj.key, obj.seq),
    )


def seq_of(conn: sqlite3.Connection, bucket: str, key: str, version_id: str) -> int | None:
    """Where version `version_id` of `key` sits in the key's order (for list markers)."""
    stored = None if version_id == NULL_VERSION else version_id
    row = conn.execute(
        "SELECT seq FROM objects WHERE bucket = ? AND key = ? AND version_id IS ?",
        (bucket, key, stored),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT seq FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key, version_id),
        ).fetchone()
    return int(row[0]) if row else None


def scan(
    conn: sqlite3.Connection, bucket: str, key: str, below_seq: int, limit: int
) -> list[StoredObject]:
    """Up to `limit` versions (current objects, noncurrent ones and delete markers) after
    the cursor (`key`, `below_seq`): the rest of `key` below that seq, then every later
    key; in ListObjectVersions' order (key ascending, newest version first)."""
    # Each side is limited in its own index order first, so a page costs the same
    # wherever it is in the bucket (no sort of everything after the cursor).
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM ("
        "SELECT * FROM (SELECT key, blob, size, etag, modified, attrs, "
        "coalesce(version_id, 'null') AS version_id, seq, 0 AS delete_marker FROM objects "
        "WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND seq < ?3)) ORDER BY key LIMIT ?4) "
        "UNION ALL SELECT * FROM (SELECT key, blob, size, etag, modified, attrs, version_id, "
        "seq, delete_marker FROM versions "
        "WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND seq < ?3)) "
        "ORDER BY key, seq DESC LIMIT ?4)"
        ") ORDER BY key, seq DESC LIMIT ?4",
        (bucket, key, below_seq, limit),
    ).fetchall()
    return [_version(bucket, row) for row in rows]
