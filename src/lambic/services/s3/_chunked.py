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
from dataclasses import dataclass, field

from lambic.services.base import SigningContext
from lambic.services.s3.errors import S3Error

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass
class ChunkedBody:
    data: bytes
    trailers: dict[str, str] = field(default_factory=dict)


def _signature_mismatch() -> S3Error:
    return S3Error("SignatureDoesNotMatch")


def decode_aws_chunked(body: bytes, signing: SigningContext | None = None) -> ChunkedBody:
    """Strip the chunk framing; verify chunk signatures when `signing` is given."""
    pieces: list[bytes] = []
    trailers: dict[str, str] = {}
    previous = signing.seed_signature if signing else ""
    pos = 0
    total = len(body)
    while True:
        line_end = body.find(b"\r\n", pos)
        if line_end < 0:
            raise S3Error("IncompleteBody")
        header = body[pos:line_end].decode("latin-1")
        size_text, _, extension = header.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError as exc:
            raise S3Error("IncompleteBody", "The chunk size is not valid hexadecimal.") from exc
        start = line_end + 2
        chunk = body[start : start + size]
        if len(chunk) != size:
            raise S3Error("IncompleteBody")
        if signing is not None and extension.startswith("chunk-signature="):
            claimed = extension[len("chunk-signature=") :].strip()
            expected = _chunk_signature(signing, previous, chunk)
            if not hmac.compare_digest(claimed, expected):
                raise _signature_mismatch()
            previous = expected
        if size == 0:
            pos = start
            break
        pieces.append(chunk)
        pos = start + size
        if body[pos : pos + 2] != b"\r\n":
            raise S3Error("IncompleteBody")
        pos += 2
    # Trailing headers up to the blank line (or the end of the body).
    trailer_lines: list[str] = []
    for raw_line in body[pos:total].split(b"\r\n"):
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
    return ChunkedBody(b"".join(pieces), trailers)


def _chunk_signature(signing: SigningContext, previous: str, chunk: bytes) -> str:
    digest = hashlib.sha256(chunk).hexdigest()
    return _signature(signing, "AWS4-HMAC-SHA256-PAYLOAD", previous, _EMPTY_SHA256, digest)


def _trailer_signature(signing: SigningContext, previous: str, trailer: bytes) -> str:
    digest = hashlib.sha256(trailer).hexdigest()
    return _signature(signing, "AWS4-HMAC-SHA256-TRAILER", previous, digest)


def _signature(signing: SigningContext, algorithm: str, previous: str, *digests: str) -> str:
    """SigV4 streaming signature: each chunk or trailer chains from the previous one."""
    string_to_sign = "\n".join([algorithm, signing.timestamp, signing.scope, previous, *digests])
    return hmac.new(signing.key, string_to_sign.encode(), hashlib.sha256).hexdigest()
