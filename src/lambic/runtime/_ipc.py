"""Frames between the invoker and an execution environment (one socketpair each).

A frame is a 9-byte header `<kind:u8><meta_len:u32><body_len:u32>`, a small `meta`
part and the raw `body` bytes (the event or the result), so a payload is never
re-encoded on the way through. One invocation costs one frame each way; there is no
per-request process, thread or connection.

`meta` is JSON for the rare frames (READY, errors, client context) and a packed
struct for the two on every warm invocation (INVOKE_FAST, RESULT_OK): at gateway
rates the JSON round trips were a measurable share of the invoker's time.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

__all__ = [
    "HEADER",
    "INVOKE",
    "INVOKE_FAST",
    "READY",
    "RESULT",
    "RESULT_OK",
    "FrameReader",
    "encode_frame",
    "recv_frame",
    "send_frame",
]

HEADER = struct.Struct("<BII")
READY = 1  # environment -> invoker, once: init finished (or failed); JSON meta
INVOKE = 2  # invoker -> environment, JSON meta (with client_context)
RESULT = 3  # environment -> invoker: an error result; JSON meta
INVOKE_FAST = 4  # invoker -> environment: deadline_ms:i64, id length:u8, id, trace id
RESULT_OK = 5  # environment -> invoker: handler returned; meta = maxrss_kb:i64

_I64 = struct.Struct("<q")

Frame = tuple[int, dict[str, Any], bytes]


def encode_frame(kind: int, meta: dict[str, Any], body: bytes = b"") -> bytes:
    raw: bytes
    if kind == INVOKE_FAST:
        request_id: bytes = meta["request_id"].encode("ascii")
        trace_id: bytes = meta.get("trace_id", "").encode("ascii")
        raw = _I64.pack(meta["deadline_ms"]) + bytes((len(request_id),)) + request_id + trace_id
    elif kind == RESULT_OK:
        raw = _I64.pack(meta["maxrss_kb"])
    else:
        raw = json.dumps(meta, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(kind, len(raw), len(body)) + raw + body


def _decode_meta(kind: int, raw: bytes) -> dict[str, Any]:
    if kind == INVOKE_FAST:
        end = 9 + raw[8]
        meta = {"deadline_ms": _I64.unpack_from(raw)[0], "request_id": raw[9:end].decode("ascii")}
        if len(raw) > end:
            meta["trace_id"] = raw[end:].decode("ascii")
        return meta
    if kind == RESULT_OK:
        return {"maxrss_kb": _I64.unpack_from(raw)[0]}
    return json.loads(raw) if raw else {}


class FrameReader:
    """Incremental frame parser, fed with whatever the socket delivered."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._buf
        if not buf and len(data) >= HEADER.size:
            # The usual case: exactly one whole frame arrived; no buffer copies.
            kind, meta_len, body_len = HEADER.unpack_from(data)
            end = HEADER.size + meta_len + body_len
            if len(data) == end:
                meta_end = HEADER.size + meta_len
                return [(kind, _decode_meta(kind, data[HEADER.size : meta_end]), data[meta_end:])]
        buf += data
        frames: list[Frame] = []
        size = HEADER.size
        while len(buf) >= size:
            kind, meta_len, body_len = HEADER.unpack_from(buf)
            end = size + meta_len + body_len
            if len(buf) < end:
                break
            meta = _decode_meta(kind, bytes(buf[size : size + meta_len]))
            frames.append((kind, meta, bytes(buf[size + meta_len : end])))
            del buf[:end]
        return frames


class BlockingFrameSocket:
    """The environment's side: blocking reads, one recv for a typical small frame."""

    __slots__ = ("_pending", "_reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._reader = FrameReader()
        self._pending: list[Frame] = []

    def recv(self) -> Frame | None:
        """The next frame; None at end of stream."""
        while not self._pending:
            chunk = self.sock.recv(262144)
            if not chunk:
                return None
            self._pending = self._reader.feed(chunk)
        return self._pending.pop(0)

    def send(self, kind: int, meta: dict[str, Any], body: bytes = b"") -> None:
        self.sock.sendall(encode_frame(kind, meta, body))


def recv_frame(sock: socket.socket) -> Frame | None:
    """Blocking read of one frame (unbuffered: for tests and one-off reads)."""
    header = _recv_exact(sock, HEADER.size)
    if header is None:
        return None
    kind, meta_len, body_len = HEADER.unpack(header)
    rest = _recv_exact(sock, meta_len + body_len) if meta_len + body_len else b""
    if rest is None:
        return None
    return kind, _decode_meta(kind, rest[:meta_len]), rest[meta_len:]


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def send_frame(sock: socket.socket, kind: int, meta: dict[str, Any], body: bytes = b"") -> None:
    sock.sendall(encode_frame(kind, meta, body))
