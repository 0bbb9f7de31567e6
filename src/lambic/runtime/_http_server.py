"""The gateway's HTTP server: the `GatewayApp` (ASGI-shaped) on Lambic's HTTP/1.1 core.

`GatewayServer` serves the app on the caller's event loop with `lambic._http_core` (the
server the services' edge runs on too); this module is only the gateway's side of it
(`_GatewaySite`):

- a request reaches the app once its body is complete (API Gateway buffers bodies too,
  up to its 10 MB limit; past that the app answers 413, the core cuts the body off);
- request header names keep the client's spelling (API Gateway passes them so);
- each response leaves in one write, with no per-request timer or response-cycle
  object; a streamed body (`more_body`) waits for a slow client;
- the core's refusals are drawn as API Gateway's front end answers them: a head over
  its 10,240 bytes is 431 in its JSON, read timeouts close without an answer.

Errors: `GatewayError` (a `LambicRuntimeError`); a taken port is `PortInUseError`
(`lambic._sockets`, shared with the services' edge).
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from lambic._http_core import HttpConnection, HttpServer
from lambic._http_limits import (
    GATEWAY_LIMITS,
    GATEWAY_MAX_BODY_BYTES,
    KEEP_ALIVE_TIMEOUT_S,
    EdgeLimits,
)
from lambic._http_site import HEAD_TOO_LARGE, MALFORMED, REASONS, Exchange, date_line
from lambic._sockets import PortInUseError, bind_socket
from lambic.runtime.errors import LambicRuntimeError

__all__ = ["GatewayError", "GatewayServer", "PortInUseError", "bind_socket"]

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class GatewayError(LambicRuntimeError):
    """The gateway cannot serve: the message says what to change."""


_NO_BODY_STATUSES = frozenset({204, 304})
_BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 28\r\nconnection: close\r\n\r\nInvalid HTTP request received."
)
# A head over API Gateway's 10,240 bytes (or the header count): refused in API
# Gateway's JSON shape, with HTTP's status for it.
_HEAD_TOO_LARGE_BODY = b'{"message":"Request Header Fields Too Large"}'
_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s"
    % (len(_HEAD_TOO_LARGE_BODY), _HEAD_TOO_LARGE_BODY)
)
# What API Gateway answers when its integration fails: its JSON, never a traceback.
_SERVER_ERROR = b'{"message": "Internal server error"}'
_DISCONNECT: dict[str, Any] = {"type": "http.disconnect"}
_logger = logging.getLogger("lambic.gateway")


class _GatewayExchange(Exchange):
    """One request and its response: the ASGI `scope`, `receive` and `send` the app gets."""

    __slots__ = ("app", "body", "connection", "head", "head_only", "received", "scope", "sent")

    def __init__(
        self,
        app: ASGIApp,
        connection: HttpConnection,
        scope: dict[str, Any],
        body: bytes,
        keep_alive: bool,
    ) -> None:
        self.keep_alive = keep_alive
        self.app = app
        self.connection = connection
        self.scope = scope
        self.body = body
        self.head_only = scope["method"] == "HEAD"
        self.head: list[bytes] | None = None  # status line and headers, once started
        self.received = False
        self.sent = False  # the whole response has left

    async def receive(self) -> dict[str, Any]:
        if self.received:
            return _DISCONNECT
        self.received = True
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.head is not None:
                raise RuntimeError("the response was already started")
            status = int(message["status"])
            head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Unknown")), date_line()]
            for name, value in message.get("headers", ()):
                head.append(b"%s: %s\r\n" % (name, value))
            if not self.keep_alive:
                head.append(b"connection: close\r\n")
            head.append(b"\r\n")
            self.head = head
            if status in _NO_BODY_STATUSES:
                self.head_only = True
        elif kind == "http.response.body":
            pending = self.head
            if pending is None:
                raise RuntimeError("the response body was sent before its start")
            if self.sent:
                return
            if not self.head_only:
                pending.append(message.get("body", b""))
            connection = self.connection
            connection.write(b"".join(pending))
            pending.clear()
            if message.get("more_body", False):
                await connection.drain()  # a streamed body waits for a slow client
            else:
                self.sent = True
                connection.finish(self)

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            _logger.exception("Exception in ASGI application")
            if self.head is None:
                await self.send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(_SERVER_ERROR)),
                        ],
                    }
                )
                await self.send({"type": "http.response.body", "body": _SERVER_ERROR})
        finally:
            if not self.sent:
                # The app stopped mid-response, never answered or was cancelled: send
                # what it started and close; nothing more can follow on this socket.
                if self.head:
                    self.connection.write(b"".join(self.head))
                self.keep_alive = False
                self.connection.finish(self)


class _GatewaySite:
    """The gateway's side of the HTTP core: ASGI scopes in, API Gateway's refusals out."""

    cancel_on_disconnect = False  # an invocation runs on when its client leaves (AWS too)
    plan_above = sys.maxsize  # bodies are buffered: only their size is bounded

    def __init__(self, app: ASGIApp, limits: EdgeLimits) -> None:
        self.app = app
        self.limits = limits
        # Past this the app answers 413 (API Gateway's 10 MB) and the connection closes.
        self.max_body_bytes = int(getattr(app, "max_body_bytes", GATEWAY_MAX_BODY_BYTES))

    def plan_body(self, connection: HttpConnection) -> int:
        return self.max_body_bytes

    def refuse_at_head(self, connection: HttpConnection) -> object | None:
        return None  # API Gateway reads every body it is sent

    def exchange(self, connection: HttpConnection, keep_alive: bool) -> Exchange:
        path, _, query = connection.url.partition(b"?")
        raw_path = path.partition(b"#")[0] or b"/"
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": connection.parser.get_http_version(),
            "server": connection.sockname,
            "client": connection.client,
            "scheme": "http",
            "method": connection.parser.get_method().decode("ascii", "replace"),
            "root_path": "",
            "path": unquote(raw_path.decode("ascii", "replace")),
            "raw_path": raw_path,
            "query_string": query,
            "headers": connection.headers,
            "state": {},
        }
        chunks = connection.body
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return _GatewayExchange(self.app, connection, scope, body, keep_alive)

    def refusal(self, connection: HttpConnection, reason: int) -> bytes | None:
        if reason == HEAD_TOO_LARGE:
            return _HEAD_TOO_LARGE
        if reason == MALFORMED:
            _logger.warning("Invalid HTTP request received.")
            return _BAD_REQUEST
        # Read timeouts close without an answer (API Gateway's front end sends none);
        # an upgrade (WebSocket, h2c) is answered as plain HTTP/1.1.
        return None


class GatewayServer:
    """Serves an ASGI-shaped app (the `GatewayApp`) on the caller's event loop.

    server = GatewayServer(app, host="127.0.0.1", port=0)
    await server.start(); ...; await server.stop(grace=10)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        sock: socket.socket | None = None,
        keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT_S,
        limits: EdgeLimits | None = None,
    ) -> None:
        limits = limits or replace(GATEWAY_LIMITS, keep_alive_timeout=keep_alive_timeout)
        self.app = app
        self.host = host
        # A socket bound earlier by `bind_socket` (to fail fast on a port in use) or ours.
        self._sock = sock if sock is not None else bind_socket(host, port)
        self.port: int = self._sock.getsockname()[1]
        self._server = HttpServer(_GatewaySite(app, limits))
        self._started = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start accepting connections; returns once the socket is served."""
        try:
            await self._server.start(self._sock)
        except OSError as exc:
            raise GatewayError(f"The gateway could not start on {self.url}: {exc}") from exc
        self._started = True

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish for `grace` seconds, then cancel."""
        if self._started:
            self._started = False
            # At least a second, as before (uvicorn's graceful shutdown took whole seconds).
            await self._server.stop(grace=max(grace, 1.0))
        self._sock.close()
