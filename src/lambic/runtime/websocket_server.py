"""The WebSocket API's server: one port for WebSocket clients and `@connections`.

    client --GET + Upgrade--> $connect invocation --2xx--> 101, connection registered
                                                  --else--> the refusal, socket closed
    client --message (frames)--> $default invocation (one per message, concurrently)
    client --close / idle / 2 h / DeleteConnection--> $disconnect invocation
    any function --boto3 apigatewaymanagementapi--> POST/GET/DELETE /{stage}/@connections/{id}

Each invocation goes through the runtime's invoker into an execution environment,
with API Gateway's event shape (`lambic.app.websockets.create_websocket_event`). The
events' `domainName` is this port ("127.0.0.1:8001"), so `app.websocket_api` in any
handler reaches the management API here (`lambic.app.websocket_api`); plain boto3 uses
`endpoint_url="http://127.0.0.1:8001/{stage}"`. Clients may connect at `/` or
`/{stage}` (the HTTP gateway serves its API at `/` too).

API Gateway's quotas, mirrored (`WebSocketLimits`; tests shorten the timeouts):
frames up to 32 KB and messages up to 128 KB (else close 1009), an idle connection
closed after 10 minutes and any connection after 2 hours (1001 "Going away").
A failed message invocation sends the client API Gateway's error frame,
`{"message": "Internal server error", "connectionId": ..., "requestId": ...}`;
a message with no `$default` route gets `{"message": "Forbidden", ...}`.

HTTP (handshakes and `@connections`) is the HTTP core's (`lambic._http_core`), with
the gateway's limits and timeouts (`WebSocketLimits.http`: head size, header and
keep-alive timeouts, connections per client); a handshake `$connect` allows is
answered 101 and its socket handed over (`HttpConnection.upgrade`) to the connection's
frames (`_websocket_connection`): RFC 6455 on asyncio (`_websocket_frames`), no
framework, as the HTTP gateway, since every message costs an invocation already.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson

from lambic._http_core import HttpConnection, HttpServer
from lambic._http_limits import GATEWAY_LIMITS, GATEWAY_MAX_BODY_BYTES, EdgeLimits
from lambic._http_site import HEAD_TOO_LARGE, MALFORMED, Exchange
from lambic.app.websockets import CONNECT_ROUTE
from lambic.runtime import _websocket_handshake as _handshake
from lambic.runtime import connections_api
from lambic.runtime._websocket_connection import FrameProtocol, WebSocketConnection, new_id
from lambic.runtime._websocket_frames import CLOSE_GOING_AWAY, accept_key
from lambic.runtime.gateway import FunctionInvoker, _request_ids
from lambic.runtime.usage import WebSocketUsage

__all__ = ["WebSocketApi", "WebSocketLimits", "WebSocketServer"]


@dataclass(frozen=True)
class WebSocketLimits:
    """API Gateway's WebSocket quotas (bytes and seconds)."""

    max_frame: int = 32 * 1024
    max_message: int = connections_api.MAX_MESSAGE_BYTES
    idle_timeout: float = 10 * 60.0
    max_duration: float = 2 * 60 * 60.0
    #: The HTTP side (handshakes, `@connections`): API Gateway's head quota and the
    #: gateway's timeouts; once upgraded a connection is held to the numbers above only.
    http: EdgeLimits = GATEWAY_LIMITS


@dataclass
class WebSocketApi:
    """What the server serves: the stage, the API id, route key -> function name."""

    stage: str
    api_id: str
    routes: Mapping[str, str] = field(default_factory=dict)


class WebSocketServer:
    """The WebSocket API on a socket: connections, invocations, the management API."""

    def __init__(
        self,
        invoker: Callable[[], FunctionInvoker | None],
        api: WebSocketApi,
        *,
        sock: socket.socket,
        limits: WebSocketLimits | None = None,
        report: Callable[[str], None] | None = None,
        usage: WebSocketUsage | None = None,
    ) -> None:
        self._invoker = invoker
        #: Billed messages and connection minutes (`lambic cost`); None: not metered.
        self.usage = usage
        self.api = api
        self.limits = limits or WebSocketLimits()
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.host = str(host)
        self.port = int(port)
        self.report = report
        self.connections: dict[str, WebSocketConnection] = {}
        self._http = HttpServer(_WebSocketSite(self))
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Set by `stop`: a handshake still in `$connect` is not upgraded any more.
        self.stopping = False

    @property
    def domain_name(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"ws://{self.domain_name}"

    @property
    def management_url(self) -> str:
        return f"http://{self.domain_name}/{self.api.stage}"

    async def start(self) -> None:
        await self._http.start(self.sock)

    async def stop(self, grace: float = 5.0) -> None:
        """Close every connection (1001 "Going away"), give HTTP requests in hand (a
        handshake in `$connect`) `grace` seconds, and as long to the `$disconnect`s."""
        self.stopping = True
        for connection in list(self.connections.values()):
            connection.close(CLOSE_GOING_AWAY, "Going away")
        await self._http.stop(grace)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)

    def get(self, connection_id: str) -> WebSocketConnection | None:
        return self.connections.get(connection_id)

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def invoke(self, route_key: str, event: dict[str, Any]) -> tuple[str, Any]:
        """Run the route's function: ("ok", response dict) / ("error"|"throttled", None)."""
        function = self.api.routes.get(route_key)
        invoker = self._invoker()
        if function is None or invoker is None:
            return "missing", None
        outcome = await invoker.invoke(function, orjson.dumps(event))
        if outcome.status != "ok":
            return outcome.status, None
        try:
            return "ok", orjson.loads(outcome.payload)
        except orjson.JSONDecodeError:
            return "ok", None


class _WebSocketSite:
    """The WebSocket API's side of the HTTP core: `@connections` requests, handshakes,
    and refusals in API Gateway's words."""

    cancel_on_disconnect = False  # a `$connect` invocation runs on when its client leaves
    plan_above = sys.maxsize  # bodies (PostToConnection data) are buffered, bounded below
    #: Past API Gateway's 128 KB `@connections` answers 413 itself; a body past this is
    #: not even read (the same 413, then the connection closes).
    max_body_bytes = GATEWAY_MAX_BODY_BYTES

    def __init__(self, server: WebSocketServer) -> None:
        self.server = server
        self.limits = server.limits.http

    def plan_body(self, connection: HttpConnection) -> int:
        return self.max_body_bytes

    def exchange(self, connection: HttpConnection, keep_alive: bool) -> Exchange:
        if connection.too_large:
            return _Answer(connection, False, connections_api.TOO_LARGE)
        method = connection.parser.get_method().decode("ascii", "replace")
        raw_path, _, query = connection.url.partition(b"?")
        path = raw_path.decode("latin-1")
        headers = [
            (n.decode("latin-1"), v.decode("utf-8", "replace")) for n, v in connection.headers
        ]
        lowered = {n.lower(): v for n, v in headers}
        if connections_api.is_management_path(path):
            chunks = connection.body
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            answer = connections_api.handle(
                method,
                path,
                lowered,
                body,
                stage=self.server.api.stage,
                connections=self.server,
            )
            return _Answer(connection, keep_alive, answer)
        if lowered.get("upgrade", "").lower() != "websocket":
            return _Answer(connection, keep_alive, _json(*_handshake.FORBIDDEN))
        key = lowered.get("sec-websocket-key", "")
        if unquote(path).rstrip("/") not in ("", f"/{self.server.api.stage}"):
            return _Answer(connection, False, _json(*_handshake.FORBIDDEN))
        if (
            method != "GET"
            or not key
            or lowered.get("sec-websocket-version") != "13"
            or not connection.parser.should_upgrade()  # RFC 6455: "Connection: Upgrade"
        ):
            return _Answer(connection, False, _json(*_handshake.BAD_REQUEST))
        connection.upgrading = True
        return _Handshake(self.server, connection, key, query, headers, lowered)

    def refuse_at_head(self, connection: HttpConnection) -> object | None:
        return None  # handshakes and @connections bodies are read as API Gateway reads them

    def refusal(self, connection: HttpConnection, reason: int) -> bytes | None:
        if reason == HEAD_TOO_LARGE:
            return _reply(_json(*_handshake.HEAD_TOO_LARGE), close=True)
        if reason == MALFORMED:
            return _reply(_json(*_handshake.BAD_REQUEST), close=True)
        # Read timeouts close without an answer (as the gateway's); an upgrade this site
        # does not take (not a WebSocket handshake) was answered as plain HTTP/1.1.
        return None


_JSON = [(b"content-type", b"application/json")]


def _json(status: int, body: bytes) -> connections_api.Answer:
    return status, _JSON, body


def _reply(answer: connections_api.Answer, *, close: bool) -> bytes:
    """The whole HTTP response, with API Gateway's request id."""
    status, headers, body = answer
    extra = [*headers, (b"x-amzn-RequestId", _request_ids()[0].encode())]
    if close:
        extra.append((b"connection", b"close"))
    return _handshake.http_response(status, extra, body)


class _Answer(Exchange):
    """An HTTP answer known when the request is in (`@connections`, a refusal).

    It is written at once, not in `run` a loop turn later: a function's
    PostToConnection waits for it (and its execution environment with it). Every
    answer of this site before a handshake is written so, and nothing is read after a
    handshake, so pipelined answers still leave in order; `run` hands the connection
    back (`finish`).
    """

    __slots__ = ("connection",)

    def __init__(
        self, connection: HttpConnection, keep_alive: bool, answer: connections_api.Answer
    ) -> None:
        super().__init__(keep_alive)
        self.connection = connection
        connection.write(_reply(answer, close=not keep_alive))

    async def run(self) -> None:
        self.connection.finish(self)


class _Handshake(Exchange):
    """A WebSocket handshake: `$connect` decides; allowed, it is answered 101 and the
    socket is handed to the frames (`FrameProtocol`)."""

    __slots__ = ("connection", "headers", "key", "lowered", "query", "server")

    def __init__(
        self,
        server: WebSocketServer,
        connection: HttpConnection,
        key: str,
        query: bytes,
        headers: list[tuple[str, str]],
        lowered: dict[str, str],
    ) -> None:
        super().__init__(False)  # the socket is the frames' or closed afterwards
        self.server = server
        self.connection = connection
        self.key = key
        self.query = query
        self.headers = headers
        self.lowered = lowered

    async def run(self) -> None:
        try:
            await self._connect()
        finally:
            self.connection.finish(self)

    async def _connect(self) -> None:
        server, http = self.server, self.connection
        peer = http.client_host or "127.0.0.1"
        connection = WebSocketConnection(
            server,
            FrameProtocol(server),
            new_id(),
            peer,
            self.lowered.get("user-agent"),
            self.headers,
        )
        # API Gateway adds these to the handshake's headers; we mirror it.
        trace = f"Root=1-{int(time.time()):08x}-{_request_ids()[2]}"
        added = [
            ("X-Amzn-Trace-Id", trace),
            ("X-Forwarded-For", peer),
            ("X-Forwarded-Port", str(server.port)),
            ("X-Forwarded-Proto", "http"),
        ]
        event = connection.event(
            CONNECT_ROUTE,
            headers=[*self.headers, *added],
            query=_handshake.parse_query(self.query),
        )
        status, response = await server.invoke(CONNECT_ROUTE, event)
        if http.transport is None or server.stopping:
            http.close()
            connection.lost()  # the client (or the server) left during $connect
            return
        refusal = _handshake.connect_refusal(status, response)
        if refusal is not None:
            http.write(_reply(_json(*refusal), close=True))
            return
        extra = [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")]
        extra.append((b"Sec-WebSocket-Accept", accept_key(self.key).encode()))
        protocol = _handshake.response_header(response, "sec-websocket-protocol")
        if protocol is not None:
            extra.append((b"Sec-WebSocket-Protocol", protocol.encode()))
        http.write(_handshake.http_response(101, extra, b""))
        connection.opened_at = time.monotonic()
        server.connections[connection.connection_id] = connection
        connection.protocol.connection = connection
        http.upgrade(connection.protocol)
