"""The gateway's HTTP server: uvicorn on the caller's event loop, tuned for the gateway.

`GatewayServer` runs any ASGI app (the `GatewayApp`) under uvicorn's `Server` without
`Server.serve()`, whose signal handlers would fight `lambic local`'s. uvicorn keeps
the listening socket, the connection registry, graceful shutdown and the Date header;
the per-connection protocol is ours (`_GatewayProtocol`, httptools underneath too):

- request header names keep the client's spelling (API Gateway passes them so);
- each response leaves in one write, with no per-request timer or response-cycle
  object (together about a fifth of a warm request's cost in the gateway process).

Errors: `GatewayError` (a `LambicRuntimeError`); a taken port is `PortInUseError`
(`lambic._sockets`, shared with the services' edge).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import replace
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import unquote

import httptools
import uvicorn
from uvicorn.server import ServerState

from lambic._http_limits import (
    BODY,
    BUSY,
    GATEWAY_LIMITS,
    GATEWAY_MAX_BODY_BYTES,
    HEAD,
    IDLE,
    KEEP_ALIVE_TIMEOUT_S,
    LINGER_BYTES,
    ClientConnections,
    EdgeLimits,
    HeadMeter,
    ReadTimer,
    close_lingering,
)
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


_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}
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
_logger = logging.getLogger("uvicorn.error")
_date_cache: list[Any] = [None, []]


class _Exchange:
    """One request and its response: the ASGI `receive` and `send` the app is given."""

    __slots__ = ("body", "head", "head_only", "keep_alive", "protocol", "received", "scope", "sent")

    def __init__(
        self, protocol: _GatewayProtocol, scope: dict[str, Any], body: bytes, keep_alive: bool
    ) -> None:
        self.protocol = protocol
        self.scope = scope
        self.body = body
        self.keep_alive = keep_alive
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
            head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))]
            head.extend(self.protocol.date_header)
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
            more = message.get("more_body", False)
            self.protocol.write(b"".join(pending))
            pending.clear()
            if not more:
                self.sent = True
                self.protocol._finished(self)


class _GatewayProtocol(asyncio.Protocol):
    """HTTP/1.1 for the gateway: httptools parsing straight into the ASGI app.

    uvicorn still runs the server (listening socket, connection registry, graceful
    shutdown, the Date header); this replaces its per-request machinery, which cost
    more than the gateway's own work per warm request: a response cycle object, two
    writes, header re-validation and a keep-alive timer armed and cancelled per request.
    A request reaches the app once its body is complete (API Gateway buffers bodies
    too, up to its 10 MB limit); request header names keep the client's spelling, as
    API Gateway passes them. Requests on one connection are answered in order.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any] | None = None,
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: EdgeLimits = GATEWAY_LIMITS,
        clients: ClientConnections | None = None,
    ) -> None:
        self._app = config.loaded_app
        self._loop = _loop or asyncio.get_running_loop()
        self._state = server_state
        self._limits = limits
        self._clients = clients or ClientConnections(limits.max_connections_per_client)
        self._admitted = False
        self._meter = HeadMeter(limits)
        self._head_raw = 0
        self._timer: ReadTimer | None = None
        self._lingering = -1  # bytes dropped since an early answer; -1: not lingering
        # Past this many buffered body bytes the request goes to the app truncated (it
        # answers 413) and the connection closes after the answer.
        self._body_cap = int(getattr(self._app, "max_body_bytes", GATEWAY_MAX_BODY_BYTES)) + 1
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client: tuple[str, int] | None = None
        self._server: tuple[str, int] | None = None
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._overflow = False
        self._queue: deque[_Exchange] = deque()
        self._task: asyncio.Task[None] | None = None
        self._current: _Exchange | None = None

    @property
    def date_header(self) -> list[bytes]:
        # uvicorn replaces `default_headers` (the Date line) once a second.
        source = self._state.default_headers
        if source is not _date_cache[0]:
            _date_cache[:] = [source, [b"%s: %s\r\n" % (n, v) for n, v in source]]
        lines: list[bytes] = _date_cache[1]
        return lines

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._client = _address(transport.get_extra_info("peername"))
        self._server = _address(transport.get_extra_info("sockname"))
        if not self._clients.admit(self._client_host()):
            # Over the per-client bound (`lambic._http_limits`): closed unread.
            self._transport.close()
            self._transport = None
            return
        self._admitted = True
        self._state.connections.add(cast(Any, self))
        self._timer = ReadTimer(self._loop, self._limits, self._expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._state.connections.discard(cast(Any, self))
        if self._admitted:
            self._admitted = False
            self._clients.release(self._client_host())
        self._transport = None
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()

    def _client_host(self) -> str:
        return self._client[0] if self._client is not None else ""

    def data_received(self, data: bytes) -> None:
        timer = self._timer
        if timer is None:
            return
        if self._lingering >= 0:
            # Answered early (413, 431): drop what the client still sends.
            self._lingering += len(data)
            if self._lingering > LINGER_BYTES and self._transport is not None:
                self._transport.close()
            return
        timer.last_active = self._loop.time()
        in_head = timer.phase == HEAD
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no upgrades (WebSocket, h2c) here: the request is answered as HTTP/1.1
        except httptools.HttpParserError as exc:
            if isinstance(exc, _HeadTooLarge) or isinstance(exc.__context__, _HeadTooLarge):
                self._refuse_head()
                return
            _logger.warning("Invalid HTTP request received.")
            if self._transport is not None:
                self._transport.write(_BAD_REQUEST)
                self._transport.close()
            return
        if in_head and timer.phase == HEAD:
            # An unfinished head after a whole read: httptools reports a header only
            # once its line is complete, so its raw bytes are bounded here.
            self._head_raw += len(data)
            if self._meter.raw_over(self._head_raw):
                self._refuse_head()

    def _refuse_head(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_HEAD_TOO_LARGE)
            self._close_lingering()

    def _close_lingering(self) -> None:
        if self._transport is not None:
            self._lingering = 0
            if self._timer is not None:
                self._timer.cancel()
            close_lingering(self._transport, self._loop)

    def _expired(self, phase: int) -> None:
        """A read timeout: an idle keep-alive connection, a head not complete within the
        header timeout (slow loris) or a stalled body; each is closed without an
        answer (API Gateway's front end answers none either)."""
        if self._transport is not None:
            self._transport.close()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: close when idle, else after the answer in flight."""
        if self._current is None and not self._queue:
            if self._transport is not None:
                self._transport.close()
            return
        for exchange in (self._current, *self._queue):
            if exchange is not None:
                exchange.keep_alive = False

    def write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    # -- httptools callbacks -------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._body = []
        self._size = 0
        self._head_raw = 0
        self._meter.reset(0)
        timer = self._timer
        if timer is not None:
            timer.phase = HEAD
            timer.head_started = timer.last_active

    def on_url(self, url: bytes) -> None:
        self._url += url
        if not self._meter.add_url(len(url)):
            raise _HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        if not self._meter.add(name, value):
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        if self._timer is not None:
            self._timer.phase = BODY
        if self._declared_length() >= self._body_cap:
            # Over API Gateway's 10 MB: the app answers 413 now, before any body byte
            # is read, and the connection closes after the answer.
            self._overflow = True
            if self._transport is not None:
                self._transport.pause_reading()
            self._dispatch(keep_alive=False)
            return
        idle = self._current is None and not self._queue
        if idle and self._transport is not None and self._expects_continue():
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self._overflow:
            return
        self._size += len(body)
        if self._size > self._body_cap:
            body = body[: len(body) - (self._size - self._body_cap)]
            self._body.append(body)
            # Stop reading: the app answers 413 from what it has and we close.
            self._overflow = True
            if self._transport is not None:
                self._transport.pause_reading()
            self._dispatch(keep_alive=False)
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._timer is not None:
            self._timer.phase = BUSY
        if self._overflow:
            return
        self._dispatch(keep_alive=self._parser.should_keep_alive())

    # -- answering -----------------------------------------------------------------

    def _declared_length(self) -> int:
        for name, value in self._headers:
            if len(name) == 14 and name.lower() == b"content-length":
                return int(value) if value.isdigit() else -1
        return -1

    def _expects_continue(self) -> bool:
        for name, value in self._headers:
            if name.lower() == b"expect" and value.lower() == b"100-continue":
                return True
        return False

    def _dispatch(self, *, keep_alive: bool) -> None:
        path, _, query = self._url.partition(b"?")
        raw_path = path.partition(b"#")[0] or b"/"
        http_version = self._parser.get_http_version()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": http_version,
            "server": self._server,
            "client": self._client,
            "scheme": "http",
            "method": self._parser.get_method().decode("ascii"),
            "root_path": "",
            "path": unquote(raw_path.decode("ascii", "replace")),
            "raw_path": raw_path,
            "query_string": query,
            "headers": self._headers,
            "state": {},
        }
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._queue.append(_Exchange(self, scope, body, keep_alive and http_version != "1.0"))
        if self._task is None:
            self._task = self._loop.create_task(self._serve())
            self._state.tasks.add(self._task)

    async def _serve(self) -> None:
        task = self._task
        try:
            # Stops once `_finished` has handed the connection to a successor task.
            while self._queue and self._transport is not None and self._task is task:
                exchange = self._current = self._queue.popleft()
                await self._run(exchange)
        finally:
            if self._task is task:
                self._task = None
                self._current = None
            if task is not None:
                self._state.tasks.discard(task)

    def _finished(self, exchange: _Exchange) -> None:
        """The response has left. The app may still be running (a 504 answered while its
        invocation goes on), so the next request gets a task of its own, not this one."""
        if exchange is not self._current:
            return
        self._current = None
        self._task = None
        self._state.total_requests += 1
        timer = self._timer
        if timer is not None and timer.phase == BUSY and not self._queue:
            timer.phase = IDLE
            timer.last_active = self._loop.time()
        if not exchange.keep_alive:
            if self._overflow:
                self._close_lingering()  # the client may still be sending the body
            elif self._transport is not None:
                self._transport.close()
            return
        if self._queue and self._transport is not None:
            self._task = self._loop.create_task(self._serve())
            self._state.tasks.add(self._task)

    async def _run(self, exchange: _Exchange) -> None:
        try:
            await self._app(exchange.scope, exchange.receive, exchange.send)
        except Exception:
            _logger.exception("Exception in ASGI application")
            if exchange.head is None:
                await exchange.send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(_SERVER_ERROR)),
                        ],
                    }
                )
                await exchange.send({"type": "http.response.body", "body": _SERVER_ERROR})
                return
        if not exchange.sent:
            # The app stopped mid-response (or never answered): send what it started,
            # as uvicorn would have, and close; nothing more can follow on this socket.
            if exchange.head:
                self.write(b"".join(exchange.head))
            exchange.keep_alive = False
            self._finished(exchange)


class _HeadTooLarge(httptools.HttpParserError):
    """Raised from a parser callback when the head is over `GATEWAY_LIMITS`."""


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


class GatewayServer:
    """Runs an ASGI app (the `GatewayApp`) under uvicorn on the caller's event loop.

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
        self._config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            http=_GatewayProtocol,
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            server_header=False,
            # No X-Forwarded-* rewriting: API Gateway reports the socket peer as
            # sourceIp, and the middleware would cost a coroutine per request.
            proxy_headers=False,
            timeout_keep_alive=limits.keep_alive_timeout,  # type: ignore[arg-type]
        )
        self._server = uvicorn.Server(self._config)
        # One count of connections per client address for the whole server.
        self._config.http = functools.partial(  # type: ignore[assignment]
            _GatewayProtocol,
            limits=limits,
            clients=ClientConnections(limits.max_connections_per_client),
        )
        self._main: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start accepting connections; returns once the socket is served."""
        # Not `Server.serve()`: it installs its own signal handlers, and `lambic local`
        # owns SIGINT/SIGTERM to shut every component down in order.
        self._config.load()
        self._server.lifespan = self._config.lifespan_class(self._config)
        await self._server.startup(sockets=[self._sock])
        if self._server.should_exit:
            raise GatewayError(f"The gateway could not start on {self.url}")
        self._main = asyncio.ensure_future(self._server.main_loop())

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish for `grace` seconds, then cancel."""
        self._config.timeout_graceful_shutdown = max(int(grace), 1)
        self._server.should_exit = True
        if self._main is not None:
            await self._main
            self._main = None
            await self._server.shutdown(sockets=[self._sock])
        else:
            self._sock.close()
