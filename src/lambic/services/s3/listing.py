"""Listing a bucket: ListObjects (v1) and ListObjectsV2 share one walk.

AWS lists keys in UTF-8 binary order, folds keys that share `prefix + ... + delimiter`
into one CommonPrefix (each counts once towards MaxKeys), and resumes after a marker.
The walk seeks the `(bucket, key)` index in batches and jumps over a whole common
prefix with one seek, so every page costs the same wherever it is in the bucket.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from lambic.services.s3 import _versions
from lambic.services.s3.store import ListedObject, S3Store, StoredObject

# U+10FFFF sorts after every other character, so `prefix + _MAX_CHAR` is past every
# key that starts with `prefix` (keys are valid UTF-8).
_MAX_CHAR = "\U0010ffff"
_BATCH = 1000


@dataclass
class ListingPage:
    contents: list[ListedObject] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    # The last key or common prefix returned: AWS's NextMarker, and where a
    # continuation token resumes.
    last: str = ""


def _is_common_prefix(marker: str, prefix: str, delimiter: str) -> bool:
    """Whether `marker` is a CommonPrefix a page under `prefix` could have ended with."""
    return (
        marker.startswith(prefix)
        and marker.endswith(delimiter)
        and marker.find(delimiter, len(prefix)) == len(marker) - len(delimiter)
    )


def list_keys(
    store: S3Store, bucket: str, *, prefix: str, delimiter: str, after: str, max_keys: int
) -> ListingPage:
    """One page of keys > `after` under `prefix`, folded by `delimiter`."""
    page = ListingPage()
    if max_keys <= 0:
        return page
    count = 0
    cursor = max(after, prefix) if prefix else after
    inclusive = bool(prefix) and prefix > after
    if delimiter and _is_common_prefix(after, prefix, delimiter):
        # Skip every key folded into the common prefix the last page ended with.
        cursor, inclusive = after + _MAX_CHAR, False
    while True:
        # One row past what the page can still take tells whether it is truncated.
        want = min(_BATCH, max_keys - count + 1)
        if inclusive:
            batch = store.scan_keys_from(bucket, cursor, want)
            inclusive = False
        else:
            batch = store.scan_keys(bucket, cursor, want)
        if not batch:
            return page
        jumped = False
        for item in batch:
            if not item.key.startswith(prefix):
                return page
            if count == max_keys:
                page.is_truncated = True
                return page
            if delimiter:
                cut = item.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = item.key[: cut + len(delimiter)]
                    if common == after:
                        continue
                    page.common_prefixes.append(common)
                    page.last = common
                    count += 1
                    # Skip the rest of this common prefix with one index seek.
                    cursor = common + _MAX_CHAR
                    inclusive = False
                    jumped = True
                    break
            page.contents.append(item)
            page.last = item.key
            count += 1
            cursor = item.key
        if not jumped and len(batch) < want:
            return page  # the end of the bucket


@dataclass
class VersionPage:
    """One page of ListObjectVersions: versions and delete markers, newest first per key."""

    versions: list[tuple[StoredObject, bool]] = field(default_factory=list)  # (version, latest)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    next_key_marker: str = ""
    next_version_marker: str = ""


_TOP_SEQ = 2**63 - 1


def list_versions(
    conn: sqlite3.Connection,
    bucket: str,
    *,
    prefix: str,
    delimiter: str,
    key_marker: str,
    version_marker: str,
    max_keys: int,
) -> VersionPage:
    """Versions after (`key_marker`, `version_marker`) under `prefix`, folded by
    `delimiter`; each version, delete marker or common prefix counts towards `max_keys`.

    Without a version marker the listing starts after every version of `key_marker`
    (AWS's rule); with one, after that version of it.
    """
    page = VersionPage()
    if max_keys <= 0:
        return page
    key, below = key_marker, -1
    if key_marker and version_marker:
        seq = _versions.seq_of(conn, bucket, key_marker, version_marker)
        below = seq if seq is not None else -1
    if prefix > key:
        key, below = prefix, _TOP_SEQ
    elif delimiter and _is_common_prefix(key_marker, prefix, delimiter):
        # The last page ended with this common prefix: skip every key folded into it.
        key = key_marker + _MAX_CHAR
    mid_key = below not in (-1, _TOP_SEQ)
    previous_key: str | None = key if mid_key else None
    count = 0
    while True:
        want = min(_BATCH, max_keys - count + 1)
        batch = _versions.scan(conn, bucket, key, below, want)
        if not batch:
            return page
        jumped = False
        for version in batch:
            if not version.key.startswith(prefix):
                return page
            if count == max_keys:
                page.is_truncated = True
                return page
            if delimiter:
                cut = version.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = version.key[: cut + len(delimiter)]
                    page.common_prefixes.append(common)
                    page.next_key_marker, page.next_version_marker = common, ""
                    count += 1
                    key, below, jumped = common + _MAX_CHAR, -1, True
                    break
            page.versions.append((version, version.key != previous_key))
            previous_key = version.key
            page.next_key_marker, page.next_version_marker = version.key, version.version_id
            count += 1
            key, below = version.key, version.seq
        if not jumped and len(batch) < want:
            return page
