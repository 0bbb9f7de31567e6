"""The bucket side of the S3 engine: buckets and their stored settings, CORS rules,
notification configurations and the object listeners they feed, the bucket policy's
word on anonymous requests, and the removal of blobs no row points at any more.

`S3Engine` (`engine.py`) builds objects and multipart uploads on top of this.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from lambic.project.identities import DEFAULT_ACCOUNT, Account, Identities
from lambic.services.s3 import access, conditions, policy, versioning
from lambic.services.s3._blobs import BlobStore
from lambic.services.s3.cors import CorsRule, parse_cors, render_cors
from lambic.services.s3.engine_types import (
    DEFAULT_REGION,
    ObjectEvent,
    ObjectListener,
    RequestContext,
)
from lambic.services.s3.errors import S3Error
from lambic.services.s3.names import validate_bucket_name
from lambic.services.s3.notifications import (
    NotificationConfiguration,
    check_notification,
    parse_notification,
    render_notification,
)
from lambic.services.s3.store import Bucket, S3Store

log = logging.getLogger("lambic.services.s3")


class BucketEngine:
    """Buckets, their settings and listeners over an `S3Store` and a `BlobStore`."""

    def __init__(
        self,
        store: S3Store,
        blobs: BlobStore,
        *,
        clock: Callable[[], float] = time.time,
        identities: Identities | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.clock = clock
        # The accounts besides the default one (None: one account, any key, as always):
        # buckets and objects then belong to their creators (`principals`).
        self.identities = identities
        store.list_owners = identities is not None
        # Each bucket's owner (canonical id, None: the default account), read by every
        # signed request's access check when identities are configured.
        self._owners: dict[str, str | None] = {}
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
        self,
        name: str,
        region: str = DEFAULT_REGION,
        *,
        object_lock: bool = False,
        owner: str | None = None,
    ) -> bool:
        """Create a bucket owned by canonical user `owner` (None: the default account);
        True when new. A repeat create by its owner in us-east-1 succeeds (AWS's legacy
        behaviour there); elsewhere it is BucketAlreadyOwnedByYou, and by another
        account BucketAlreadyExists (names are global). A bucket created with object
        lock has versioning enabled, as on AWS."""
        validate_bucket_name(name)
        bucket = Bucket(
            name,
            region,
            self.clock(),
            versioning.ENABLED if object_lock else None,
            object_lock,
            owner,
        )
        if self.store.insert_bucket(bucket):
            self._owners[name] = owner
            if object_lock:
                self.put_setting(name, object_lock_setting, "{}")
            return True
        existing = self.bucket(name)
        if self.identities is not None and (
            self.owner_account(existing.owner).account_id != self.owner_account(owner).account_id
        ):
            raise S3Error("BucketAlreadyExists", BucketName=name)
        if region == DEFAULT_REGION and existing.region == DEFAULT_REGION:
            return False
        raise S3Error("BucketAlreadyOwnedByYou", BucketName=name)

    def bucket_owner(self, name: str) -> str | None:
        """The canonical id of the bucket's owner (None: the default account);
        NoSuchBucket when there is no such bucket."""
        if name in self._owners:
            return self._owners[name]
        owner = self._owners[name] = self.bucket(name).owner
        return owner

    def owner_account(self, canonical_id: str | None) -> Account:
        """The account of an owner (None: the default account); one no longer in the
        identities file keeps its id, with no account id and no name."""
        identities = self.identities
        if canonical_id is None:
            return identities.default.account if identities is not None else DEFAULT_ACCOUNT
        found = identities.by_canonical_id(canonical_id) if identities is not None else None
        if found is None and canonical_id == DEFAULT_ACCOUNT.canonical_id:
            found = DEFAULT_ACCOUNT
        return found if found is not None else Account("", canonical_id, "")

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
        self._owners.pop(name, None)
        with self._notifications_lock:
            self._notifications.pop(name, None)
        for blob in leftovers:
            self.blobs.delete(blob)

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
