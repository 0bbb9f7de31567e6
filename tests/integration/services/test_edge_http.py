"""The edge's own HTTP/1.1 server on a real socket: framing, pipelining, 100-continue."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.server import EdgeServer


class Echo:
    name = "s3"

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        if request.path == "/stream":
            return ServiceResponse(200, [], b"", _chunks())
        body = f"{request.method} {request.path}?{request.query_string} ".encode() + request.body
        return ServiceResponse(200, [("X-Echo", "1")], body)

    def close(self) -> None:
        pass


async def _chunks() -> AsyncIterator[bytes]:
    for part in (b"one,", b"two,", b"three"):
        yield part


def _exchange(edge: EdgeServer, raw: bytes, until: Callable[[bytes], bool]) -> bytes:
    with socket.create_connection(("127.0.0.1", edge.port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while not until(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_pipelined_requests_are_answered_in_order(start_edge: Any) -> None:
    edge = start_edge({"s3": Echo()})
    raw = (
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        b"PUT /b?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    data = _exchange(edge, raw, lambda d: d.count(b"HTTP/1.1 200") == 3 and d.endswith(b"? "))
    assert data.index(b"GET /a?") < data.index(b"PUT /b?q=1 abc") < data.index(b"GET /c?")


def test_chunked_request_bodies_and_streamed_responses(start_edge: Any) -> None:
    edge = start_edge({"s3": Echo()})
    raw = (
        b"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    data = _exchange(edge, raw, lambda d: d.endswith(b"abcde"))
    assert data.endswith(b"POST /p? abcde")
    streamed = _exchange(
        edge, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", lambda d: d.endswith(b"0\r\n\r\n")
    )
    assert b"transfer-encoding: chunked" in streamed
    assert b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n" in streamed


def test_expect_100_continue_is_answered_before_the_body_is_sent(start_edge: Any) -> None:
    edge = start_edge({"s3": Echo()})
    with socket.create_connection(("127.0.0.1", edge.port), timeout=5) as sock:
        sock.sendall(
            b"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"body")
        response = b""
        while not response.endswith(b"body"):
            response += sock.recv(1024)
    assert response.startswith(b"HTTP/1.1 200 OK")


def test_head_keeps_content_length_without_a_body_and_garbage_is_400(start_edge: Any) -> None:
    edge = start_edge({"s3": Echo()})
    head = _exchange(
        edge, b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", lambda d: False
    )
    assert b"content-length: 9\r\n" in head
    assert head.endswith(b"\r\n\r\n")
    bad = _exchange(edge, b"NOT HTTP AT ALL\r\n\r\n", lambda d: False)
    assert bad.startswith(b"HTTP/1.1 400")


def test_bodies_past_the_limit_are_refused_with_413(start_edge: Any, monkeypatch: Any) -> None:
    from lambic.services._http import EdgeSite

    monkeypatch.setattr(EdgeSite, "max_body_bytes", 10)
    monkeypatch.setattr(EdgeSite, "plan_above", 5)
    edge = start_edge({"dynamodb": Echo()})
    raw = (
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n"
        b"Content-Length: 20\r\n\r\n" + b"y" * 20
    )
    data = _exchange(edge, raw, lambda d: False)
    assert data.startswith(b"HTTP/1.1 413")
    assert b"RequestEntityTooLargeException" in data
