"""AWS's naming rules for general purpose buckets and object keys.

AWS rejects a bad bucket name with `InvalidBucketName` before looking anything up,
and a key longer than 1,024 UTF-8 bytes with `KeyTooLongError`; we mirror both.
"""

from __future__ import annotations

import re

from lambic.services.s3.errors import S3Error

MAX_KEY_BYTES = 1024

_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_IP_ADDRESS = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\Z")
# Prefixes and suffixes AWS reserves for its own features (access points, directory
# buckets, table buckets, Object Lambda, Multi-Region Access Points).
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid bucket name, or None when it is."""
    if not 3 <= len(name) <= 63:
        return "Bucket names must be between 3 (min) and 63 (max) characters long."
    if not _BUCKET_CHARS.match(name):
        return (
            "Bucket names can consist only of lowercase letters, numbers, dots and hyphens, "
            "and must begin and end with a letter or number."
        )
    if ".." in name:
        return "Bucket names must not contain two adjacent periods."
    if _IP_ADDRESS.match(name):
        return "Bucket names must not be formatted as an IP address."
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "Bucket names must not use a prefix or suffix reserved by Amazon S3."
    return None


def validate_bucket_name(name: str) -> None:
    """Raise AWS's `InvalidBucketName` for a name AWS would refuse to create."""
    if bucket_name_problem(name) is not None:
        raise S3Error("InvalidBucketName", BucketName=name)


def validate_key(key: str) -> None:
    """Raise AWS's `KeyTooLongError` for keys past 1,024 UTF-8 bytes."""
    if len(key) > MAX_KEY_BYTES // 4 and len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise S3Error(
            "KeyTooLongError",
            Size=len(key.encode("utf-8", "surrogatepass")),
            MaxSizeAllowed=MAX_KEY_BYTES,
        )
