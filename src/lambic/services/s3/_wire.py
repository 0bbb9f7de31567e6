"""Small wire helpers shared by the S3 handlers: XML, dates, ids, checksums, ranges."""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import time
import zlib
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote_to_bytes

from lambic.project.account import LOCAL_CANONICAL_USER_ID, LOCAL_DISPLAY_NAME
from lambic.services._query_xml import escape
from lambic.services.s3 import crc
from lambic.services.s3.errors import S3Error

if TYPE_CHECKING:
    from lambic.project.identities import Account

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def request_ids() -> tuple[str, str]:
    """(x-amz-request-id, x-amz-id-2) shaped like AWS's: 16 hex chars and base64 text.

    Identifiers, not secrets: `random` avoids a getrandom syscall on every request.
    """
    return (
        f"{random.getrandbits(64):016X}",
        base64.b64encode(random.getrandbits(256).to_bytes(32, "big")).decode(),
    )


def x(text: str) -> str:
    """Escape text for an XML element."""
    return escape(text)


def element(name: str, value: str | int) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def document(root: str, inner: str) -> bytes:
    return f'{XML_DECL}<{root} xmlns="{NS}">{inner}</{root}>'.encode()


def owner_fields(owner: Account | None = None) -> str:
    """An owner's ID and DisplayName (None: the default account's)."""
    if owner is None:
        return _DEFAULT_OWNER
    name = f"<DisplayName>{escape(owner.display_name)}</DisplayName>" if owner.display_name else ""
    return f"<ID>{escape(owner.canonical_id)}</ID>{name}"


_DEFAULT_OWNER = (
    f"<ID>{LOCAL_CANONICAL_USER_ID}</ID><DisplayName>{LOCAL_DISPLAY_NAME}</DisplayName>"
)


def owner_xml(tag: str = "Owner", owner: Account | None = None) -> str:
    return f"<{tag}>{owner_fields(owner)}</{tag}>"


def http_date(timestamp: float) -> str:
    """RFC 1123 date with second resolution, as in Last-Modified."""
    return _http_date(int(timestamp))


@lru_cache(maxsize=4096)
def _http_date(seconds: int) -> str:
    return formatdate(seconds, usegmt=True)


def iso_date(timestamp: float) -> str:
    """ISO 8601 with milliseconds, as in ListObjects' LastModified."""
    seconds = int(timestamp)
    millis = int((timestamp - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def parse_http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def decode_uri_part(raw: str) -> str:
    """A percent-encoded path part (as received, latin-1 text) → the key it names.

    Byte-exact: the percent-escapes and any raw bytes are decoded as UTF-8 together,
    and bytes that are not UTF-8 are refused with S3's InvalidURI ("Couldn't parse
    the specified URI.") rather than replaced, so `a%FFb` and `a%FEb` can never
    become the same key.

    >>> decode_uri_part("caf%C3%A9/a%20b")
    'café/a b'
    """
    if "%" not in raw and raw.isascii():
        return raw
    # The edge hands paths over as latin-1 text (one char per byte); an in-process
    # caller may pass real text, whose bytes are its UTF-8.
    raw_bytes = raw.encode("latin-1") if max(raw) <= "\xff" else raw.encode("utf-8")
    try:
        return unquote_to_bytes(raw_bytes).decode("utf-8")
    except UnicodeError as exc:
        raise S3Error("InvalidURI", URI=raw) from exc


def url_encode(text: str) -> str:
    """`encoding-type=url`: percent-encoding as AWS writes it (a space is %20, a plus
    %2B), which botocore decodes with unquote_plus when it asked for the encoding."""
    return quote(text, safe="/")


# -- checksums -------------------------------------------------------------------


def _crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# Every algorithm S3 offers is computed here and checked as AWS checks it.
_COMPUTABLE: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": _crc32,
    "CRC32C": crc.crc32c,
    "SHA1": _sha1,
    "SHA256": _sha256,
    "CRC64NVME": crc.crc64nvme,
}
CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME")


def checksum_of(algorithm: str, data: bytes) -> str | None:
    compute = _COMPUTABLE.get(algorithm)
    return base64.b64encode(compute(data)).decode() if compute else None


def verify_checksums(claimed: dict[str, str], data: bytes) -> dict[str, str]:
    """Check each `x-amz-checksum-<alg>` value; raise AWS's BadDigest on a mismatch."""
    return compare_checksums(claimed, {alg: checksum_of(alg, data) for alg in claimed})


def compare_checksums(claimed: dict[str, str], actual: dict[str, str | None]) -> dict[str, str]:
    """`verify_checksums` with the values already computed (a streamed upload);
    None for an algorithm we cannot compute."""
    for algorithm, value in claimed.items():
        computed = actual.get(algorithm)
        if computed is not None and computed != value:
            raise S3Error(
                "BadDigest", f"The {algorithm} you specified did not match the calculated checksum."
            )
    return claimed


def verify_content_md5(header: str, data: bytes) -> None:
    """Content-MD5: InvalidDigest when not a base64 MD5, BadDigest when it differs."""
    compare_md5(header, parse_content_md5(header), hashlib.md5(data).digest())


def parse_content_md5(header: str) -> bytes:
    """The 16-byte digest a Content-MD5 header names; InvalidDigest if it names none."""
    try:
        digest = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise S3Error("InvalidDigest", **{"Content-MD5": header}) from exc
    if len(digest) != 16:
        raise S3Error("InvalidDigest", **{"Content-MD5": header})
    return digest


def compare_md5(header: str, digest: bytes, actual: bytes) -> None:
    if digest != actual:
        raise S3Error(
            "BadDigest",
            ExpectedDigest=digest.hex(),
            CalculatedDigest=base64.b64encode(actual).decode(),
        )


# -- ranges ----------------------------------------------------------------------


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """`bytes=a-b`, `bytes=a-`, `bytes=-n` → (start, end_exclusive), or None to ignore.

    AWS ignores a Range it cannot parse (and multi-range requests) and serves the
    whole object; an unsatisfiable one is 416 InvalidRange.
    """
    if not header.startswith("bytes=") or "," in header:
        return None
    spec = header[6:].strip()
    first, sep, last = spec.partition("-")
    if not sep:
        return None
    try:
        if not first:
            suffix = int(last)
            if suffix < 0:
                return None
            if suffix == 0 or size == 0:
                raise _unsatisfiable(header, size)
            return max(0, size - suffix), size
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start < 0 or (last and end < start):
        return None
    if start >= size:
        raise _unsatisfiable(header, size)
    return start, min(end, size - 1) + 1


def _unsatisfiable(header: str, size: int) -> S3Error:
    return S3Error("InvalidRange", RangeRequested=header, ActualObjectSize=size)
