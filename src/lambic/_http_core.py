"""The HTTP/1.1 server core under Lambic's two edges: the gateway and the services' edge.

Both edges are this one server (`HttpServer`, one `HttpConnection` per socket) on
httptools, each with a *site* that speaks its protocol:

    socket -> HttpConnection (parse, limits, timeouts, keep-alive, pipelining, writes)
           -> site.exchange(...) -> Exchange.run() -> the site's own request handling

- the gateway's site (`runtime/_http_server.py`) hands requests to the `GatewayApp`
  (API Gateway events) and draws refusals in API Gateway's JSON;
- the services' site (`services/_http.py`) hands them to `EdgeApp.dispatch` (AWS
  service routing) and draws refusals in each service's own error shape.

What the core does for both, with the numbers of `lambic._http_limits`:

- connections per client address bounded (one more is closed unread);
- header-read, body-idle and keep-alive idle timeouts (`ReadTimer`), head size and
  header count (`HeadMeter`); a refusal is the site's answer (`HttpSite.refusal`);
- a declared Content-Length over the site's body limit is answered 413 (by the site,
  in its protocol) before any body byte is read, and a body growing past it is cut off;
  either way the connection closes after the answer, lingering so the client reads it;
- request bodies the site plans to spool (`HttpSite.plan_body`) go to its `BodySink`
  as they arrive, never wholly into memory;
- keep-alive (HTTP/1.0 closes), pipelining (answers in order, one request of a
  connection in flight at a time), `Expect: 100-continue` answered at the headers
  unless the site refuses the request there (`HttpSite.refuse_at_head`: its answer
  goes out instead, the body is never read and the connection closes);
- bytes that are no request (a body longer than its Content-Length...) are answered
  400 and closed, after the requests read before them have been answered;
- upgrades: a site taking one marks the request `upgrading` and hands the socket over
  after its 101 (`HttpConnection.upgrade`); others refuse it (`HttpSite.refusal`);
- each response leaves in as few writes as the site makes (one for a small answer);
  streamed responses wait for the client (`HttpConnection.drain`) past `HIGH_WATER`;
- graceful stop: idle connections close at once, busy ones after their answer, and
  whatever still runs after the grace period is cancelled.

The hot path is one task per request and no per-request timer: the read timer is one
per connection, re-armed only when it fires.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import httptools

from lambic._http_limits import (
    BODY,
    BUSY,
    HEAD,
    IDLE,
    LINGER_BYTES,
    ClientConnections,
    HeadMeter,
    ReadTimer,
    close_lingering,
)
from lambic._http_site import (
    HEAD_TOO_LARGE,
    MALFORMED,
    TIMED_OUT_BODY,
    TIMED_OUT_HEAD,
    TIMED_OUT_IDLE,
    UPGRADE,
    BodySink,
    Exchange,
    HttpSite,
)

__all__ = ["HIGH_WATER", "HttpConnection", "HttpServer", "new_event_loop"]

_TIMED_OUT = {HEAD: TIMED_OUT_HEAD, BODY: TIMED_OUT_BODY, IDLE: TIMED_OUT_IDLE}

#: A streamed response waits for the client once this much is unsent.
HIGH_WATER = 1024 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _Refused(Exception):
    """Raised from a parser callback once the request has been refused and answered."""


class HttpConnection(asyncio.Protocol):
    """One client connection. Sites read the request from its public attributes."""

    __slots__ = (
        "_admitted",
        "_asks_keep_alive",
        "_current",
        "_head_raw",
        "_limit",
        "_lingering",
        "_meter",
        "_meter_url",
        "_queue",
        "_refusal",
        "_task",
        "_timer",
        "_writable",
        "body",
        "client",
        "client_host",
        "declared",
        "early",
        "headers",
        "parser",
        "server",
        "sink",
        "site",
        "size",
        "sockname",
        "too_large",
        "transport",
        "upgrade_tail",
        "upgrading",
        "url",
    )

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.site = server.site
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client: tuple[str, int] | None = None
        self.client_host = ""
        self.sockname: tuple[str, int] | None = None
        # The request being read.
        self.url = b""
        #: Header names keep the client's spelling (API Gateway passes them so).
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.size = 0  # body bytes received
        self.declared = -1  # Content-Length, -1 when none
        self.sink: BodySink | None = None
        self.too_large = False
        #: Set by a site's `exchange` that takes over the connection after this upgrade
        #: request (see `upgrade`); what the client sent past it waits in `upgrade_tail`.
        self.upgrading = False
        self.upgrade_tail = b""
        #: What the site said when it refused the request at its head (`refuse_at_head`).
        self.early: object | None = None
        self._limit = 0
        self._meter = HeadMeter(server.limits)
        self._meter_url = server.limits.count_request_line
        self._head_raw = 0
        self._asks_keep_alive = False  # says "Connection: keep-alive" (HTTP/1.0's way)
        self._timer: ReadTimer | None = None
        self._lingering = -1  # bytes dropped since an early answer; -1: not lingering
        self._admitted = False
        self._queue: deque[Exchange] = deque()
        self._task: asyncio.Task[None] | None = None
        self._current: Exchange | None = None
        self._writable: asyncio.Event | None = None
        #: A malformed-request answer waiting for the requests read before the bad bytes.
        self._refusal: bytes | None = None

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.client = _address(transport.get_extra_info("peername"))
        self.client_host = self.client[0] if self.client is not None else ""
        server = self.server
        if not server.clients.admit(self.client_host):
            # Over the per-client bound: closed before anything is read.
            self.transport.close()
            self.transport = None
            return
        self._admitted = True
        self.sockname = _address(transport.get_extra_info("sockname"))
        server.connections.add(self)
        self._timer = ReadTimer(server.loop, server.limits, self._expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        if self._admitted:
            self._admitted = False
            self.server.clients.release(self.client_host)
        self.transport = None
        if self._writable is not None:
            self._writable.set()
        if self._timer is not None:
            self._timer.cancel()
        if self.sink is not None:  # abandoned mid-body: nothing of it stays
            self.sink.discard()
            self.sink = None
        for exchange in self._queue:
            exchange.drop()
        self._queue.clear()
        task = self._task
        if task is not None and self.site.cancel_on_disconnect and not task.done():
            task.cancel()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.Event()
        self._writable.clear()

    def resume_writing(self) -> None:
        if self._writable is not None:
            self._writable.set()

    def data_received(self, data: bytes) -> None:
        timer = self._timer
        if timer is None:
            return
        if self._lingering >= 0:
            # Answered early (413, 431...): drop what the client still sends.
            self._lingering += len(data)
            if self._lingering > LINGER_BYTES and self.transport is not None:
                self.transport.close()
            return
        timer.last_active = self.server.loop.time()
        in_head = timer.phase == HEAD
        try:
            self.parser.feed_data(data)
        except _Refused:
            return
        except httptools.HttpParserUpgrade as upgrade:
            if not self.upgrading:
                self._refuse(UPGRADE)
            elif self.transport is not None:  # httptools stops at the request's end
                self.upgrade_tail += data[upgrade.args[0] if upgrade.args else len(data) :]
                self.transport.pause_reading()  # until the site's exchange decides
            return
        except httptools.HttpParserError as exc:
            if not isinstance(exc.__context__, _Refused):
                self._refuse(MALFORMED)
            return
        if in_head and timer.phase == HEAD:
            # A head still unfinished after a whole read: bound its raw bytes, since
            # httptools reports a header only once its line is complete.
            self._head_raw += len(data)
            if self._meter.raw_over(self._head_raw):
                self._refuse(HEAD_TOO_LARGE)

    # -- httptools callbacks -------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.body = []
        self.size = 0
        self.declared = -1
        self._head_raw = 0
        self._meter.reset(0)
        timer = self._timer
        if timer is not None:
            timer.phase = HEAD
            timer.head_started = timer.last_active

    def on_url(self, url: bytes) -> None:
        self.url += url
        if self._meter_url and not self._meter.add_url(len(url)):
            self._refuse(HEAD_TOO_LARGE)
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if not self._meter.add(name, value):
            self._refuse(HEAD_TOO_LARGE)
            raise _Refused

    def on_headers_complete(self) -> None:
        if self._timer is not None:
            self._timer.phase = BODY
        chunked = expects = asks = False
        for name, value in self.headers:
            size = len(name)
            if size == 14 and name.lower() == b"content-length":
                self.declared = int(value) if value.isdigit() else -1
            elif size == 17 and name.lower() == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif size == 6 and name.lower() == b"expect":
                expects = value.lower() == b"100-continue"
            elif size == 10 and name.lower() == b"connection":
                asks = b"keep-alive" in value.lower()
        self._asks_keep_alive = asks
        site = self.site
        limit = site.max_body_bytes
        if chunked or self.declared > site.plan_above:
            limit = site.plan_body(self)
        self._limit = limit
        if self.declared > limit:
            # Refused at the headers: no body byte is read (AWS answers at once too).
            self._overflow()
            return
        if expects and self._current is None and not self._queue and self.transport is not None:
            early = site.refuse_at_head(self)
            if early is not None:
                # Answered instead of 100 Continue (S3 refuses an unsigned PUT so):
                # the body is never read, as for one over its limit.
                self.early = early
                self._overflow()
                return
            self.transport.write(_CONTINUE)  # botocore waits for it before a PutObject body

    def on_body(self, body: bytes) -> None:
        if self.too_large:
            return
        size = self.size = self.size + len(body)
        if size > self._limit:
            # One byte past the limit reaches the site (it answers 413), no more.
            self.body.append(body[: len(body) - (size - self._limit - 1)])
            self._overflow()
        elif self.sink is not None:
            self.sink.write(body)
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self._timer is not None:
            self._timer.phase = BUSY
        if self.too_large:
            return
        parser = self.parser
        keep_alive = parser.should_keep_alive()
        if keep_alive and self._asks_keep_alive and parser.get_http_version() == "1.0":
            # An HTTP/1.0 client asking to keep the connection: closed all the same, as
            # answers carry no "connection: keep-alive" (the version costs ~0.4 us to
            # ask, so only such a request asks it).
            keep_alive = False
        # Inlined `_dispatch`: a call less per request on the hot path.
        exchange = self.site.exchange(self, keep_alive)
        self.sink = None  # the exchange's now
        self._queue.append(exchange)
        if self._current is None:
            self._start()

    # -- answering -----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    async def drain(self) -> None:
        """Wait while more than `HIGH_WATER` bytes are still unsent (a slow reader)."""
        transport = self.transport
        writable = self._writable
        if (
            transport is not None
            and writable is not None
            and not writable.is_set()
            and transport.get_write_buffer_size() > HIGH_WATER
        ):
            await writable.wait()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Cancel the request being answered and close. (An invocation the gateway
        answered 504 for is its app's to wait for: its task is no longer ours.)"""
        if self._task is not None:
            self._task.cancel()
        self.close()

    def _overflow(self) -> None:
        """The body is over its limit (or refused at the head): stop reading, let the
        site answer 413 (or its early answer; in order after any request before it),
        then close."""
        self.too_large = True
        if self.sink is not None:
            self.sink.discard()
            self.sink = None
        if self._timer is not None:
            self._timer.phase = BUSY
        if self.transport is not None:
            self.transport.pause_reading()
        self._dispatch(False)

    def _dispatch(self, keep_alive: bool) -> None:
        exchange = self.site.exchange(self, keep_alive)
        self.sink = None  # the exchange's now
        self._queue.append(exchange)
        if self._current is None:
            self._start()

    def _start(self) -> None:
        """Answer the next request, in a task of its own: its `run` is the task (no
        serving loop around it, a coroutine less per request)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        exchange = self._current = self._queue.popleft()
        self._task = self.server.loop.create_task(exchange.run())

    def finish(self, exchange: Exchange) -> None:
        """The response has left. The site may still be working (the gateway answers 504
        while the invocation goes on), so the next request gets a task of its own."""
        if exchange is not self._current:
            return
        self._current = None
        self._task = None
        timer = self._timer
        if timer is not None and timer.phase == BUSY and not self._queue:
            timer.phase = IDLE
            timer.last_active = self.server.loop.time()
        if not exchange.keep_alive:
            if self.too_large:
                self._close_lingering()  # the client may still be sending the body
            elif self.transport is not None:
                self.transport.close()
            return
        if self._queue:
            self._start()
        elif self._refusal is not None:
            self._send_refusal(self._refusal)

    def shutdown(self) -> None:
        """Graceful stop: close when idle, else once the answers in hand have left."""
        if self._current is None and not self._queue:
            self.close()
            return
        for exchange in (self._current, *self._queue):
            if exchange is not None:
                exchange.keep_alive = False

    def upgrade(self, protocol: asyncio.Protocol) -> None:
        """Hand the socket to `protocol` once the site's exchange has sent its 101 (then
        it calls `finish`). The core forgets the connection (no HTTP limits, timers or
        per-client count); `protocol` gets it, then the bytes past the upgrade request."""
        transport = self.transport
        if transport is None:
            return
        self.server.connections.discard(self)
        if self._admitted:
            self._admitted = False
            self.server.clients.release(self.client_host)
        if self._timer is not None:
            self._timer.cancel()
        self.transport = None
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        tail, self.upgrade_tail = self.upgrade_tail, b""
        if tail:
            protocol.data_received(tail)
        transport.resume_reading()

    # -- refusals ------------------------------------------------------------------

    def _refuse(self, reason: int) -> None:
        """Answer in the site's protocol (or not at all) and close."""
        transport = self.transport
        if transport is None or transport.is_closing() or self._refusal is not None:
            return
        answer = self.site.refusal(self, reason)
        if reason == UPGRADE and answer is None:
            return  # the site serves it as HTTP/1.1
        if self.sink is not None:
            self.sink.discard()
            self.sink = None
        if answer is None:
            transport.close()
            return
        if reason not in (MALFORMED, UPGRADE):
            transport.write(answer)
            self._close_lingering()
        elif self._current is not None or self._queue:
            # The requests read before the bad bytes are answered first, in order, as
            # AWS does (a PUT whose Content-Length is short of what was sent gets its
            # own answer, then the leftover bytes their 400): nothing more is read.
            self._refusal = answer
            transport.pause_reading()
            if self._timer is not None:
                self._timer.phase = BUSY
        else:
            self._send_refusal(answer)

    def _send_refusal(self, answer: bytes) -> None:
        self._refusal = None
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is not None:
            self.transport.write(answer)
            self.transport.close()

    def _close_lingering(self) -> None:
        if self.transport is not None:
            self._lingering = 0
            if self._timer is not None:
                self._timer.cancel()
            close_lingering(self.transport, self.server.loop)

    def _expired(self, phase: int) -> None:
        """A read timeout (`ReadTimer`): an idle keep-alive connection, a head not in
        within the header timeout (slow loris) or a stalled body."""
        self._refuse(_TIMED_OUT.get(phase, TIMED_OUT_IDLE))


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


class HttpServer:
    """A listening socket served by `HttpConnection`s for one site, on the running loop.

    server = HttpServer(site); await server.start(sock); ...; await server.stop(grace=10)
    """

    def __init__(self, site: HttpSite) -> None:
        self.site = site
        self.limits = site.limits
        self.clients = ClientConnections(site.limits.max_connections_per_client)
        self.connections: set[HttpConnection] = set()
        self.loop: asyncio.AbstractEventLoop = cast(asyncio.AbstractEventLoop, None)
        self._server: asyncio.AbstractServer | None = None

    async def start(self, sock: Any) -> None:
        self.loop = asyncio.get_running_loop()
        factory: Callable[[], HttpConnection] = lambda: HttpConnection(self)  # noqa: E731
        self._server = await self.loop.create_server(factory, sock=sock, backlog=2048)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop accepting; with a `grace`, in-flight requests get that long to be
        answered (idle connections close at once), then everything is cancelled."""
        if self._server is not None:
            self._server.close()
        deadline = time.monotonic() + grace
        for connection in list(self.connections):
            if grace > 0:
                connection.shutdown()
            else:
                connection.close()
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.abort()  # past the grace period
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop
