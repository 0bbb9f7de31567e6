"""S3 versioning: where a write, a delete or a version delete leaves a key's versions.

A bucket is unversioned (never configured), `Enabled` or `Suspended`; it never goes
back to unversioned. AWS's rules, mirrored here:

- unversioned: a write replaces the object (its version id is "null");
- Enabled: a write gets a new version id and the previous current version becomes
  noncurrent; a DELETE without a version id adds a delete marker (a new version with
  no bytes) and removes nothing;
- Suspended: a write, or a DELETE's delete marker, becomes the "null" version,
  replacing whatever "null" version the key had; other versions stay;
- DELETE with a version id removes that version for good; when it was the newest,
  the next newest becomes current (if it is an object, GET serves it again).

Each function runs inside the caller's transaction and returns the blob ids that no
row points at any more, for the caller to remove after the commit (bytes first,
metadata second, unlinking last: a crash never leaves a row without its bytes).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace

from lambic.services.s3 import _versions
from lambic.services.s3.store import NULL_VERSION, Bucket, ObjectAttrs, S3Store, StoredObject

ENABLED = "Enabled"
SUSPENDED = "Suspended"


def new_version_id() -> str:
    """An opaque 32-character id, URL-safe like AWS's."""
    return secrets.token_urlsafe(24)


def _next_seq(previous: StoredObject | None) -> int:
    now = time.time_ns()
    return max(now, previous.seq + 1) if previous is not None else now


def _newest(store: S3Store, conn: sqlite3.Connection, bucket: str, key: str) -> StoredObject | None:
    return store.current(conn, bucket, key) or _versions.newest(conn, bucket, key)


def _drop_null(conn: sqlite3.Connection, bucket: str, key: str) -> list[str]:
    """Remove the key's noncurrent "null" version (Suspended writes replace it)."""
    old = _versions.find(conn, bucket, key, NULL_VERSION)
    if old is None:
        return []
    _versions.remove(conn, old)
    return [] if old.delete_marker else [old.blob]


def place_object(
    store: S3Store, conn: sqlite3.Connection, bucket: Bucket, obj: StoredObject
) -> tuple[StoredObject, list[str]]:
    """Make `obj` the key's current version; returns it (with its version id) and the
    blobs to remove."""
    if bucket.versioning is None:
        # The only version there is: its seq (0) only has to be below any later one.
        replaced = store.put_object(conn, obj)
        return obj, [replaced] if replaced else []
    current = store.current(conn, obj.bucket, obj.key)
    newest = current or _versions.newest(conn, obj.bucket, obj.key)
    discards: list[str] = []
    if bucket.versioning == ENABLED:
        placed = replace(obj, version_id=new_version_id(), seq=_next_seq(newest))
    else:
        placed = replace(obj, version_id=NULL_VERSION, seq=_next_seq(newest))
        discards += _drop_null(conn, obj.bucket, obj.key)
    if current is not None:
        if current.version_id == NULL_VERSION and placed.version_id == NULL_VERSION:
            discards.append(current.blob)
        else:
            _versions.archive(conn, current)
    store.put_object(conn, placed)
    return placed, discards


def place_delete_marker(
    store: S3Store, conn: sqlite3.Connection, bucket: Bucket, key: str, modified: float
) -> tuple[StoredObject, list[str]]:
    """DELETE without a version id on a versioned bucket: a delete marker becomes the
    key's newest version (even when the key has no versions at all, as AWS)."""
    current = store.current(conn, bucket.name, key)
    newest = current or _versions.newest(conn, bucket.name, key)
    version_id = new_version_id() if bucket.versioning == ENABLED else NULL_VERSION
    marker = StoredObject(
        bucket.name, key, "", 0, "", modified, ObjectAttrs(), version_id, _next_seq(newest), True
    )
    discards: list[str] = []
    if version_id == NULL_VERSION:
        discards += _drop_null(conn, bucket.name, key)
    if current is not None:
        conn.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket.name, key))
        if current.version_id == NULL_VERSION and version_id == NULL_VERSION:
            discards.append(current.blob)
        else:
            _versions.archive(conn, current)
    _versions.archive(conn, marker)
    return marker, discards


def find_version(
    store: S3Store, conn: sqlite3.Connection, bucket: str, key: str, version_id: str
) -> StoredObject | None:
    current = store.current(conn, bucket, key)
    if current is not None and current.version_id == version_id:
        return current
    return _versions.find(conn, bucket, key, version_id)


def is_latest(store: S3Store, conn: sqlite3.Connection, version: StoredObject) -> bool:
    newest = _newest(store, conn, version.bucket, version.key)
    return newest is not None and newest.seq == version.seq


def delete_version(
    store: S3Store,
    conn: sqlite3.Connection,
    bucket: str,
    key: str,
    version_id: str,
    check: Callable[[StoredObject], None],
) -> tuple[StoredObject | None, list[str]]:
    """Remove one version for good (`check` may refuse: object lock); the next newest
    becomes current. Returns the removed version (None when there was none)."""
    current = store.current(conn, bucket, key)
    if current is not None and current.version_id == version_id:
        target = current
    else:
        found = _versions.find(conn, bucket, key, version_id)
        if found is None:
            return None, []
        target = found
    check(target)
    if target is current:
        conn.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
    else:
        _versions.remove(conn, target)
    if store.current(conn, bucket, key) is None:
        # The newest remaining version becomes current when it is an object.
        promoted = _versions.newest(conn, bucket, key)
        if promoted is not None and not promoted.delete_marker:
            _versions.remove(conn, promoted)
            store.put_object(conn, promoted)
    return target, [] if target.delete_marker else [target.blob]
