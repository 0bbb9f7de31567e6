"""The gateway's HTTP/1.1 server on a real socket: framing, keep-alive and limits.

A small ASGI app stands in for the `GatewayApp` so each test sees exactly what the
server hands over (scope, body) and what a client receives on the wire.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from lambic.runtime.gateway import GatewayServer

Scope = MutableMapping[str, Any]


class EchoApp:
    """Answers with what it saw; `/boom` raises; `/half` starts but never ends."""

    max_body_bytes = 64

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        message = await receive()
        body: bytes = message["body"]
        if scope["path"] == "/boom":
            raise RuntimeError("the app failed")
        if scope["path"] == "/slow":
            await asyncio.sleep(0.2)
        status = 413 if len(body) > self.max_body_bytes else 200
        answer = b"%s %s %d" % (scope["method"].encode(), scope["raw_path"], len(body))
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope["path"] == "/half":
            return
        await send({"type": "http.response.body", "body": answer})
        if scope["path"] == "/linger":
            await asyncio.sleep(3)  # as an invocation runs on after API Gateway's 504


@contextmanager
def serving(app: EchoApp, **options: Any) -> Iterator[int]:
    loop = asyncio.new_event_loop()
    server = GatewayServer(app, host="127.0.0.1", port=0, **options)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield server.port
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(grace=1), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def read_until_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def read_responses(sock: socket.socket, count: int, timeout: float = 5.0) -> list[bytes]:
    """Read `count` whole responses (each framed by its content-length)."""
    sock.settimeout(timeout)
    buffer = b""
    responses: list[bytes] = []
    while len(responses) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buffer[:head_end].lower()
            length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
            end = head_end + 4 + length
            if len(buffer) >= end:
                responses.append(buffer[:end])
                buffer = buffer[end:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(responses)} responses"
        buffer += chunk
    return responses


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def test_pipelined_requests_are_answered_in_order_on_one_connection() -> None:
    app = EchoApp()
    with serving(app) as port, connect(port) as sock:
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /c?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        first, second, third = read_responses(sock, 3)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(b"GET /slow 0")
    assert second.endswith(b"POST /b 3")
    assert third.endswith(b"GET /c 0")
    assert app.scopes[2]["query_string"] == b"q=1"


def test_request_header_names_keep_the_clients_spelling() -> None:
    app = EchoApp()
    with serving(app) as port, connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Custom-Thing: 1\r\n\r\n")
        read_responses(sock, 1)
    assert (b"X-Custom-Thing", b"1") in app.scopes[0]["headers"]


def test_http_1_0_gets_connection_close_and_the_socket_closes() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        response = read_until_closed(sock)
    assert b"connection: close\r\n" in response
    assert response.endswith(b"GET /old 0")


def test_malformed_request_gets_400_and_the_connection_closes() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        response = read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_expect_100_continue_is_answered_before_the_body_is_sent() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(
            b"PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        sock.settimeout(5)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"data")
        (response,) = read_responses(sock, 1)
    assert response.endswith(b"PUT /up 4")


def test_head_gets_headers_without_a_body() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        data = b""
        while not data.endswith(b"GET /next 0"):
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
    head_response, _, rest = data.partition(b"\r\n\r\n")
    assert b"content-length: 9" in head_response.lower()  # of "HEAD /h 0"
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body bytes between the two


def test_a_body_past_the_limit_is_refused_and_the_connection_closed() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.sendall(b"%x\r\n%s\r\n" % (200, b"y" * 200))
        response = read_until_closed(sock)
    # The app saw one byte past its limit (not the whole upload) and answered 413.
    assert response.startswith(b"HTTP/1.1 413 ")
    assert response.endswith(b"POST /big 65")


def test_the_next_request_does_not_wait_for_an_app_still_running_after_its_answer() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(b"GET /linger HTTP/1.1\r\nHost: x\r\n\r\n")
        read_responses(sock, 1)
        started = time.monotonic()
        sock.sendall(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        (response,) = read_responses(sock, 1)
    assert response.endswith(b"GET /next 0")
    assert time.monotonic() - started < 1.5


def test_an_app_exception_becomes_a_500_and_the_connection_stays_usable() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        failed, after = read_responses(sock, 2)
    assert failed.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert after.endswith(b"GET /after 0")


def test_a_response_left_unfinished_closes_the_connection() -> None:
    with serving(EchoApp()) as port, connect(port) as sock:
        sock.sendall(b"GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")


def test_idle_keep_alive_connections_are_closed_after_the_timeout() -> None:
    with serving(EchoApp(), keep_alive_timeout=0.3) as port, connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        read_responses(sock, 1)
        started = time.monotonic()
        assert read_until_closed(sock, timeout=5) == b""
        assert time.monotonic() - started < 3
