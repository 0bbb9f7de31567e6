"""S3 semantics, independent of the wire: buckets, objects, copies, multipart, events.

The protocol module parses a request into calls on `S3Engine` and renders what comes
back; tests and the runtime can drive the engine directly. Writes follow one order so
a crash never leaves an object pointing at missing bytes: bytes go to the blob store
first, the metadata row is committed second, a replaced blob is removed third, and
listeners hear about the change last (after commit, as S3 only notifies for durable
writes).

Listener hook (for the runtime's S3 event sources): `engine.add_listener(cb)`; `cb`
receives an `ObjectEvent` after each committed create/delete, carrying in `rules` the
bucket's notification rules that change fires, already matched. The engine keeps each
bucket's parsed `NotificationConfiguration` in memory (loaded once from the store,
replaced by PutBucketNotificationConfiguration), so announcing an object event reads
no XML and no SQLite row: an upload reaches its handler with one dict lookup and a
prefix/suffix test per rule.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from lambic.services.s3 import _versions, access, conditions, policy, versioning
from lambic.services.s3._blobs import BlobStore
from lambic.services.s3._wire import http_date
from lambic.services.s3.cors import CorsRule, parse_cors, render_cors
from lambic.services.s3.errors import S3Error
from lambic.services.s3.listing import ListingPage, VersionPage, list_keys, list_versions
from lambic.services.s3.names import validate_bucket_name, validate_key
from lambic.services.s3.notifications import (
    NotificationConfiguration,
    NotificationRule,
    check_notification,
    parse_notification,
    render_notification,
)
from lambic.services.s3.store import (
    NULL_VERSION,
    Bucket,
    ObjectAttrs,
    Part,
    S3Store,
    StoredObject,
    Upload,
)

log = logging.getLogger("lambic.services.s3")

DEFAULT_REGION = "us-east-1"
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000


@dataclass(frozen=True)
class RequestContext:
    """Who asked: carried into events as `requestParameters.sourceIPAddress` etc."""

    source_ip: str = "127.0.0.1"
    request_id: str = ""


@dataclass(frozen=True)
class ObjectEvent:
    """A committed object change, as an S3 event notification describes it."""

    event_name: (
        str  # "ObjectCreated:Put" | ":Copy" | ":CompleteMultipartUpload" | "ObjectRemoved:Delete"
    )
    bucket: str
    key: str
    size: int
    etag: str  # without quotes, as in the event's `s3.object.eTag`
    sequencer: str
    version_id: str | None
    source_ip: str
    request_id: str
    # The bucket's notification rules this change fires (event type, prefix, suffix
    # matched), in configuration order; empty when none does.
    rules: tuple[NotificationRule, ...] = ()


ObjectListener = Callable[[ObjectEvent], None]

# Checks a version about to be removed for good; raises to refuse (object lock).
RemovalCheck = Callable[[StoredObject], None]


def _no_check(version: StoredObject) -> None:
    return None


@dataclass(frozen=True)
class Deletion:
    """What a DELETE did: the version removed or the delete marker it created."""

    version_id: str | None
    delete_marker: bool


@dataclass(frozen=True)
class Preconditions:
    """Conditional-write headers (If-Match / If-None-Match on PUT and complete)."""

    if_match: str | None = None
    if_none_match: str | None = None


@dataclass(frozen=True)
class StagedBlob:
    """Upload bytes already in the blob store (a spooled body, adopted by rename):
    what `put_object` and `upload_part` take instead of bytes for large uploads."""

    blob: str
    size: int
    etag: str


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def multipart_etag(part_etags: Sequence[str]) -> str:
    """AWS's multipart ETag: md5 of the concatenated binary part md5s, then `-<count>`."""
    digests = b"".join(bytes.fromhex(etag.strip('"')) for etag in part_etags)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(part_etags)}"'


class S3Engine:
    """The S3 state machine over an `S3Store` (metadata) and a `BlobStore` (bytes)."""

    def __init__(
        self, store: S3Store, blobs: BlobStore, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self._listeners: list[ObjectListener] = []
        self._sequence = itertools.count(time.time_ns())
        self._sequence_lock = threading.Lock()
        self._cors_cache: dict[str, tuple[CorsRule, ...] | None] = {}
        # Parsed notification configurations by bucket. Read on the edge thread for
        # every object event, written by PutBucketNotificationConfiguration (edge) and
        # by the runtime's event sources (another thread): the lock makes a load from
        # the store and a replacement not overwrite each other.
        self._notifications: dict[str, NotificationConfiguration] = {}
        self._notifications_lock = threading.Lock()
        # Stored bucket sub-resource documents by (bucket, name), read on every PUT
        # (object lock defaults, default encryption): loaded once, kept in step here.
        self._settings: dict[str, dict[str, str | None]] = {}
        # The protocol sets this so replaced blobs are removed after the response is
        # written (a crash before that leaves files the startup sweep removes).
        self.defer_discards = False
        self._discards: list[str] = []
        blobs.referenced_only(store.live_blobs())

    # -- unreferenced blobs ----------------------------------------------------------

    def _discard(self, blob: str) -> None:
        """Remove a blob no committed row points at any more (after the commit)."""
        if self.defer_discards:
            self._discards.append(blob)
        else:
            self.blobs.delete(blob)

    @property
    def has_discards(self) -> bool:
        return bool(self._discards)

    def flush_discards(self) -> None:
        """Remove the blobs deferred by `defer_discards`."""
        pending, self._discards = self._discards, []
        for blob in pending:
            self.blobs.delete(blob)

    # -- listeners -----------------------------------------------------------------

    def add_listener(self, listener: ObjectListener) -> None:
        """Call `listener(event)` after every committed object create or delete;
        `event.rules` are the bucket's notification rules it fires."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ObjectListener) -> None:
        self._listeners.remove(listener)

    def _emit(
        self,
        name: str,
        obj_key: tuple[str, str],
        size: int,
        etag: str,
        context: RequestContext,
        version_id: str | None = None,
    ) -> None:
        if not self._listeners:
            return
        with self._sequence_lock:
            sequencer = f"{next(self._sequence):016X}"
        config = self._notifications.get(obj_key[0]) or self._load_notification(obj_key[0])
        event = ObjectEvent(
            name,
            obj_key[0],
            obj_key[1],
            size,
            etag.strip('"'),
            sequencer,
            version_id,
            context.source_ip,
            context.request_id,
            tuple(config.targets(name, obj_key[1])),
        )
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                # A failing subscriber must not turn a committed write into an error.
                log.exception("S3 object listener %r failed", listener)

    # -- buckets -------------------------------------------------------------------

    def create_bucket(
        self, name: str, region: str = DEFAULT_REGION, *, object_lock: bool = False
    ) -> bool:
        """Create a bucket; True when new. A repeat create in us-east-1 succeeds (AWS's
        legacy behaviour there); elsewhere it is BucketAlreadyOwnedByYou. A bucket
        created with object lock has versioning enabled, as on AWS."""
        validate_bucket_name(name)
        bucket = Bucket(
            name, region, self.clock(), versioning.ENABLED if object_lock else None, object_lock
        )
        if self.store.insert_bucket(bucket):
            if object_lock:
                self.put_setting(name, object_lock_setting, "{}")
            return True
        if region == DEFAULT_REGION and self.bucket(name).region == DEFAULT_REGION:
            return False
        raise S3Error("BucketAlreadyOwnedByYou", BucketName=name)

    def bucket(self, name: str) -> Bucket:
        bucket = self.store.get_bucket(name)
        if bucket is None:
            raise S3Error("NoSuchBucket", BucketName=name)
        return bucket

    def list_buckets(self) -> list[Bucket]:
        return self.store.list_buckets()

    def setting(self, bucket: str, name: str) -> str | None:
        """A stored bucket sub-resource document (`name`: "policy", "object-lock", ...)."""
        known = self._settings.get(bucket)
        if known is None:
            known = self._settings[bucket] = {}
        if name not in known:
            known[name] = self.store.get_setting(bucket, name)
        return known[name]

    def put_setting(self, bucket: str, name: str, document: str | None) -> None:
        """Store (None: delete) a bucket sub-resource document, already validated."""
        self.bucket(bucket)
        self.store.set_setting(bucket, name, document)
        self._settings.setdefault(bucket, {})[name] = document

    def put_object_lock(self, name: str, setting: str) -> None:
        """PutObjectLockConfiguration (the document parsed): AWS lets a bucket with
        versioning enabled take Object Lock after creation."""
        bucket = self.bucket(name)
        if not bucket.object_lock:
            if bucket.versioning != versioning.ENABLED:
                raise S3Error(
                    "InvalidBucketState",
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                    "configuration",
                    BucketName=name,
                )
            self.store.enable_object_lock(name)
        self.put_setting(name, object_lock_setting, setting)

    def put_versioning(self, name: str, status: str) -> None:
        """PutBucketVersioning: "Enabled" or "Suspended" (a locked bucket stays Enabled)."""
        bucket = self.bucket(name)
        if status not in (versioning.ENABLED, versioning.SUSPENDED):
            raise S3Error("MalformedXML")
        if bucket.object_lock and status != versioning.ENABLED:
            raise S3Error(
                "InvalidBucketState",
                "An Object Lock configuration is present on this bucket, so the versioning "
                "state cannot be changed.",
            )
        self.store.set_versioning(name, status)

    def delete_bucket(self, name: str) -> None:
        self.bucket(name)
        with self.store.transaction() as conn:
            if not self.store.bucket_is_empty(conn, name):
                raise S3Error("BucketNotEmpty", BucketName=name)
            leftovers = self.store.delete_bucket(conn, name)
        self._cors_cache.pop(name, None)
        self._settings.pop(name, None)
        with self._notifications_lock:
            self._notifications.pop(name, None)
        for blob in leftovers:
            self.blobs.delete(blob)

    # -- objects -------------------------------------------------------------------

    def head(self, bucket: str, key: str, version_id: str | None = None) -> StoredObject:
        """The current object, or version `version_id`: AWS's NoSuchKey / NoSuchVersion,
        and for a delete marker its headers (404 as the latest, 405 by version id)."""
        if version_id is not None:
            return self.version(bucket, key, version_id)
        obj = self.store.get_object(bucket, key)
        if obj is None:
            self.bucket(bucket)
            error = S3Error("NoSuchKey", Key=key)
            with self.store.lock:
                marker = _versions.newest(self.store.conn, bucket, key)
            if marker is not None and marker.delete_marker:
                error.headers += [
                    ("x-amz-delete-marker", "true"),
                    ("x-amz-version-id", marker.version_id),
                ]
            else:
                error.headers.append(("x-amz-delete-marker", "false"))  # as AWS answers
            raise error
        return obj

    def version(self, bucket: str, key: str, version_id: str) -> StoredObject:
        """Version `version_id` of `key`, an object (a delete marker is 405, as AWS)."""
        self.bucket(bucket)
        with self.store.lock:
            found = versioning.find_version(self.store, self.store.conn, bucket, key, version_id)
        if found is None:
            if version_id != NULL_VERSION and not _plausible_version_id(version_id):
                raise S3Error(
                    "InvalidArgument",
                    "Invalid version id specified",
                    ArgumentName="versionId",
                    ArgumentValue=version_id,
                )
            raise S3Error("NoSuchVersion", Key=key, VersionId=version_id)
        if found.delete_marker:
            error = S3Error("MethodNotAllowed", Method="GET", ResourceType="DeleteMarker")
            error.headers += [
                ("x-amz-delete-marker", "true"),
                ("x-amz-version-id", found.version_id),
                ("Allow", "DELETE"),
                ("Last-Modified", http_date(found.modified)),
            ]
            raise error
        return found

    def read(self, obj: StoredObject, start: int = 0, end: int | None = None) -> bytes:
        return self.blobs.read(obj.blob, start, end)

    def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes | StagedBlob,
        attrs: ObjectAttrs,
        *,
        etag: str | None = None,
        context: RequestContext = RequestContext(),
        preconditions: Preconditions = Preconditions(),
        event: str = "ObjectCreated:Put",
    ) -> StoredObject:
        try:
            validate_key(key)
        except S3Error:
            self._drop_staged(data)
            raise
        # The bucket is checked inside the commit (one lookup on the hot path); a PUT
        # to a missing bucket writes its blob, then removes it with the rollback.
        if isinstance(data, StagedBlob):
            blob, size, etag = data.blob, data.size, etag or data.etag
        else:
            blob, size, etag = self.blobs.put(data), len(data), etag or md5_etag(data)
        obj = StoredObject(bucket, key, blob, size, etag, self.clock(), attrs)
        return self._commit_object(obj, event, context, preconditions)

    def _drop_staged(self, data: bytes | StagedBlob) -> None:
        """A refused upload's staged blob goes at once (bytes were never stored)."""
        if isinstance(data, StagedBlob):
            self.blobs.delete(data.blob)

    def _commit_object(
        self,
        obj: StoredObject,
        event: str,
        context: RequestContext,
        preconditions: Preconditions = Preconditions(),
        *,
        upload_id: str | None = None,
    ) -> StoredObject:
        """Make `obj` the key's current object in one transaction (finishing the upload
        `upload_id` when given: its parts go with it), then notify listeners. The new
        blob is removed again if anything refuses the write."""
        part_blobs: list[str] = []
        try:
            with self.store.transaction() as conn:
                if preconditions.if_match or preconditions.if_none_match:
                    self._check_write_preconditions(conn, obj, preconditions)
                if upload_id is not None and self.store.get_upload(upload_id) is None:
                    raise S3Error("NoSuchUpload", UploadId=upload_id)
                bucket = self.store.get_bucket(obj.bucket)
                if bucket is None:
                    raise S3Error("NoSuchBucket", BucketName=obj.bucket)
                obj, replaced = versioning.place_object(self.store, conn, bucket, obj)
                if upload_id is not None:
                    part_blobs = self.store.delete_upload(conn, upload_id)
        except BaseException:
            self.blobs.delete(obj.blob)
            raise
        for blob in (*part_blobs, *replaced):
            self._discard(blob)
        version = None if obj.version_id == NULL_VERSION else obj.version_id
        self._emit(event, (obj.bucket, obj.key), obj.size, obj.etag, context, version)
        return obj

    def _check_write_preconditions(
        self, conn: object, obj: StoredObject, preconditions: Preconditions
    ) -> None:
        current = self.store.get_object(obj.bucket, obj.key)
        # AWS's conditional writes: If-None-Match: * refuses to overwrite, an ETag
        # refuses to overwrite that object; If-Match requires the current ETag (and
        # fails with NoSuchKey when there is none).
        none_match = preconditions.if_none_match
        if (
            none_match is not None
            and current is not None
            and etag_matches(none_match, current.etag)
        ):
            raise S3Error("PreconditionFailed", Condition="If-None-Match")
        if preconditions.if_match is not None:
            if current is None:
                raise S3Error("NoSuchKey", Key=obj.key)
            if not etag_matches(preconditions.if_match, current.etag):
                raise S3Error("PreconditionFailed", Condition="If-Match")

    def delete_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        check: RemovalCheck = _no_check,
        context: RequestContext = RequestContext(),
    ) -> Deletion:
        """Delete a key (succeeds when absent, as AWS): on a versioned bucket without
        `version_id` this adds a delete marker; with one it removes that version for
        good, after `check` (object lock) allows it."""
        state = self.bucket(bucket)
        if version_id is not None:
            return self._delete_version(bucket, key, version_id, check, context)
        if state.versioning is not None:
            with self.store.transaction() as conn:
                marker, discards = versioning.place_delete_marker(
                    self.store, conn, state, key, self.clock()
                )
            for blob in discards:
                self._discard(blob)
            self._emit(
                "ObjectRemoved:DeleteMarkerCreated",
                (bucket, key),
                0,
                "",
                context,
                marker.version_id,
            )
            return Deletion(marker.version_id, True)
        with self.store.transaction() as conn:
            removed = self.store.delete_object(conn, bucket, key)
        if removed is not None:
            self._discard(removed)
            self._emit("ObjectRemoved:Delete", (bucket, key), 0, "", context)
        return Deletion(None, False)

    def _delete_version(
        self,
        bucket: str,
        key: str,
        version_id: str,
        check: RemovalCheck,
        context: RequestContext,
    ) -> Deletion:
        with self.store.transaction() as conn:
            removed, discards = versioning.delete_version(
                self.store, conn, bucket, key, version_id, check
            )
        for blob in discards:
            self._discard(blob)
        if removed is None:
            return Deletion(version_id, False)
        self._emit("ObjectRemoved:Delete", (bucket, key), 0, "", context, version_id)
        return Deletion(version_id, removed.delete_marker)

    def copy_object(
        self,
        source: tuple[str, str],
        target: tuple[str, str],
        attrs: ObjectAttrs | None,
        *,
        source_version: str | None = None,
        context: RequestContext = RequestContext(),
    ) -> StoredObject:
        """Copy; `attrs` None means metadata directive COPY (keep the source's)."""
        validate_key(target[1])
        self.bucket(target[0])
        src = self.head(*source, source_version)
        if source == target and attrs is None and source_version is None:
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to "
                "itself without changing the object's metadata, storage class, website "
                "redirect location or encryption attributes.",
            )
        etag = src.etag
        if "-" in etag:
            # A single-request copy of a multipart object is not multipart any more.
            etag = md5_etag(self.read(src))
        new_attrs = replace(src.attrs, parts=0, part_sizes=(), lock={}) if attrs is None else attrs
        if attrs is not None and not attrs.checksums:
            new_attrs = replace(new_attrs, checksums=src.attrs.checksums)
        if "-" in src.etag:
            new_attrs = replace(new_attrs, checksums={}, checksum_type="", part_checksums=())
        blob = self.blobs.copy(src.blob)
        obj = StoredObject(target[0], target[1], blob, src.size, etag, self.clock(), new_attrs)
        return self._commit_object(obj, "ObjectCreated:Copy", context)

    def set_tags(
        self, bucket: str, key: str, tags: dict[str, str], version_id: str | None = None
    ) -> StoredObject:
        """PutObjectTagging / DeleteObjectTagging: replace the tag set in place."""
        obj = self.head(bucket, key, version_id)
        return self.update_attrs(obj, replace(obj.attrs, tags=dict(tags)))

    def update_attrs(self, obj: StoredObject, attrs: ObjectAttrs) -> StoredObject:
        """Replace one version's attributes (tags, retention, legal hold, ACL) in place."""
        if not self.store.update_attrs(obj.bucket, obj.key, attrs, obj.version_id):
            raise S3Error("NoSuchKey", Key=obj.key)
        return replace(obj, attrs=attrs)

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        after: str = "",
        max_keys: int = 1000,
    ) -> ListingPage:
        self.bucket(bucket)
        return list_keys(
            self.store, bucket, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys
        )

    def list_versions(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        version_marker: str = "",
        max_keys: int = 1000,
    ) -> VersionPage:
        self.bucket(bucket)
        with self.store.lock:
            return list_versions(
                self.store.conn,
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                key_marker=key_marker,
                version_marker=version_marker,
                max_keys=max_keys,
            )

    # -- multipart uploads ---------------------------------------------------------

    def create_upload(self, bucket: str, key: str, attrs: ObjectAttrs) -> Upload:
        validate_key(key)
        self.bucket(bucket)
        upload = Upload(secrets.token_urlsafe(48), bucket, key, self.clock(), attrs)
        self.store.insert_upload(upload)
        return upload

    def upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        upload = self.store.get_upload(upload_id)
        if upload is None or upload.bucket != bucket or upload.key != key:
            self.bucket(bucket)
            raise S3Error("NoSuchUpload", UploadId=upload_id)
        return upload

    def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | StagedBlob,
        checksum: str | None = None,
    ) -> Part:
        try:
            if not 1 <= number <= MAX_PART_NUMBER:
                raise S3Error(
                    "InvalidArgument",
                    "Part number must be an integer between 1 and 10000, inclusive",
                    ArgumentName="partNumber",
                    ArgumentValue=number,
                )
            self.upload(bucket, key, upload_id)
        except S3Error:
            self._drop_staged(data)
            raise
        if isinstance(data, StagedBlob):
            part = Part(number, data.blob, data.size, data.etag, self.clock(), checksum)
        else:
            blob = self.blobs.put(data)
            part = Part(number, blob, len(data), md5_etag(data), self.clock(), checksum)
        try:
            with self.store.transaction() as conn:
                if self.store.get_upload(upload_id) is None:
                    raise S3Error("NoSuchUpload", UploadId=upload_id)
                replaced = self.store.put_part(conn, upload_id, part)
        except BaseException:
            self.blobs.delete(part.blob)
            raise
        if replaced is not None:
            self.blobs.delete(replaced)
        return part

    def complete_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        requested: Sequence[tuple[int, str]],
        *,
        context: RequestContext = RequestContext(),
        preconditions: Preconditions = Preconditions(),
    ) -> StoredObject:
        """Assemble the listed parts (number, etag) into the object, as AWS validates."""
        assembled = self.assemble_upload(bucket, key, upload_id, requested)
        return self.commit_upload(
            assembled, upload_id, context=context, preconditions=preconditions
        )

    def assemble_upload(
        self, bucket: str, key: str, upload_id: str, requested: Sequence[tuple[int, str]]
    ) -> StoredObject:
        """Validate the part list and write the object's bytes (not yet visible).

        The slow half of CompleteMultipartUpload (copying the parts); safe to run on a
        worker thread. `commit_upload` makes the result visible.
        """
        upload = self.upload(bucket, key, upload_id)
        if not requested:
            raise S3Error("MalformedXML")
        numbers = [number for number, _ in requested]
        if any(b < a for a, b in itertools.pairwise(numbers)):
            raise S3Error("InvalidPartOrder", UploadId=upload_id)
        # A part listed twice (a client that re-sent it) counts once, as its last entry.
        listed = dict(requested)
        stored = {part.number: part for part in self.store.list_parts(upload_id)}
        chosen: list[Part] = []
        for number, etag in listed.items():
            part = stored.get(number)
            if part is None or not etag_matches(etag, part.etag):
                raise S3Error("InvalidPart", UploadId=upload_id, PartNumber=number, ETag=etag)
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise S3Error(
                    "EntityTooSmall",
                    ProposedSize=part.size,
                    MinSizeAllowed=MIN_PART_SIZE,
                    PartNumber=part.number,
                    ETag=part.etag.strip('"'),
                )
        blob = self.blobs.concat(part.blob for part in chosen)
        return StoredObject(
            bucket,
            key,
            blob,
            sum(part.size for part in chosen),
            multipart_etag([part.etag for part in chosen]),
            self.clock(),
            replace(
                upload.attrs,
                parts=len(chosen),
                checksums={},
                part_sizes=tuple(part.size for part in chosen),
                upload_id=upload_id,
            ),
        )

    def completed_upload(self, bucket: str, key: str, upload_id: str) -> StoredObject | None:
        """The current object at `key` when upload `upload_id` made it (a repeated
        CompleteMultipartUpload is answered again, as on AWS), else None."""
        obj = self.store.get_object(bucket, key)
        return obj if obj is not None and obj.attrs.upload_id == upload_id else None

    def commit_upload(
        self,
        obj: StoredObject,
        upload_id: str,
        *,
        context: RequestContext = RequestContext(),
        preconditions: Preconditions = Preconditions(),
    ) -> StoredObject:
        """Make an assembled upload the object, forget its parts, notify listeners."""
        return self._commit_object(
            obj,
            "ObjectCreated:CompleteMultipartUpload",
            context,
            preconditions,
            upload_id=upload_id,
        )

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.upload(bucket, key, upload_id)
        with self.store.transaction() as conn:
            blobs = self.store.delete_upload(conn, upload_id)
        for blob in blobs:
            self.blobs.delete(blob)

    def list_parts(
        self, bucket: str, key: str, upload_id: str, *, after: int = 0, limit: int = 1000
    ) -> tuple[Upload, list[Part], bool]:
        upload = self.upload(bucket, key, upload_id)
        parts = self.store.list_parts(upload_id, after, limit + 1)
        return upload, parts[:limit], len(parts) > limit

    def list_uploads(
        self, bucket: str, *, prefix: str = "", limit: int = 1000
    ) -> tuple[list[Upload], bool]:
        self.bucket(bucket)
        uploads = self.store.list_uploads(bucket, prefix, limit + 1)
        return uploads[:limit], len(uploads) > limit

    # -- CORS ----------------------------------------------------------------------

    def put_cors(self, bucket: str, document: bytes) -> tuple[CorsRule, ...]:
        self.bucket(bucket)
        rules = parse_cors(document)
        self.store.set_cors(bucket, render_cors(rules).decode())
        self._cors_cache.pop(bucket, None)
        return rules

    def delete_cors(self, bucket: str) -> None:
        self.bucket(bucket)
        self.store.set_cors(bucket, None)
        self._cors_cache.pop(bucket, None)

    def cors_rules(self, bucket: str) -> tuple[CorsRule, ...] | None:
        """The bucket's CORS rules; None when the bucket has none (or does not exist)."""
        if bucket not in self._cors_cache:
            document = self.store.get_cors(bucket)
            self._cors_cache[bucket] = parse_cors(document.encode()) if document else None
        return self._cors_cache[bucket]

    # -- bucket policy -------------------------------------------------------------

    def allows_anonymous(
        self,
        bucket: str,
        action: str,
        key: str | None = None,
        context: conditions.Context = policy.NO_CONTEXT,
    ) -> bool:
        """Whether the bucket policy (a stored setting, see `policy`) lets an unsigned
        request do `action` (S3's rule)."""
        return self.anonymous_policy_decision(bucket, action, key, context) == "Allow"

    def anonymous_policy_decision(
        self,
        bucket: str,
        action: str,
        key: str | None = None,
        context: conditions.Context = policy.NO_CONTEXT,
    ) -> str | None:
        """The bucket policy's word on an unsigned request: "Allow", "Deny" (an explicit
        Deny, which no ACL overrides) or None. RestrictPublicBuckets voids its Allows."""
        text = self.setting(bucket, policy.SETTING)
        if text is None:
            return None
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
        decision = policy.stored(text).evaluate(action, resource, None, context)
        if decision == "Allow":
            block = self.setting(bucket, access.PUBLIC_ACCESS_BLOCK)
            if access.public_access_flag(block, "RestrictPublicBuckets"):
                return None  # AWS: only the owner's account and AWS services get through
        return decision

    # -- notification configuration ------------------------------------------------

    def put_notification(self, bucket: str, document: bytes) -> NotificationConfiguration:
        """PutBucketNotificationConfiguration: parse, validate and store `document`."""
        return self.replace_notification(bucket, parse_notification(document))

    def replace_notification(
        self, bucket: str, config: NotificationConfiguration
    ) -> NotificationConfiguration:
        """Validate `config` as PutBucketNotificationConfiguration does and make it the
        bucket's; object events from now on fire its rules."""
        self.bucket(bucket)
        check_notification(config)
        with self._notifications_lock:
            self.store.set_notification(bucket, render_notification(config).decode())
            self._notifications[bucket] = config
        return config

    def notification_configuration(self, bucket: str) -> NotificationConfiguration:
        """The bucket's configuration (empty when none was set)."""
        self.bucket(bucket)
        return self._notifications.get(bucket) or self._load_notification(bucket)

    def _load_notification(self, bucket: str) -> NotificationConfiguration:
        """Parse the stored document once; later lookups hit `_notifications`."""
        with self._notifications_lock:
            config = self._notifications.get(bucket)
            if config is None:
                document = self.store.get_notification(bucket)
                config = (
                    parse_notification(document.encode())
                    if document
                    else NotificationConfiguration()
                )
                self._notifications[bucket] = config
        return config


object_lock_setting = "object-lock"


def _plausible_version_id(version_id: str) -> bool:
    """AWS refuses a malformed version id (InvalidArgument) before looking it up."""
    return len(version_id) == 32 and version_id.replace("-", "").replace("_", "").isalnum()


def etag_matches(condition: str, etag: str) -> bool:
    """HTTP's entity-tag list match: `*`, or any listed tag equal (quotes optional)."""
    bare = etag.strip('"')
    for candidate in condition.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == bare:
            return True
    return False
