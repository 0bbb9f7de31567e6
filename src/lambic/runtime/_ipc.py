"""Frames between the invoker and an execution environment (one socketpair each).

A frame is a 9-byte header `<kind:u8><meta_len:u32><body_len:u32>` followed by a
small JSON `meta` object and the raw `body` bytes (the event or the result), so a
payload is never re-encoded on the way through. One invocation costs one frame each
way; there is no per-request process, thread or connection.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

__all__ = [
    "HEADER",
    "INVOKE",
    "READY",
    "RESULT",
    "FrameReader",
    "encode_frame",
    "recv_frame",
    "send_frame",
]

HEADER = struct.Struct("<BII")
READY = 1  # environment -> invoker, once: init finished (or failed)
INVOKE = 2  # invoker -> environment: run the handler on this event
RESULT = 3  # environment -> invoker: the handler's result or error

Frame = tuple[int, dict[str, Any], bytes]


def encode_frame(kind: int, meta: dict[str, Any], body: bytes = b"") -> bytes:
    raw_meta = json.dumps(meta, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(kind, len(raw_meta), len(body)) + raw_meta + body


class FrameReader:
    """Incremental parser for the invoker's side (fed from an asyncio Protocol)."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        size = HEADER.size
        while len(buf) >= size:
            kind, meta_len, body_len = HEADER.unpack_from(buf)
            end = size + meta_len + body_len
            if len(buf) < end:
                break
            meta = json.loads(bytes(buf[size : size + meta_len])) if meta_len else {}
            frames.append((kind, meta, bytes(buf[size + meta_len : end])))
            del buf[:end]
        return frames


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def recv_frame(sock: socket.socket) -> Frame | None:
    """Blocking read of one frame (the environment's side); None at end of stream."""
    header = _recv_exact(sock, HEADER.size)
    if header is None:
        return None
    kind, meta_len, body_len = HEADER.unpack(header)
    rest = _recv_exact(sock, meta_len + body_len) if meta_len + body_len else b""
    if rest is None:
        return None
    meta = json.loads(rest[:meta_len]) if meta_len else {}
    return kind, meta, rest[meta_len:]


def send_frame(sock: socket.socket, kind: int, meta: dict[str, Any], body: bytes = b"") -> None:
    sock.sendall(encode_frame(kind, meta, body))
