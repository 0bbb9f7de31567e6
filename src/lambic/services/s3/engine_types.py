"""The S3 engine's vocabulary: who asked, what changed, what a write or delete takes
and gives back, and the ETags S3 computes.

    >>> multipart_etag(['"0cc175b9c0f1b6a831c399e269772661"'])
    '"b6ff9a06b7e20bcb2858c5b8ff744aea-1"'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lambic.services.s3.notifications import NotificationRule
from lambic.services.s3.store import StoredObject

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


def no_removal_check(version: StoredObject) -> None:
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


def etag_matches(condition: str, etag: str) -> bool:
    """HTTP's entity-tag list match: `*`, or any listed tag equal (quotes optional)."""
    bare = etag.strip('"')
    for candidate in condition.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == bare:
            return True
    return False
