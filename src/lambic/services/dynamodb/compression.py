"""DynamoDB's request and response compression (gzip and deflate), as AWS serves it.

Requests: a body sent with `Content-Encoding: gzip` (one or more concatenated gzip
members) or `deflate` (a zlib stream, RFC 1950) is decompressed before parsing; any
other encoding, or a body that does not decode, is refused with a 500 as DynamoDB does.
The decoded body is bounded like an uncompressed one (16 MB).

Responses: a body over 4 KB is compressed when the first `Accept-Encoding` header asks
for gzip or deflate. DynamoDB reads that header its own way, and clients have come to
depend on it: entries are comma separated, names case-insensitive; an entry's quality
is the value after the first "q=" in its parameters (clamped to 1; unparsable means 1;
0 or less refuses the encoding); "*" stands for both, gzip first; an encoding named
explicitly wins a tie against one that only "*" admits, and otherwise the earlier entry
wins; anything else (identity, br, x-gzip, "gzip" in quotes) is ignored.
"""

from __future__ import annotations

import zlib

from lambic._http_limits import SERVICES_MAX_BODY_BYTES
from lambic.services.dynamodb.errors import InternalServerError

RESPONSE_COMPRESSION_THRESHOLD = 4096
_ENCODINGS = ("gzip", "deflate")
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def decode_request_body(body: bytes, encoding: str | None) -> bytes:
    """The request body with its Content-Encoding undone."""
    if encoding is None:
        return body
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return body
    if name == "gzip":
        return _inflate(body, _GZIP_WBITS, members=True)
    if name == "deflate":
        return _inflate(body, zlib.MAX_WBITS, members=False)
    raise InternalServerError(f"Unsupported Content-Encoding: {encoding}")


def _inflate(body: bytes, wbits: int, *, members: bool) -> bytes:
    out: list[bytes] = []
    size = 0
    data = body
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            # Bounded output: a small body may decode to far more than the request cap.
            chunk = inflater.decompress(data, SERVICES_MAX_BODY_BYTES - size + 1)
        except zlib.error as exc:
            raise InternalServerError("The request body could not be decompressed") from exc
        size += len(chunk)
        out.append(chunk)
        if size > SERVICES_MAX_BODY_BYTES:
            raise InternalServerError("The decompressed request body is too large")
        if not inflater.eof:
            raise InternalServerError("The request body could not be decompressed")
        data = inflater.unused_data
        if not data:
            return b"".join(out)
        if not members:
            raise InternalServerError("The request body could not be decompressed")


def choose_encoding(accept: str | None) -> str | None:
    """gzip, deflate or None for an Accept-Encoding value (see the module docstring)."""
    if not accept:
        return None
    explicit: dict[str, tuple[float, int]] = {}  # name -> (best quality, first position)
    wildcard: float | None = None
    for position, entry in enumerate(accept.split(",")):
        name, _, parameters = entry.partition(";")
        name = name.strip().lower()
        quality = _quality(parameters)
        if name == "*":
            wildcard = quality if wildcard is None else max(wildcard, quality)
        elif name in _ENCODINGS:
            best, first = explicit.get(name, (quality, position))
            explicit[name] = (max(best, quality), first)
    candidates: list[tuple[float, int, int, str]] = []
    for rank, name in enumerate(_ENCODINGS):
        if name in explicit:
            quality, position = explicit[name]
            candidates.append((quality, 1, -position, name))
        elif wildcard is not None:
            candidates.append((wildcard, 0, -rank, name))
    if not candidates:
        return None
    quality, *_, name = max(candidates)
    return name if quality > 0 else None


def _quality(parameters: str) -> float:
    start = parameters.find("q=")
    if start < 0:
        return 1.0
    text = parameters[start + 2 :].split(";", 1)[0]
    try:
        value = float(text)
    except ValueError:
        return 1.0
    return min(value, 1.0)


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        compressor = zlib.compressobj(6, zlib.DEFLATED, _GZIP_WBITS)
        return compressor.compress(body) + compressor.flush()
    return zlib.compress(body, 6)
