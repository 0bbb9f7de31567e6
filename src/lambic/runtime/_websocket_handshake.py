"""The HTTP side of the WebSocket server: API Gateway's handshake answers and helpers.

Pure functions and constants (`websocket_server` does the I/O): the answers API
Gateway gives a handshake it refuses, the raw HTTP response bytes, the query of a
handshake, the `$connect` handler's verdict and the headers `$disconnect` carries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from lambic._http_site import REASONS

__all__ = [
    "BAD_REQUEST",
    "FORBIDDEN",
    "HEAD_TOO_LARGE",
    "INTERNAL",
    "THROTTLED",
    "connect_refusal",
    "disconnect_headers",
    "http_response",
    "parse_query",
    "response_header",
]

FORBIDDEN = (403, b'{"message":"Forbidden"}')
BAD_REQUEST = (400, b'{"message":"Bad Request"}')
# A head over API Gateway's 10,240 bytes (or the header count), in the gateway's words.
HEAD_TOO_LARGE = (431, b'{"message":"Request Header Fields Too Large"}')
INTERNAL = (502, b'{"message": "Internal server error"}')
THROTTLED = (429, b'{"message":"Too Many Requests"}')


def http_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    reason = REASONS.get(status, b"Status")
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
    for name, value in headers:
        lines.append(b"%s: %s\r\n" % (name, value))
    if status != 101:
        lines.append(b"content-length: %d\r\n" % len(body))
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)


def disconnect_headers(headers: list[tuple[str, str]], source_ip: str) -> list[tuple[str, str]]:
    host = next((v for n, v in headers if n.lower() == "host"), "")
    return [("Host", host), ("x-api-key", ""), ("X-Forwarded-For", ""), ("x-restapi", "")]


def parse_query(raw: bytes) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for part in raw.decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def connect_refusal(status: str, response: Any) -> tuple[int, bytes] | None:
    """API Gateway's answer when $connect does not allow the connection, else None."""
    if status == "missing":
        return None  # no $connect route: every connection is allowed
    if status == "throttled":
        return THROTTLED
    if status != "ok":
        return INTERNAL
    code = response.get("statusCode", 200) if isinstance(response, dict) else 200
    try:
        code = int(code)
    except (TypeError, ValueError):
        return INTERNAL
    if 200 <= code < 300:
        return None
    body = response.get("body") if isinstance(response, dict) else None
    return code, (body.encode("utf-8") if isinstance(body, str) else b"")


def response_header(response: Any, name: str) -> str | None:
    if not isinstance(response, dict):
        return None
    for key, value in (response.get("headers") or {}).items():
        if str(key).lower() == name:
            return str(value)
    return None
