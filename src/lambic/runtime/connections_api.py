"""API Gateway's `@connections` management API, as boto3's `apigatewaymanagementapi` speaks it.

    POST   /{stage}/@connections/{id}   PostToConnection: the body goes to the client
    GET    /{stage}/@connections/{id}   GetConnection: ConnectedAt, Identity, LastActiveAt
    DELETE /{stage}/@connections/{id}   DeleteConnection: the server closes the connection

botocore's model (apigatewaymanagementapi, REST-JSON) is the reference for the shapes;
errors carry `x-amzn-ErrorType`, which botocore maps to its modelled exceptions:

    410 GoneException               the connection is closed, unknown, or still in $connect
    413 PayloadTooLargeException    data over the 128 KB message quota
    403 ForbiddenException          unsigned request, or another stage's/an unknown path
    400 BadRequestException         no connection id

Sans-IO: `handle(method, path, headers, body, connections)` returns (status, headers, body);
the WebSocket gateway serves it on its own port, where `app.websocket_api` finds it
from the events' `domainName` and `stage`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import unquote

import orjson

__all__ = [
    "MAX_MESSAGE_BYTES",
    "TOO_LARGE",
    "Answer",
    "ConnectionRegistry",
    "LiveConnection",
    "handle",
]

#: API Gateway's message payload quota (also PostToConnection's).
MAX_MESSAGE_BYTES = 128 * 1024

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class LiveConnection(Protocol):
    """What the management API needs of an open connection."""

    connected_at: float
    last_active_at: float
    source_ip: str
    user_agent: str | None

    def post(self, data: bytes) -> None: ...

    def delete(self) -> None: ...


class ConnectionRegistry(Protocol):
    def get(self, connection_id: str) -> LiveConnection | None: ...


def _error(status: int, error_type: str, message: str | None) -> Answer:
    # GoneException and ForbiddenException have no members in the model: no message.
    body = orjson.dumps({"message": message} if message is not None else {})
    headers = [(b"content-type", b"application/json"), (b"x-amzn-ErrorType", error_type.encode())]
    return status, headers, body


_FORBIDDEN = _error(403, "ForbiddenException", "Forbidden")
_MISSING_TOKEN = _error(403, "ForbiddenException", "Missing Authentication Token")
_GONE = _error(410, "GoneException", None)
#: Data over `MAX_MESSAGE_BYTES` (the server answers it too for bodies it does not read).
TOO_LARGE = _error(413, "PayloadTooLargeException", "Message too long")
_NO_ID = _error(400, "BadRequestException", "Invalid connectionId")
_JSON = [(b"content-type", b"application/json")]


def _iso(seconds: float) -> str:
    millis = int(seconds * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def is_management_path(path: str) -> bool:
    """True if `path` is a `@connections` request (for any stage)."""
    return "/@connections" in path


def handle(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    stage: str,
    connections: ConnectionRegistry,
) -> Answer:
    """Answer one management API request (`headers` keyed in lower case)."""
    prefix = f"/{stage}/@connections/"
    if not path.startswith(prefix):
        return _FORBIDDEN
    if "authorization" not in headers and "x-amz-security-token" not in headers:
        # API Gateway requires SigV4 on @connections; boto3 always signs.
        return _MISSING_TOKEN
    quoted = path[len(prefix) :]
    if not quoted or "/" in quoted:
        return _NO_ID
    connection_id = unquote(quoted)
    connection = connections.get(connection_id)
    if method == "POST":
        if len(body) > MAX_MESSAGE_BYTES:
            return TOO_LARGE
        if connection is None:
            return _GONE
        connection.post(body)
        return 200, _JSON, b""
    if connection is None:
        return _GONE
    if method == "GET":
        # The wire names are the model's locationNames; Identity requires both members.
        answer = {
            "connectedAt": _iso(connection.connected_at),
            "identity": {
                "sourceIp": connection.source_ip,
                "userAgent": connection.user_agent or "",
            },
            "lastActiveAt": _iso(connection.last_active_at),
        }
        return 200, _JSON, orjson.dumps(answer)
    if method == "DELETE":
        connection.delete()
        return 204, [], b""
    return _FORBIDDEN
