"""RFC 6455 on the server side: the opening handshake's accept key and the frame codec.

Only what a server needs: client frames arrive masked (an unmasked one is a protocol
error, 1002); server frames leave unmasked. No extensions are negotiated
(permessage-deflate is optional for a server and API Gateway's limits count raw
bytes). `FrameParser` is incremental: feed it bytes as they arrive and take whole
frames; a frame header announcing more than `max_frame` bytes is refused before
its payload is read, which is how API Gateway's 32 KB frame quota is enforced.

    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")   # RFC 6455 section 1.3's example
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    >>> frame = encode_frame(OP_TEXT, b"hi")
    >>> frame
    b'\\x81\\x02hi'
"""

from __future__ import annotations

import base64
import hashlib
import struct

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_DATA",
    "CLOSE_NORMAL",
    "CLOSE_NO_STATUS",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_TOO_BIG",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Frame",
    "FrameParser",
    "ProtocolError",
    "accept_key",
    "close_payload",
    "encode_frame",
    "parse_close",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_DATA_OPS = frozenset({OP_CONTINUATION, OP_TEXT, OP_BINARY})
_CONTROL_OPS = frozenset({OP_CLOSE, OP_PING, OP_PONG})

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005  # never sent: what a close frame without a code means
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


class ProtocolError(Exception):
    """The peer broke RFC 6455; `code` is the close code to answer with."""

    def __init__(self, message: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One unmasked (server) frame."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", first, n) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", first, 126, n) + payload
    return struct.pack("!BBQ", first, 127, n) + payload


def close_payload(code: int | None, reason: str = "") -> bytes:
    """A close frame's body: the code (none for 1005) and a UTF-8 reason."""
    if code is None or code == CLOSE_NO_STATUS:
        return b""
    return struct.pack("!H", code) + reason.encode("utf-8")[:123]


def parse_close(payload: bytes) -> tuple[int, str]:
    """(code, reason) of a received close frame; 1005 when it carries no code."""
    if not payload:
        return CLOSE_NO_STATUS, ""
    if len(payload) == 1:
        raise ProtocolError("a close frame body must hold a 2-byte code")
    (code,) = struct.unpack("!H", payload[:2])
    if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise ProtocolError(f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("close reason is not UTF-8", CLOSE_INVALID_DATA) from exc
    return code, reason


class Frame:
    """One received frame (payload unmasked)."""

    __slots__ = ("fin", "opcode", "payload")

    def __init__(self, fin: bool, opcode: int, payload: bytes) -> None:
        self.fin = fin
        self.opcode = opcode
        self.payload = payload


def _unmask(payload: bytes, mask: bytes) -> bytes:
    # XOR with the repeated 4-byte key as one big integer: no Python-level loop.
    n = len(payload)
    if n == 0:
        return payload
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class FrameParser:
    """Incremental parser of client frames; `feed(data)` returns the whole frames."""

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _next(self) -> Frame | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        if first & 0x70:
            raise ProtocolError("reserved bits set without a negotiated extension")
        opcode = first & 0x0F
        fin = bool(first & 0x80)
        if opcode not in _DATA_OPS and opcode not in _CONTROL_OPS:
            raise ProtocolError(f"unknown opcode {opcode:#x}")
        if not second & 0x80:
            raise ProtocolError("a client frame must be masked")
        length = second & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                return None
            (length,) = struct.unpack_from("!H", buf, 2)
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            (length,) = struct.unpack_from("!Q", buf, 2)
            offset = 10
        if opcode in _CONTROL_OPS and (length > 125 or not fin):
            raise ProtocolError("a control frame must be whole and at most 125 bytes")
        if length > self.max_frame:
            raise ProtocolError(f"frame of {length} bytes is over the limit", CLOSE_TOO_BIG)
        end = offset + 4 + length
        if len(buf) < end:
            return None
        mask = bytes(buf[offset : offset + 4])
        payload = _unmask(bytes(buf[offset + 4 : end]), mask)
        del buf[:end]
        return Frame(fin, opcode, payload)
