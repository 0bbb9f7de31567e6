"""Decoding `Content-Encoding: aws-chunked` request bodies.

botocore ≥ 1.36 (and every SDK using flexible checksums) may send an upload as
`aws-chunked`: `<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n` repeated, a
zero-size chunk, then optional trailing headers (`x-amz-checksum-crc32:...`, and for
the signed-trailer variant `x-amz-trailer-signature:...`) and a blank line. The
`x-amz-content-sha256` header names the variant:

- `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: no chunk signatures;
- `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: each chunk signs the previous
  signature and the chunk's SHA-256; verified when the edge checked the seed
  signature (`ServiceRequest.signing`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from lambic.services.base import SigningContext
from lambic.services.s3.errors import S3Error

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Data is read (and hashed) in pieces of this size, whatever size a chunk declares.
_PIECE = 1024 * 1024
# A chunk header line ("<hex>;chunk-signature=<64 hex>") and the trailer block are small.
_MAX_LINE = 4096
_MAX_TRAILERS = 64 * 1024


@dataclass
class ChunkedBody:
    data: bytes
    trailers: dict[str, str] = field(default_factory=dict)


def _signature_mismatch() -> S3Error:
    return S3Error("SignatureDoesNotMatch")


def decode_aws_chunked(body: bytes, signing: SigningContext | None = None) -> ChunkedBody:
    """Strip the chunk framing; verify chunk signatures when `signing` is given."""
    pieces: list[bytes] = []
    trailers = decode_aws_chunked_stream(io.BytesIO(body), pieces.append, signing)
    return ChunkedBody(b"".join(pieces), trailers)


def decode_aws_chunked_stream(
    source: BinaryIO, sink: Callable[[bytes], object], signing: SigningContext | None = None
) -> dict[str, str]:
    """Decode `source` piece by piece into `sink` (a file's `write`), in bounded memory
    whatever the chunk sizes; returns the trailing headers."""
    previous = signing.seed_signature if signing else ""
    while True:
        header = _line(source)
        size_text, _, extension = header.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError as exc:
            raise S3Error("IncompleteBody", "The chunk size is not valid hexadecimal.") from exc
        digest = hashlib.sha256()
        remaining = size
        while remaining > 0:
            piece = source.read(min(remaining, _PIECE))
            if not piece:
                raise S3Error("IncompleteBody")
            digest.update(piece)
            sink(piece)
            remaining -= len(piece)
        if signing is not None and extension.startswith("chunk-signature="):
            claimed = extension[len("chunk-signature=") :].strip()
            expected = _chunk_signature(signing, previous, digest.hexdigest())
            if not hmac.compare_digest(claimed, expected):
                raise _signature_mismatch()
            previous = expected
        if size == 0:
            break
        if source.read(2) != b"\r\n":
            raise S3Error("IncompleteBody")
    return _trailers(source, signing, previous)


def _line(source: BinaryIO) -> str:
    raw = source.readline(_MAX_LINE)
    if not raw.endswith(b"\r\n"):
        raise S3Error("IncompleteBody")
    return raw[:-2].decode("latin-1")


def _trailers(source: BinaryIO, signing: SigningContext | None, previous: str) -> dict[str, str]:
    """Trailing headers up to the blank line (or the end of the body)."""
    trailers: dict[str, str] = {}
    trailer_lines: list[str] = []
    for raw_line in source.read(_MAX_TRAILERS + 1)[:_MAX_TRAILERS].split(b"\r\n"):
        if not raw_line:
            continue
        line = raw_line.decode("latin-1")
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "x-amz-trailer-signature":
            if signing is not None:
                canonical = "".join(f"{t}\n" for t in trailer_lines)
                expected = _trailer_signature(signing, previous, canonical.encode())
                if not hmac.compare_digest(value.strip(), expected):
                    raise _signature_mismatch()
            continue
        trailer_lines.append(f"{name}:{value.strip()}")
        trailers[name] = value.strip()
    return trailers


def _chunk_signature(signing: SigningContext, previous: str, digest: str) -> str:
    return _signature(signing, "AWS4-HMAC-SHA256-PAYLOAD", previous, _EMPTY_SHA256, digest)


def _trailer_signature(signing: SigningContext, previous: str, trailer: bytes) -> str:
    digest = hashlib.sha256(trailer).hexdigest()
    return _signature(signing, "AWS4-HMAC-SHA256-TRAILER", previous, digest)


def _signature(signing: SigningContext, algorithm: str, previous: str, *digests: str) -> str:
    """SigV4 streaming signature: each chunk or trailer chains from the previous one."""
    string_to_sign = "\n".join([algorithm, signing.timestamp, signing.scope, previous, *digests])
    return hmac.new(signing.key, string_to_sign.encode(), hashlib.sha256).hexdigest()
