"""S3 metadata in SQLite: buckets, objects, multipart uploads and their parts.

Object bytes live in a `BlobStore` (see `_blobs.py`); rows here point at blob ids.
Every lookup the hot paths make is a primary-key or index seek: listing a page of a
bucket with 100,000 keys costs the same on the last page as on the first because it
seeks `key > marker` on the `(bucket, key)` primary key instead of counting an offset.
Callers serialise through `lock` (the edge runs on one thread; in-process users such
as the runtime's event sources may call from others).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created REAL NOT NULL,
    notification TEXT,
    cors TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    attrs TEXT NOT NULL,
    checksum_alg TEXT,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    initiated REAL NOT NULL,
    attrs TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, initiated);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    checksum TEXT,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    version_id TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    attrs TEXT NOT NULL,
    delete_marker INTEGER NOT NULL,
    PRIMARY KEY (bucket, key, seq DESC)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bucket_settings (
    bucket TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
) WITHOUT ROWID;
"""

# Columns added after the first release, with their declarations: an existing state
# directory gets them on open.
_ADDED_COLUMNS = {
    "objects": (
        ("checksum_alg", "TEXT"),
        ("version_id", "TEXT"),
        ("seq", "INTEGER NOT NULL DEFAULT 0"),
    ),
    "buckets": (
        ("cors", "TEXT"),
        ("versioning", "TEXT"),
        ("object_lock", "INTEGER NOT NULL DEFAULT 0"),
        # The creator's canonical user id; NULL: the default account (every bucket
        # made before identities existed, kept as it was).
        ("owner", "TEXT"),
    ),
}

NULL_VERSION = "null"


def _move_policies(conn: sqlite3.Connection) -> None:
    """Bucket policies once lived in a `buckets.policy` column; they are bucket
    settings now (with encryption, lifecycle, ...). Moved over once, in one
    transaction, and the column dropped."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(buckets)")}
    if "policy" not in columns:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT OR IGNORE INTO bucket_settings (bucket, name, document) "
            "SELECT name, 'policy', policy FROM buckets WHERE policy IS NOT NULL"
        )
        conn.execute("ALTER TABLE buckets DROP COLUMN policy")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str
    created: float
    # None until PutBucketVersioning: then "Enabled" or "Suspended" (never back to None).
    versioning: str | None = None
    object_lock: bool = False
    # The owner's canonical user id (None: the default account).
    owner: str | None = None


@dataclass(frozen=True)
class ObjectAttrs:
    """What an object carries besides its bytes.

    `headers`: stored system headers (Content-Type, Cache-Control, ...) as AWS returns
    them; `metadata`: user metadata, names lower-cased without `x-amz-meta-`;
    `checksums`: algorithm ("CRC32", "SHA256", ...) → base64 value; `parts`: part
    count for a multipart object, else 0; `tags`: the object's tag set; `part_sizes`:
    each part's size for a multipart object (GetObject `partNumber`); `lock`: object
    lock state ("mode", "until" as ISO 8601, "hold": "ON"/"OFF"); `acl`: the object's
    access control policy as JSON (None: the owner's FULL_CONTROL); `sse`: what the
    object was encrypted with besides stored headers (SSE-C's algorithm and the salted
    digest of its key, never the key); `checksum_type`: "COMPOSITE" for a multipart
    object's composite checksum ("" is FULL_OBJECT), and for an upload the type it was
    created with, whose `checksums` then holds the requested algorithm with an empty
    value; `part_checksums`: each part's checksum value, in part order; `upload_id`: the
    multipart upload that made the object (a repeated CompleteMultipartUpload answers
    it again, as AWS does); `owner`: the owner's canonical user id (for an upload, its
    initiator's), None for the default account.
    """

    headers: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    parts: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    part_sizes: tuple[int, ...] = ()
    lock: dict[str, str] = field(default_factory=dict)
    acl: str | None = None
    sse: dict[str, str] = field(default_factory=dict)
    checksum_type: str = ""
    part_checksums: tuple[str, ...] = ()
    upload_id: str = ""
    owner: str | None = None

    def to_json(self) -> str:
        raw: dict[str, Any] = {
            "h": self.headers,
            "m": self.metadata,
            "c": self.checksums,
            "p": self.parts,
        }
        if self.tags:
            raw["t"] = self.tags
        if self.part_sizes:
            raw["s"] = self.part_sizes
        if self.lock:
            raw["l"] = self.lock
        if self.acl is not None:
            raw["a"] = self.acl
        if self.sse:
            raw["e"] = self.sse
        if self.checksum_type:
            raw["ct"] = self.checksum_type
        if self.part_checksums:
            raw["pc"] = self.part_checksums
        if self.upload_id:
            raw["u"] = self.upload_id
        if self.owner is not None:
            raw["o"] = self.owner
        return json.dumps(raw, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ObjectAttrs:
        raw: dict[str, Any] = json.loads(text)
        attrs = cls(
            raw["h"], raw["m"], raw["c"], raw.get("p", 0), raw.get("t", {}), tuple(raw.get("s", ()))
        )
        if len(raw) == 4 + ("t" in raw) + ("s" in raw):
            return attrs  # the common object: none of the attributes below
        return replace(
            attrs,
            lock=raw.get("l", {}),
            acl=raw.get("a"),
            sse=raw.get("e", {}),
            checksum_type=raw.get("ct", ""),
            part_checksums=tuple(raw.get("pc", ())),
            upload_id=raw.get("u", ""),
            owner=raw.get("o"),
        )


@dataclass(frozen=True)
class StoredObject:
    """One version of a key: the current object, a noncurrent version or a delete
    marker (`delete_marker`, no blob). Unversioned writes are the "null" version.
    `seq` orders a key's versions (newest highest)."""

    bucket: str
    key: str
    blob: str
    size: int
    etag: str
    modified: float
    attrs: ObjectAttrs
    version_id: str = NULL_VERSION
    seq: int = 0
    delete_marker: bool = False


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    etag: str
    modified: float
    checksum_alg: str | None = None
    owner: str | None = None  # read only when the store lists owners


@dataclass(frozen=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    attrs: ObjectAttrs


@dataclass(frozen=True)
class Part:
    number: int
    blob: str
    size: int
    etag: str
    modified: float
    checksum: str | None


_BUCKET_COLUMNS = "name, region, created, versioning, object_lock, owner"


def _bucket(row: tuple[Any, ...]) -> Bucket:
    return Bucket(row[0], row[1], row[2], row[3], bool(row[4]), row[5])


class S3Store:
    """The SQLite side of S3; every method is one short transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lock = threading.RLock()
        #: Listings read each object's owner too (only when identities are configured).
        self.list_owners = False
        conn.executescript(_SCHEMA)
        for table, added in _ADDED_COLUMNS.items():
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration in added:
                if name not in columns:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
        _move_policies(conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` … `COMMIT`: the change is durable when the block exits."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # -- buckets -------------------------------------------------------------------

    def get_bucket(self, name: str) -> Bucket | None:
        with self.lock:
            row = self.conn.execute(
                f"SELECT {_BUCKET_COLUMNS} FROM buckets WHERE name = ?", (name,)
            ).fetchone()
        return _bucket(row) if row else None

    def insert_bucket(self, bucket: Bucket) -> bool:
        """Create the bucket; False when it already exists."""
        with self.lock:
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO buckets "
                "(name, region, created, versioning, object_lock, owner) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    bucket.name,
                    bucket.region,
                    bucket.created,
                    bucket.versioning,
                    int(bucket.object_lock),
                    bucket.owner,
                ),
            )
            return cursor.rowcount == 1

    def list_buckets(self) -> list[Bucket]:
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {_BUCKET_COLUMNS} FROM buckets ORDER BY name"
            ).fetchall()
        return [_bucket(row) for row in rows]

    def set_versioning(self, name: str, status: str) -> None:
        with self.lock:
            self.conn.execute("UPDATE buckets SET versioning = ? WHERE name = ?", (status, name))

    def enable_object_lock(self, name: str) -> None:
        with self.lock:
            self.conn.execute("UPDATE buckets SET object_lock = 1 WHERE name = ?", (name,))

    def get_setting(self, bucket: str, name: str) -> str | None:
        """A stored bucket sub-resource document (policy, lifecycle, ...), if set."""
        with self.lock:
            row = self.conn.execute(
                "SELECT document FROM bucket_settings WHERE bucket = ? AND name = ?",
                (bucket, name),
            ).fetchone()
        return row[0] if row else None

    def set_setting(self, bucket: str, name: str, document: str | None) -> None:
        """Store (or with None, delete) a bucket sub-resource document."""
        with self.lock:
            if document is None:
                self.conn.execute(
                    "DELETE FROM bucket_settings WHERE bucket = ? AND name = ?", (bucket, name)
                )
            else:
                self.conn.execute(
                    "INSERT OR REPLACE INTO bucket_settings (bucket, name, document) "
                    "VALUES (?, ?, ?)",
                    (bucket, name, document),
                )

    def bucket_is_empty(self, conn: sqlite3.Connection, name: str) -> bool:
        for table in ("objects", "versions"):
            row = conn.execute(f"SELECT 1 FROM {table} WHERE bucket = ? LIMIT 1", (name,))
            if row.fetchone() is not None:
                return False
        return True

    def delete_bucket(self, conn: sqlite3.Connection, name: str) -> list[str]:
        """Delete the bucket and its abandoned uploads; returns the part blobs to remove."""
        blobs = [
            row[0]
            for row in conn.execute(
                "SELECT p.blob FROM uploads u JOIN parts p ON p.upload_id = u.upload_id "
                "WHERE u.bucket = ?",
                (name,),
            )
        ]
        conn.execute(
            "DELETE FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket = ?)",
            (name,),
        )
        conn.execute("DELETE FROM uploads WHERE bucket = ?", (name,))
        conn.execute("DELETE FROM bucket_settings WHERE bucket = ?", (name,))
        conn.execute("DELETE FROM buckets WHERE name = ?", (name,))
        return blobs

    def get_notification(self, name: str) -> str | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT notification FROM buckets WHERE name = ?", (name,)
            ).fetchone()
        return row[0] if row else None

    def set_notification(self, name: str, document: str) -> None:
        with self.lock:
            self.conn.execute(
                "UPDATE buckets SET notification = ? WHERE name = ?", (document, name)
            )

    def get_cors(self, name: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT cors FROM buckets WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_cors(self, name: str, document: str | None) -> None:
        with self.lock:
            self.conn.execute("UPDATE buckets SET cors = ? WHERE name = ?", (document, name))

    # -- objects -------------------------------------------------------------------

    def get_object(self, bucket: str, key: str) -> StoredObject | None:
        """The key's current object (None when absent or its newest version is a
        delete marker)."""
        with self.lock:
            return self.current(self.conn, bucket, key)

    def current(self, conn: sqlite3.Connection, bucket: str, key: str) -> StoredObject | None:
        row = conn.execute(
            "SELECT blob, size, etag, modified, attrs, version_id, seq FROM objects "
            "WHERE bucket = ? AND key = ?",
            (bucket, key),
        ).fetchone()
        if row is None:
            return None
        return StoredObject(
            bucket,
            key,
            row[0],
            row[1],
            row[2],
            row[3],
            ObjectAttrs.from_json(row[4]),
            row[5] or NULL_VERSION,
            row[6],
        )

    def put_object(self, conn: sqlite3.Connection, obj: StoredObject) -> str | None:
        """Insert or replace the current object; returns the replaced blob id, if any."""
        row = conn.execute(
            "SELECT blob FROM objects WHERE bucket = ? AND key = ?", (obj.bucket, obj.key)
        ).fetchone()
        conn.execute(
            "INSERT OR REPLACE INTO objects "
            "(bucket, key, blob, size, etag, modified, attrs, checksum_alg, version_id, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                obj.bucket,
                obj.key,
                obj.blob,
                obj.size,
                obj.etag,
                obj.modified,
                obj.attrs.to_json(),
                next(iter(obj.attrs.checksums), None),
                None if obj.version_id == NULL_VERSION else obj.version_id,
                obj.seq,
            ),
        )
        return row[0] if row else None

    def update_attrs(
        self, bucket: str, key: str, attrs: ObjectAttrs, version_id: str | None = None
    ) -> bool:
        """Replace a version's attributes in place (its bytes and ETag stay); the
        current object's when `version_id` is None."""
        with self.lock:
            if version_id is None:
                cursor = self.conn.execute(
                    "UPDATE objects SET attrs = ? WHERE bucket = ? AND key = ?",
                    (attrs.to_json(), bucket, key),
                )
                return cursor.rowcount == 1
            stored = None if version_id == NULL_VERSION else version_id
            cursor = self.conn.execute(
                "UPDATE objects SET attrs = ? WHERE bucket = ? AND key = ? AND version_id IS ?",
                (attrs.to_json(), bucket, key, stored),
            )
            if cursor.rowcount == 1:
                return True
            cursor = self.conn.execute(
                "UPDATE versions SET attrs = ? WHERE bucket = ? AND key = ? AND version_id = ? "
                "AND delete_marker = 0",
                (attrs.to_json(), bucket, key, version_id),
            )
            return cursor.rowcount == 1

    def delete_object(self, conn: sqlite3.Connection, bucket: str, key: str) -> str | None:
        """Delete the object; returns its blob id, or None when there was none."""
        row = conn.execute(
            "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING blob", (bucket, key)
        ).fetchone()
        return row[0] if row else None

    def scan_keys(self, bucket: str, after: str, limit: int) -> list[ListedObject]:
        """Up to `limit` objects with key > `after`, in UTF-8 binary order (AWS's)."""
        return self._scan(bucket, ">", after, limit)

    def scan_keys_from(self, bucket: str, start: str, limit: int) -> list[ListedObject]:
        """Like `scan_keys` but inclusive of `start`."""
        return self._scan(bucket, ">=", start, limit)

    def _scan(
        self, bucket: str, op: Literal[">", ">="], bound: str, limit: int
    ) -> list[ListedObject]:
        owner = ", json_extract(attrs, '$.o')" if self.list_owners else ""
        with self.lock:
            rows = self.conn.execute(
                f"SELECT key, size, etag, modified, checksum_alg{owner} FROM objects "
                f"WHERE bucket = ? AND key {op} ? ORDER BY key LIMIT ?",
                (bucket, bound, limit),
            ).fetchall()
        return [ListedObject(*row) for row in rows]

    def live_blobs(self) -> set[str]:
        with self.lock:
            objects = {row[0] for row in self.conn.execute("SELECT blob FROM objects")}
            parts = {row[0] for row in self.conn.execute("SELECT blob FROM parts")}
            versions = {
                row[0]
                for row in self.conn.execute("SELECT blob FROM versions WHERE delete_marker = 0")
            }
        return objects | parts | versions

    # -- multipart uploads ---------------------------------------------------------

    def insert_upload(self, upload: Upload) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO uploads (upload_id, bucket, key, initiated, attrs) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    upload.upload_id,
                    upload.bucket,
                    upload.key,
                    upload.initiated,
                    upload.attrs.to_json(),
                ),
            )

    def get_upload(self, upload_id: str) -> Upload | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT upload_id, bucket, key, initiated, attrs FROM uploads WHERE upload_id = ?",
                (upload_id,),
            ).fetchone()
        if row is None:
            return None
        return Upload(row[0], row[1], row[2], row[3], ObjectAttrs.from_json(row[4]))

    def list_uploads(self, bucket: str, prefix: str, limit: int) -> list[Upload]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT upload_id, bucket, key, initiated, attrs FROM uploads "
                "WHERE bucket = ? AND key >= ? ORDER BY key, initiated LIMIT ?",
                (bucket, prefix, limit),
            ).fetchall()
        return [
            Upload(r[0], r[1], r[2], r[3], ObjectAttrs.from_json(r[4]))
            for r in rows
            if r[2].startswith(prefix)
        ]

    def put_part(self, conn: sqlite3.Connection, upload_id: str, part: Part) -> str | None:
        """Store a part (replacing a re-upload of the same number); returns the old blob."""
        row = conn.execute(
            "SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
            (upload_id, part.number),
        ).fetchone()
        conn.execute(
            "INSERT OR REPLACE INTO parts "
            "(upload_id, part_number, blob, size, etag, modified, checksum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (upload_id, part.number, part.blob, part.size, part.etag, part.modified, part.checksum),
        )
        return row[0] if row else None

    def list_parts(self, upload_id: str, after: int = 0, limit: int = 10001) -> list[Part]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT part_number, blob, size, etag, modified, checksum FROM parts "
                "WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
                (upload_id, after, limit),
            ).fetchall()
        return [Part(*row) for row in rows]

    def delete_upload(self, conn: sqlite3.Connection, upload_id: str) -> list[str]:
        """Forget the upload and its parts; returns the part blobs to remove."""
        blobs = [
            row[0]
            for row in conn.execute(
                "DELETE FROM parts WHERE upload_id = ? RETURNING blob", (upload_id,)
            )
        ]
        conn.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        return blobs
