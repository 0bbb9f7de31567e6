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

import itertools
import secrets
from collections.abc import Sequence
from dataclasses import replace

from lambic.services.s3.bucket_engine import object_lock_setting
from lambic.services.s3.engine_types import (
    DEFAULT_REGION,
    MAX_PART_NUMBER,
    MIN_PART_SIZE,
    Deletion,
    ObjectEvent,
    ObjectListener,
    Preconditions,
    RemovalCheck,
    RequestContext,
    StagedBlob,
    etag_matches,
    md5_etag,
    multipart_etag,
)
from lambic.services.s3.errors import S3Error
from lambic.services.s3.names import validate_key
from lambic.services.s3.object_engine import ObjectEngine
from lambic.services.s3.store import ObjectAttrs, Part, StoredObject, Upload

__all__ = [
    "DEFAULT_REGION",
    "MAX_PART_NUMBER",
    "MIN_PART_SIZE",
    "Deletion",
    "ObjectEvent",
    "ObjectListener",
    "Preconditions",
    "RemovalCheck",
    "RequestContext",
    "S3Engine",
    "StagedBlob",
    "etag_matches",
    "md5_etag",
    "multipart_etag",
    "object_lock_setting",
]


class S3Engine(ObjectEngine):
    """The S3 state machine over an `S3Store` (metadata) and a `BlobStore` (bytes):
    buckets (`BucketEngine`), objects (`ObjectEngine`) and, here, multipart uploads."""

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
