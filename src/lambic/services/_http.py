"""The edge port's HTTP/1.1 server: httptools parsing straight into `EdgeApp.dispatch`.

Why not uvicorn: every AWS call is one small request and one small response, so the
per-request overhead of the server decides the calls/s a boto3 client sees. Going
through ASGI costs a task, message dicts and two socket writes per response (status +
headers, then body). Here a parsed request becomes a `ServiceRequest` directly, and
the status line, headers and body leave in one write.

Per connection, requests are answered in order (HTTP/1.1 pipelining); each connection
has at most one request in flight on the event loop, so an SQS long poll on one
connection never holds up another. `Expect: 100-continue` is answered as soon as the
headers are in (botocore waits for it before sending a PutObject body).

Limits and read timeouts come from `lambic._http_limits` (shared with the gateway);
refusals are drawn in the addressed service's error shape (`_edge_refusals`). A body
declared over 1 MiB for a service that takes files (S3's uploads) is written to a
file in that service's spool directory as it arrives, never held in memory, and the
service renames the finished file into place; whatever it leaves is removed once
the request is answered or the client goes away.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections import deque
from http import HTTPStatus
from typing import Any, cast

import httptools

from lambic._http_limits import (
    BODY,
    BUSY,
    HEAD,
    IDLE,
    LINGER_BYTES,
    S3_MAX_UPLOAD_BYTES,
    SERVICES_LIMITS,
    SERVICES_MAX_BODY_BYTES,
    SPOOL_THRESHOLD_BYTES,
    ClientConnections,
    EdgeLimits,
    HeadMeter,
    ReadTimer,
    close_lingering,
)
from lambic.services._edge_refusals import (
    Refusal,
    body_timed_out,
    body_too_large,
    head_too_large,
    render_refusal,
)
from lambic.services._spool import BodySpool
from lambic.services.base import Headers, ServiceRequest, ServiceResponse, SpooledBody
from lambic.services.edge import EdgeApp, error_protocol, route_service

_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}
_HIGH_WATER = 1024 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})


class _DateHeader:
    """`Date:` as AWS sends it, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def get(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = email.utils.formatdate(now, usegmt=True).encode()
        return self._value


_DATE = _DateHeader()


class _Pending:
    __slots__ = ("keep_alive", "request")

    def __init__(self, request: ServiceRequest, keep_alive: bool) -> None:
        self.request = request
        self.keep_alive = keep_alive


class _Refused(Exception):
    """Raised from a parser callback once the request has been refused and answered."""


class EdgeProtocol(asyncio.Protocol):
    """One client connection, held to `SERVICES_LIMITS` (`lambic._http_limits`)."""

    def __init__(
        self,
        app: EdgeApp,
        connections: set[EdgeProtocol],
        clients: ClientConnections,
        limits: EdgeLimits = SERVICES_LIMITS,
    ) -> None:
        self._app = app
        self._connections = connections
        self._clients = clients
        self._limits = limits
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client = "127.0.0.1"
        self._admitted = False
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._limit = SERVICES_MAX_BODY_BYTES
        self._upload = False
        self._spool: BodySpool | None = None
        self._meter = HeadMeter(limits)
        self._head_raw = 0
        self._timer: ReadTimer | None = None
        self._queue: deque[_Pending] = deque()
        self._task: asyncio.Task[None] | None = None
        self._lingering = -1  # bytes dropped since an early answer; -1: not lingering
        self._writable = asyncio.Event()
        self._writable.set()

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but behave as one.
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if peer:
            self._client = str(peer[0])
        if not self._clients.admit(self._client):
            # Over the per-client bound: closed before anything is read.
            self._transport.close()
            self._transport = None
            return
        self._admitted = True
        self._connections.add(self)
        self._timer = ReadTimer(asyncio.get_running_loop(), self._limits, self._expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        if self._admitted:
            self._admitted = False
            self._clients.release(self._client)
        self._transport = None
        self._writable.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._spool is not None:  # abandoned mid-body: nothing of it stays
            self._spool.discard()
            self._spool = None
        for pending in self._queue:
            if pending.request.body_file is not None:
                pending.request.body_file.discard()
        self._queue.clear()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        timer = self._timer
        if timer is None:
            return
        if self._lingering >= 0:
            self._linger(data)
            return
        timer.last_active = timer.now()
        in_head = timer.phase == HEAD
        try:
            self._parser.feed_data(data)
        except _Refused:
            return
        except httptools.HttpParserUpgrade:
            self._reply_and_close(400, b"Protocol upgrades are not supported")
            return
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _Refused):
                return
            if self._transport is not None and not self._transport.is_closing():
                self._reply_and_close(400, b"Malformed HTTP request")
            return
        if in_head and timer.phase == HEAD:
            # A head still unfinished after a whole read: bound its raw bytes, since
            # httptools reports a header only once its line is complete.
            self._head_raw += len(data)
            if self._meter.raw_over(self._head_raw):
                self._refuse(head_too_large())

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _linger(self, data: bytes) -> None:
        """Drop what a refused client still sends (see `close_lingering`)."""
        self._lingering += len(data)
        if self._lingering > LINGER_BYTES and self._transport is not None:
            self._transport.close()

    # -- httptools callbacks -------------------------------------------------------

    def on_message_begin(self) -> None:
        self._size = 0
        self._url = b""
        self._headers = []
        self._body = []
        self._head_raw = 0
        self._meter.reset(0)
        timer = self._timer
        if timer is not None:
            timer.phase = HEAD
            timer.head_started = timer.last_active

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))
        if not self._meter.add(name, value):
            self._refuse(head_too_large())
            raise _Refused

    def on_headers_complete(self) -> None:
        if self._timer is not None:
            self._timer.phase = BODY
        declared = -1
        chunked = False
        for name, value in self._headers:
            lower = name.lower()
            if lower == "expect" and value.lower() == "100-continue":
                if self._transport is not None and not self._queue and self._task_idle():
                    self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            elif lower == "content-length":
                declared = int(value) if value.isdigit() else -1
            elif lower == "transfer-encoding":
                chunked = "chunked" in value.lower()
        self._limit = SERVICES_MAX_BODY_BYTES
        self._upload = False
        if declared > SPOOL_THRESHOLD_BYTES or chunked:
            self._plan_body(declared)

    def _plan_body(self, declared: int) -> None:
        """A body that may be large: refuse it now if over its service's limit, or
        spool it to a file when the service takes files (S3 uploads)."""
        head = self._request(b"")
        service = route_service(head)
        self._upload, directory = self._app.upload_spool(service, head)
        self._limit = S3_MAX_UPLOAD_BYTES if self._upload else SERVICES_MAX_BODY_BYTES
        if declared > self._limit:
            # Refused at the headers: no body byte is read (AWS answers at once too).
            self._refuse(body_too_large(service, declared, upload=self._upload), head)
            raise _Refused
        if directory is not None:
            sha = head.headers.get("x-amz-content-sha256", "")
            self._spool = BodySpool(directory, sha256=len(sha) == 64)

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._limit:
            head = self._request(b"")
            self._refuse(body_too_large(route_service(head), self._size, upload=self._upload))
            raise _Refused
        if self._spool is not None:
            self._spool.write(body)
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._timer is not None:
            self._timer.phase = BUSY
        spool = self._spool
        if spool is not None:
            self._spool = None
            request = self._request(b"", spool.finish())
        else:
            request = self._request(b"".join(self._body))
        self._queue.append(_Pending(request, self._parser.should_keep_alive()))
        if self._task_idle():
            self._task = asyncio.get_running_loop().create_task(self._serve())

    def _request(self, body: bytes, body_file: SpooledBody | None = None) -> ServiceRequest:
        path, _, query = self._url.partition(b"?")
        headers = Headers(self._headers)
        return ServiceRequest(
            method=self._parser.get_method().decode("latin-1"),
            path=path.partition(b"#")[0].decode("latin-1") or "/",
            query_string=query.decode("latin-1"),
            headers=headers,
            body=body,
            client_host=self._client,
            host=headers.get("host", ""),
            body_file=body_file,
        )

    # -- limits --------------------------------------------------------------------

    def _refuse(self, refusal: Refusal, head: ServiceRequest | None = None) -> None:
        """Answer a refused request in its service's error shape and close."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._spool is not None:
            self._spool.discard()
            self._spool = None
        request = head if head is not None else self._request(b"")
        service = route_service(request)
        response = render_refusal(refusal, service, error_protocol(service, request))
        transport.write(_head_bytes(request.method, response) + response.body)
        self._lingering = 0
        if self._timer is not None:
            self._timer.cancel()
        close_lingering(transport, asyncio.get_running_loop())

    def _expired(self, phase: int) -> None:
        """A read timeout (`ReadTimer`): idle and slow heads are closed without a word
        (as AWS's front ends do); a stalled body gets S3's RequestTimeout when S3 was
        addressed, since S3 answers it, and is closed otherwise."""
        if phase == BODY:
            request = self._request(b"")
            if route_service(request) == "s3":
                self._refuse(body_timed_out(), request)
                return
        self.close()

    # -- answering -----------------------------------------------------------------

    def _task_idle(self) -> bool:
        return self._task is None or self._task.done()

    async def _serve(self) -> None:
        while self._queue and self._transport is not None:
            pending = self._queue.popleft()
            body_file = pending.request.body_file
            try:
                response = await self._app.dispatch(pending.request)
            except Exception:
                response = ServiceResponse(500, [("Content-Type", "text/plain")], b"Internal error")
            finally:
                # Kept (renamed away) or not, a spooled body goes before the answer leaves.
                if body_file is not None:
                    body_file.discard()
            await self._write(pending.request.method, response)
            if not pending.keep_alive and self._transport is not None:
                self._transport.close()
                return
        timer = self._timer
        if timer is not None and timer.phase == BUSY:
            timer.phase = IDLE
            timer.last_active = timer.now()

    async def _write(self, method: str, response: ServiceResponse) -> None:
        transport = self._transport
        if transport is None:
            return
        head = _head_lines(method, response)
        no_body = method == "HEAD" or response.status in _NO_BODY_STATUSES
        stream = response.stream
        chunked = stream is not None and head[-1] == _CHUNKED
        head.append(b"\r\n")
        if stream is None or no_body:
            if not no_body:
                head.append(response.body)
            transport.write(b"".join(head))
            if stream is not None:
                await _close_stream(stream)
            return
        transport.write(b"".join(head))
        async for chunk in stream:
            if self._transport is None:
                break
            if chunk:
                transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if transport.get_write_buffer_size() > _HIGH_WATER:
                await self._writable.wait()
        if chunked and self._transport is not None:
            transport.write(b"0\r\n\r\n")

    def _reply_and_close(self, status: int, message: bytes) -> None:
        if self._transport is None:
            return
        reason = _REASONS.get(status, b"Error")
        self._transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (status, reason, len(message), message)
        )
        self._transport.close()


_CHUNKED = b"transfer-encoding: chunked\r\n"


def _head_lines(method: str, response: ServiceResponse) -> list[bytes]:
    """Status line and headers (without the blank line); the last line is `_CHUNKED`
    when the body goes out in chunks."""
    head = [b"HTTP/1.1 %d %s\r\n" % (response.status, _REASONS.get(response.status, b"Unknown"))]
    has_length = False
    # Names go out lower-cased (clients fold case).
    for name, value in response.headers:
        lower = name.lower()
        if lower == "content-length":
            has_length = True
        head.append(f"{lower}: {value}\r\n".encode("latin-1"))
    head.append(b"date: " + _DATE.get() + b"\r\n")
    no_body = method == "HEAD" or response.status in _NO_BODY_STATUSES
    stream = response.stream
    if stream is None and not has_length and response.status not in _NO_BODY_STATUSES:
        head.append(b"content-length: %d\r\n" % len(response.body))
    if stream is not None and not has_length and not no_body:
        head.append(_CHUNKED)
    return head


def _head_bytes(method: str, response: ServiceResponse) -> bytes:
    return b"".join(_head_lines(method, response)) + b"\r\n"


async def _close_stream(stream: Any) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()


class EdgeHttpServer:
    """The listening socket and its connections, on the current event loop."""

    def __init__(self, app: EdgeApp, limits: EdgeLimits = SERVICES_LIMITS) -> None:
        self.app = app
        self.limits = limits
        self._connections: set[EdgeProtocol] = set()
        self._clients = ClientConnections(limits.max_connections_per_client)
        self._server: asyncio.AbstractServer | None = None

    async def start(self, sock: Any) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: EdgeProtocol(self.app, self._connections, self._clients, self.limits),
            sock=sock,
            backlog=1024,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.close()
        if self._server is not None:
            await self._server.wait_closed()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (it comes with uvicorn's standard extras), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop
