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
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections import deque
from http import HTTPStatus
from typing import Any, cast

import httptools

from lambic.services.base import Headers, ServiceRequest, ServiceResponse
from lambic.services.edge import MAX_BODY_BYTES, EdgeApp

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


class EdgeProtocol(asyncio.Protocol):
    """One client connection."""

    def __init__(self, app: EdgeApp, connections: set[EdgeProtocol]) -> None:
        self._app = app
        self._connections = connections
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client = "127.0.0.1"
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._queue: deque[_Pending] = deque()
        self._task: asyncio.Task[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but behave as one.
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if peer:
            self._client = str(peer[0])
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._transport = None
        self._writable.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply_and_close(400, b"Protocol upgrades are not supported")
        except httptools.HttpParserError:
            if self._transport is not None and not self._transport.is_closing():
                self._reply_and_close(400, b"Malformed HTTP request")

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- httptools callbacks -------------------------------------------------------

    def on_message_begin(self) -> None:
        self._size = 0
        self._url = b""
        self._headers = []
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        for name, value in self._headers:
            if name.lower() == "expect" and value.lower() == "100-continue":
                if self._transport is not None and not self._queue and self._task_idle():
                    self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                break

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._size += len(body)
        if self._size > MAX_BODY_BYTES:
            # Bodies are held in memory; past AWS's single-PUT limit we stop reading.
            self._reply_and_close(413, b"Request body larger than 5 GiB; use multipart upload")
            raise httptools.HttpParserError("body too large")

    def on_message_complete(self) -> None:
        url = self._url
        path, _, query = url.partition(b"?")
        headers = Headers(self._headers)
        request = ServiceRequest(
            method=self._parser.get_method().decode("latin-1"),
            path=path.partition(b"#")[0].decode("latin-1") or "/",
            query_string=query.decode("latin-1"),
            headers=headers,
            body=b"".join(self._body),
            client_host=self._client,
            host=headers.get("host", ""),
        )
        self._queue.append(_Pending(request, self._parser.should_keep_alive()))
        if self._task_idle():
            self._task = asyncio.get_running_loop().create_task(self._serve())

    # -- answering -----------------------------------------------------------------

    def _task_idle(self) -> bool:
        return self._task is None or self._task.done()

    async def _serve(self) -> None:
        while self._queue and self._transport is not None:
            pending = self._queue.popleft()
            try:
                response = await self._app.dispatch(pending.request)
            except Exception:
                response = ServiceResponse(500, [("Content-Type", "text/plain")], b"Internal error")
            await self._write(pending.request.method, response)
            if not pending.keep_alive and self._transport is not None:
                self._transport.close()
                return

    async def _write(self, method: str, response: ServiceResponse) -> None:
        transport = self._transport
        if transport is None:
            return
        head = [
            b"HTTP/1.1 %d %s\r\n" % (response.status, _REASONS.get(response.status, b"Unknown"))
        ]
        has_length = False
        # Names go out lower-cased, as the ASGI edge sent them (clients fold case).
        for name, value in response.headers:
            lower = name.lower()
            if lower == "content-length":
                has_length = True
            head.append(f"{lower}: {value}\r\n".encode("latin-1"))
        head.append(b"date: " + _DATE.get() + b"\r\n")
        no_body = method == "HEAD" or response.status in _NO_BODY_STATUSES
        stream = response.stream
        chunked = stream is not None and not has_length and not no_body
        if stream is None and not has_length and response.status not in _NO_BODY_STATUSES:
            head.append(b"content-length: %d\r\n" % len(response.body))
        if chunked:
            head.append(b"transfer-encoding: chunked\r\n")
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


async def _close_stream(stream: Any) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()


class EdgeHttpServer:
    """The listening socket and its connections, on the current event loop."""

    def __init__(self, app: EdgeApp) -> None:
        self.app = app
        self._connections: set[EdgeProtocol] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self, sock: Any) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: EdgeProtocol(self.app, self._connections), sock=sock, backlog=1024
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
