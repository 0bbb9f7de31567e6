"""The object side of the S3 engine: reads, writes, copies, deletes and listings of
one bucket's keys and versions, in the write order `engine.py` describes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lambic.services.s3 import _versions, versioning
from lambic.services.s3._wire import http_date
from lambic.services.s3.bucket_engine import BucketEngine
from lambic.services.s3.engine_types import (
    Deletion,
    Preconditions,
    RemovalCheck,
    RequestContext,
    StagedBlob,
    etag_matches,
    md5_etag,
    no_removal_check,
)
from lambic.services.s3.errors import S3Error
from lambic.services.s3.listing import ListingPage, VersionPage, list_keys, list_versions
from lambic.services.s3.names import validate_key
from lambic.services.s3.store import NULL_VERSION, ObjectAttrs, StoredObject


class ObjectEngine(BucketEngine):
    """Objects and their versions (see `BucketEngine` for the buckets they live in)."""

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
        check: RemovalCheck = no_removal_check,
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
        finish: Callable[[ObjectAttrs], ObjectAttrs] | None = None,
    ) -> StoredObject:
        """Copy; `attrs` None means metadata directive COPY (keep the source's).
        `finish`, when given, turns the copy's attributes into the ones committed (its
        owner and ACL), in the same commit as the copy."""
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
        if finish is not None:
            new_attrs = finish(new_attrs)
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


def _plausible_version_id(version_id: str) -> bool:
    """AWS refuses a malformed version id (InvalidArgument) before looking it up."""
    return len(version_id) == 32 and version_id.replace("-", "").replace("_", "").isalnum()
