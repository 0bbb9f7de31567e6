"""Reading an upload off the wire: aws-chunked framing, Content-MD5, checksums, metadata."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import zlib
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl

from lambic.services.base import Headers, ServiceRequest
from lambic.services.s3 import crc
from lambic.services.s3._blobs import BlobStore
from lambic.services.s3._chunked import decode_aws_chunked, decode_aws_chunked_stream
from lambic.services.s3._wire import (
    CHECKSUM_ALGORITHMS,
    checksum_of,
    compare_checksums,
    compare_md5,
    parse_content_md5,
    verify_checksums,
    verify_content_md5,
)
from lambic.services.s3.engine import StagedBlob
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import ObjectAttrs

# System headers S3 stores with an object and returns on GET/HEAD, by their
# canonical spelling.
STORED_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Content-Disposition",
    "Content-Language",
    "Cache-Control",
    "Expires",
    "x-amz-website-redirect-location",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-bucket-key-enabled",
)
_SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
MAX_METADATA_BYTES = 2048  # AWS: user-defined metadata is limited to 2 KB
MAX_PUT_BYTES = 5 * 1024 * 1024 * 1024
MAX_TAGS = 10
_READ_BYTES = 1024 * 1024


class UploadedBody:
    """The body of a PUT/UploadPart after framing is removed and integrity checked:
    bytes, or for a spooled upload a blob already in the store."""

    __slots__ = ("checksums", "data", "digests", "trailers")

    def __init__(
        self,
        data: bytes | StagedBlob,
        checksums: dict[str, str],
        trailers: dict[str, str],
        digests: dict[str, str | None] | None = None,
    ) -> None:
        self.data = data
        self.checksums = checksums
        self.trailers = trailers
        # A spooled body's checksums computed in its one pass (its bytes are not in
        # memory to compute more afterwards).
        self.digests = digests or {}

    def computed(self, algorithm: str) -> str | None:
        """The body's `algorithm` checksum as computed here (None: not computable)."""
        if isinstance(self.data, bytes):
            return checksum_of(algorithm, self.data)
        return self.digests.get(algorithm)


def is_aws_chunked(headers: Headers) -> bool:
    """Whether the body is in aws-chunked framing: a STREAMING-* payload hash, or
    `Content-Encoding: aws-chunked` with the `x-amz-decoded-content-length` such a body
    must declare (a client may name aws-chunked and send plain bytes: AWS stores them)."""
    if headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        return True
    return "aws-chunked" in headers.get("content-encoding", "") and (
        "x-amz-decoded-content-length" in headers
    )


def read_upload(request: ServiceRequest) -> UploadedBody:
    """The body of a PUT/UploadPart held in memory (see `read_spooled_upload`)."""
    headers = request.headers
    body = request.body
    trailers: dict[str, str] = {}
    if is_aws_chunked(headers):
        decoded = decode_aws_chunked(body, request.signing)
        body, trailers = decoded.data, decoded.trailers
        declared = headers.get("x-amz-decoded-content-length")
        if declared is not None and declared.isdigit() and int(declared) != len(body):
            raise S3Error("IncompleteBody")
    if len(body) > MAX_PUT_BYTES:
        raise S3Error("EntityTooLarge", ProposedSize=len(body), MaxSizeAllowed=MAX_PUT_BYTES)
    md5 = headers.get("content-md5")
    if md5 is not None:
        verify_content_md5(md5, body)
    claimed: dict[str, str] = {}
    for algorithm in CHECKSUM_ALGORITHMS:
        name = f"x-amz-checksum-{algorithm.lower()}"
        value = trailers.get(name) or headers.get(name)
        if value:
            claimed[algorithm] = value
    verify_checksums(claimed, body)
    return UploadedBody(body, claimed, trailers)


async def read_spooled_upload(
    request: ServiceRequest, blobs: BlobStore, also: tuple[str, ...] = ()
) -> UploadedBody:
    """`read_upload` for a body the edge spooled to a file (`request.body_file`).

    One pass over the file, off the event loop, strips any aws-chunked framing into a
    second file and computes the MD5 (the ETag) and the checksums the client claims;
    the finished file then becomes the blob by a rename. Memory stays bounded by the
    read size whatever the upload's size. `also`: checksum algorithms to compute in
    that pass besides those the client claims (`UploadedBody.computed`).
    """
    spooled = request.body_file
    if spooled is None:
        raise ValueError("the request has no spooled body")
    staged = await staging_thread(
        lambda: _check_spooled(request, spooled.path, also), lambda c: c.path
    )
    blob = blobs.adopt(staged.path)
    etag = f'"{staged.md5.hex()}"'
    return UploadedBody(
        StagedBlob(blob, staged.size, etag), staged.checksums, staged.trailers, staged.digests
    )


_T = TypeVar("_T")


async def staging_thread(work: Callable[[], _T], made: Callable[[_T], str]) -> _T:
    """Run `work` (a pass over a spooled body that writes the file `made(result)`) on
    a thread. If the request is cancelled meanwhile (the client went away), the thread
    still finishes, and the file it made is removed then instead of being left behind."""
    future = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(lambda done: _remove_made(done, made))
        raise


def _remove_made(done: asyncio.Future[_T], made: Callable[[_T], str]) -> None:
    if done.cancelled() or done.exception() is not None:
        return  # the pass cleans up after itself when it fails
    with contextlib.suppress(FileNotFoundError):
        os.unlink(made(done.result()))


class _Checked:
    __slots__ = ("checksums", "digests", "md5", "path", "size", "trailers")

    def __init__(
        self,
        path: str,
        size: int,
        md5: bytes,
        checksums: dict[str, str],
        trailers: dict[str, str],
        digests: dict[str, str | None],
    ) -> None:
        self.path = path
        self.size = size
        self.md5 = md5
        self.checksums = checksums
        self.trailers = trailers
        self.digests = digests


# The CRCs zlib lacks (`crc`), by their S3 names.
_OTHER_CRCS = {"CRC32C": (crc.CRC32C_POLY, 32), "CRC64NVME": (crc.CRC64NVME_POLY, 64)}


class Digests:
    """MD5 (the ETag) and the checksums an upload may claim, computed as bytes pass."""

    def __init__(self, algorithms: list[str]) -> None:
        self.size = 0
        self.md5 = hashlib.md5()
        self._crc32: int | None = 0 if "CRC32" in algorithms else None
        self._hashes = {
            name: hashlib.new(name.lower()) for name in ("SHA1", "SHA256") if name in algorithms
        }
        self._crcs = {
            name: crc.Crc(poly, width)
            for name, (poly, width) in _OTHER_CRCS.items()
            if name in algorithms
        }

    def update(self, data: bytes) -> None:
        self.size += len(data)
        self.md5.update(data)
        if self._crc32 is not None:
            self._crc32 = zlib.crc32(data, self._crc32)
        for digest in self._hashes.values():
            digest.update(data)
        for other in self._crcs.values():
            other.update(data)

    def values(self) -> dict[str, str | None]:
        found: dict[str, str | None] = {
            name: base64.b64encode(digest.digest()).decode()
            for name, digest in self._hashes.items()
        }
        if self._crc32 is not None:
            found["CRC32"] = base64.b64encode(self._crc32.to_bytes(4, "big")).decode()
        for name, other in self._crcs.items():
            found[name] = base64.b64encode(other.digest()).decode()
        return found


def _check_spooled(request: ServiceRequest, path: str, also: tuple[str, ...] = ()) -> _Checked:
    headers = request.headers
    named = (headers.get("x-amz-trailer", "") + "," + ",".join(headers)).lower()
    digests = Digests(
        [a for a in CHECKSUM_ALGORITHMS if f"x-amz-checksum-{a.lower()}" in named or a in also]
    )
    trailers: dict[str, str] = {}
    final = path
    with open(path, "rb") as source:
        if is_aws_chunked(headers):
            final = f"{path}.decoded"
            try:
                with open(final, "wb") as out:

                    def sink(piece: bytes) -> None:
                        digests.update(piece)
                        out.write(piece)

                    trailers = decode_aws_chunked_stream(source, sink, request.signing)
                declared = headers.get("x-amz-decoded-content-length")
                if declared is not None and declared.isdigit() and int(declared) != digests.size:
                    raise S3Error("IncompleteBody")
                _check_digests(headers, trailers, digests)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(final)
                raise
        else:
            while piece := source.read(_READ_BYTES):
                digests.update(piece)
            _check_digests(headers, trailers, digests)
    claimed = _claimed(headers, trailers)
    return _Checked(final, digests.size, digests.md5.digest(), claimed, trailers, digests.values())


def _check_digests(headers: Headers, trailers: dict[str, str], digests: Digests) -> None:
    if digests.size > MAX_PUT_BYTES:
        raise S3Error("EntityTooLarge", ProposedSize=digests.size, MaxSizeAllowed=MAX_PUT_BYTES)
    md5 = headers.get("content-md5")
    if md5 is not None:
        compare_md5(md5, parse_content_md5(md5), digests.md5.digest())
    compare_checksums(_claimed(headers, trailers), digests.values())


def _claimed(headers: Headers, trailers: dict[str, str]) -> dict[str, str]:
    claimed: dict[str, str] = {}
    for algorithm in CHECKSUM_ALGORITHMS:
        name = f"x-amz-checksum-{algorithm.lower()}"
        value = trailers.get(name) or headers.get(name)
        if value:
            claimed[algorithm] = value
    return claimed


def attrs_from_headers(headers: Headers, checksums: dict[str, str] | None = None) -> ObjectAttrs:
    """The object attributes a PUT / CreateMultipartUpload / REPLACE copy sets."""
    stored: dict[str, str] = {}
    for name in STORED_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        if name == "Content-Encoding":
            # aws-chunked is transfer framing, not a property of the object; the rest
            # is kept as sent ("deflate, gzip").
            if "aws-chunked" in value:
                value = ", ".join(
                    t for t in (t.strip() for t in value.split(",")) if t != "aws-chunked"
                )
            if not value:
                continue
        stored[name] = value
    stored.setdefault("Content-Type", "binary/octet-stream")
    sse = stored.get("x-amz-server-side-encryption")
    if sse is not None and sse not in _SSE_ALGORITHMS:
        raise S3Error(
            "InvalidArgument",
            "The encryption method specified is not supported",
            ArgumentName="x-amz-server-side-encryption",
            ArgumentValue=sse,
        )
    storage_class = headers.get("x-amz-storage-class")
    if storage_class and storage_class != "STANDARD":
        stored["x-amz-storage-class"] = storage_class
    metadata: dict[str, str] = {}
    size = 0
    for name, value in headers.raw_items():
        lower = name.lower()
        if lower.startswith("x-amz-meta-"):
            meta_name = lower[len("x-amz-meta-") :]
            value = _header_text(value)
            metadata[meta_name] = value
            size += len(meta_name.encode()) + len(value.encode())
    if size > MAX_METADATA_BYTES:
        raise S3Error("MetadataTooLarge", Size=size, MaxSizeAllowed=MAX_METADATA_BYTES)
    tagging = headers.get("x-amz-tagging")
    tags = validate_tags(parse_qsl(tagging, keep_blank_values=True)) if tagging else {}
    return ObjectAttrs(stored, metadata, dict(checksums or {}), 0, tags)


def _header_text(value: str) -> str:
    """A metadata value as the client meant it: SDKs send UTF-8 bytes, which the edge
    decoded as ISO-8859-1 (HTTP's default); bytes that are not UTF-8 stay as they were."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def validate_tags(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """AWS's object tag limits: 10 tags, keys up to 128 and values up to 256 characters."""
    if len(pairs) > MAX_TAGS:
        raise S3Error("InvalidTag", "Object tags cannot be greater than 10")
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise S3Error(
                "InvalidTag", "Cannot provide multiple Tags with the same key", TagKey=key
            )
        if not 1 <= len(key) <= 128:
            raise S3Error("InvalidTag", "The TagKey you have provided is invalid", TagKey=key)
        if len(value) > 256:
            raise S3Error(
                "InvalidTag",
                "The TagValue you have provided is invalid",
                TagKey=key,
                TagValue=value,
            )
        tags[key] = value
    return tags
