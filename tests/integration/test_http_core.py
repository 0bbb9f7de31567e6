"""The HTTP/1.1 core (`lambic._http_core`) as clients meet it, on both of Lambic's edges.

Every test runs twice: against a real gateway (`GatewayServer` + `GatewayApp`, an
invoker that echoes the request body as the function's response) and against a real
services' edge (`EdgeServer` over real S3 state). What a protocol answers differs
(API Gateway's JSON, S3's XML) and is each `Target`'s to say; the framing, keep-alive,
limits and timeouts are the same server's and asserted alike. The read timeouts are
shortened (`SHORT`) so the suite runs in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambic._http_limits import GATEWAY_LIMITS, SERVICES_LIMITS
from lambic.runtime.gateway import GatewayApp, GatewayServer, create_api_definition
from lambic.services import create_services
from lambic.services.server import EdgeServer

TIMEOUTS = {
    "header_timeout": 1.0,
    "body_idle_timeout": 1.0,
    "keep_alive_timeout": 1.0,
    "max_connections_per_client": 8,
}
WORDS = ("one", "two", "three")


@dataclass(frozen=True)
class Outcome:
    status: str
    payload: bytes


class EchoInvoker:
    """The API function: answers 200 with the request's body (API Gateway's proxy shape)."""

    async def invoke(self, function_name: str, payload: bytes, /) -> Outcome:
        event = json.loads(payload)
        if event.get("body") == "slow":
            await asyncio.sleep(0.5)
        response = {"statusCode": 200, "body": event.get("body") or ""}
        return Outcome("ok", json.dumps(response).encode())


class Target:
    """One edge on a free port, and how its protocol phrases what the tests send."""

    name: str
    port: int
    #: Status of a request whose declared body is over the limit, and a word of its body.
    too_large: tuple[int, bytes]
    #: Status of a head over the limit, and a word of its body.
    head_too_large: tuple[int, bytes]
    #: What a stalled body gets before the connection closes (b"" for nothing).
    stalled_body_prefix: bytes

    def echo(self, word: str) -> bytes:
        """A request whose answer's body is `word`."""
        raise NotImplementedError

    def upload(self, body: bytes, *, chunked: bool = False, extra: str = "") -> bytes:
        """A request carrying `body`; `fetch` then shows what the server received."""
        raise NotImplementedError

    def fetch(self, reply: bytes) -> bytes:
        raise NotImplementedError

    def big_declared(self) -> bytes:
        """A head declaring a 6 GiB body, and no body."""
        raise NotImplementedError

    def head(self) -> bytes:
        """A HEAD for what `echo("one")` answers."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class GatewayTarget(Target):
    name = "gateway"
    too_large = (413, b"Request Too Long")
    head_too_large = (431, b"Request Header Fields Too Large")
    stalled_body_prefix = b""

    def __init__(self, host: str = "127.0.0.1") -> None:
        routes: dict[str, dict[str, Any]] = {"/": {"GET": {}, "POST": {}, "HEAD": {}}}
        api = create_api_definition(routes, function_name="echo-dev", stage="api")
        app = GatewayApp(EchoInvoker(), api)
        limits = replace(GATEWAY_LIMITS, **TIMEOUTS)  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        self.server = GatewayServer(app, host=host, port=0, limits=limits)
        self.port = self.server.port
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def echo(self, word: str) -> bytes:
        return post("/", word.encode())

    def upload(self, body: bytes, *, chunked: bool = False, extra: str = "") -> bytes:
        return post("/", body, chunked=chunked, extra=extra)

    def fetch(self, reply: bytes) -> bytes:
        return body_of(reply)

    def big_declared(self) -> bytes:
        return b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (6 * 1024**3)

    def head(self) -> bytes:
        return b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(grace=1), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class EdgeTarget(Target):
    name = "edge"
    too_large = (400, b"EntityTooLarge")  # S3's answer to an upload over 5 GiB
    head_too_large = (400, b"RequestHeaderSectionTooLarge")
    stalled_body_prefix = b"HTTP/1.1 400 Bad Request"  # S3's RequestTimeout

    def __init__(self, state: Path, host: str = "127.0.0.1") -> None:
        limits = replace(SERVICES_LIMITS, **TIMEOUTS)  # type: ignore[arg-type]
        self.server = EdgeServer(create_services(state).by_name(), host=host, limits=limits)
        self.server.start()
        self.port = self.server.port
        self.host = host
        # Signed, as S3 refuses unsigned writes to a private bucket.
        assert status_of(self.call((self.signed("PUT", "/bkt") + "\r\n").encode())) == 200
        for word in (*WORDS, "hello"):
            head = self.signed("PUT", f"/bkt/{word}", word.encode())
            assert status_of(self.call(_framed(head, word.encode(), False))) == 200

    def call(self, raw: bytes) -> bytes:
        with connect(self.port, self.host) as sock:
            sock.sendall(raw)
            return read_responses(sock, 1)[0]

    def signed(self, method: str, path: str, body: bytes = b"") -> str:
        """The request line and headers an SDK would send (SigV4 for S3), no blank line."""
        url = f"http://x:{self.port}"
        request = AWSRequest(method=method, url=url + path, data=body, headers={"Host": "x"})
        SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
        lines = [f"{name}: {value}" for name, value in request.headers.items()]
        return f"{method} {path} HTTP/1.1\r\n" + "".join(f"{line}\r\n" for line in lines)

    def echo(self, word: str) -> bytes:
        return (self.signed("GET", f"/bkt/{word}") + "\r\n").encode()

    def upload(self, body: bytes, *, chunked: bool = False, extra: str = "") -> bytes:
        head = self.signed("PUT", "/bkt/upload", body) + extra
        return _framed(head, body, chunked)

    def fetch(self, reply: bytes) -> bytes:
        assert status_of(reply) == 200, reply
        return body_of(self.call(self.echo("upload")))

    def big_declared(self) -> bytes:
        return b"PUT /bkt/big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (6 * 1024**3)

    def head(self) -> bytes:
        return (self.signed("HEAD", "/bkt/one") + "\r\n").encode()

    def stop(self) -> None:
        self.server.stop()


def post(path: str, body: bytes, *, chunked: bool = False, extra: str = "") -> bytes:
    return _with_body("POST", path, body, chunked, extra)


def put(path: str, body: bytes, *, chunked: bool = False, extra: str = "") -> bytes:
    return _with_body("PUT", path, body, chunked, extra)


def _with_body(method: str, path: str, body: bytes, chunked: bool, extra: str) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n{extra}"
    return _framed(head, body, chunked)


def _framed(head: str, body: bytes, chunked: bool) -> bytes:
    if not chunked:
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    return (
        f"{head}Transfer-Encoding: chunked\r\n\r\n".encode()
        + b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
        + b"0\r\n\r\n"
    )


# -- the wire ---------------------------------------------------------------------------


def connect(port: int, host: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection((host, port), timeout=5)


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def headers_of(reply: bytes) -> dict[bytes, bytes]:
    head = reply.partition(b"\r\n\r\n")[0]
    lines = head.split(b"\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}


def body_of(reply: bytes) -> bytes:
    return reply.partition(b"\r\n\r\n")[2]


def read_responses(sock: socket.socket, count: int, *, head_only: int = 0) -> list[bytes]:
    """`count` whole responses framed by their content-length (the first `head_only`
    of them answers to HEAD: no body follows their head)."""
    buffer = b""
    responses: list[bytes] = []
    while len(responses) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end >= 0:
            length = int(headers_of(buffer[: head_end + 4]).get(b"content-length", b"0"))
            if len(responses) < head_only:
                length = 0
            end = head_end + 4 + length
            if len(buffer) >= end:
                responses.append(buffer[:end])
                buffer = buffer[end:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"closed after {len(responses)} responses: {buffer[:200]!r}"
        buffer += chunk
    return responses


def read_until_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    started = time.monotonic()
    data = read_until_closed(sock, timeout=seconds + 5)
    return data, time.monotonic() - started


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["gateway", "edge"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    made: Target = (
        GatewayTarget()
        if request.param == "gateway"
        else EdgeTarget(tmp_path_factory.mktemp("edge"))
    )
    try:
        yield made
    finally:
        made.stop()


# -- keep-alive, pipelining, Connection: close ------------------------------------------


def test_requests_on_one_keep_alive_connection_are_all_answered(target: Target) -> None:
    with connect(target.port) as sock:
        for word in WORDS:
            sock.sendall(target.echo(word))
            (reply,) = read_responses(sock, 1)
            assert status_of(reply) == 200
            assert body_of(reply) == word.encode()
            assert b"connection" not in headers_of(reply)


def test_pipelined_requests_are_answered_in_order(target: Target) -> None:
    with connect(target.port) as sock:
        sock.sendall(b"".join(target.echo(word) for word in WORDS))
        replies = read_responses(sock, 3)
    assert [body_of(reply) for reply in replies] == [word.encode() for word in WORDS]


def test_connection_close_is_honoured_and_said(target: Target) -> None:
    raw = target.echo("one").replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    with connect(target.port) as sock:
        sock.sendall(raw)
        reply = read_until_closed(sock)
    assert status_of(reply) == 200
    assert headers_of(reply)[b"connection"] == b"close"
    assert reply.endswith(b"one")


@pytest.mark.parametrize("asks", [b"", b"Connection: keep-alive\r\n"], ids=["plain", "keep-alive"])
def test_http_1_0_closes_after_its_answer(target: Target, asks: bytes) -> None:
    raw = target.echo("two").replace(b"HTTP/1.1\r\n", b"HTTP/1.0\r\n" + asks, 1)
    with connect(target.port) as sock:
        sock.sendall(raw)
        reply = read_until_closed(sock)
    assert status_of(reply) == 200
    assert reply.endswith(b"two")


def test_head_answers_headers_without_the_body(target: Target) -> None:
    with connect(target.port) as sock:
        sock.sendall(target.head() + target.echo("two"))
        head, after = read_responses(sock, 2, head_only=1)
    assert status_of(head) == 200
    assert body_of(head) == b""
    assert status_of(after) == 200 and body_of(after) == b"two"  # nothing in between


# -- bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_request_bodies_arrive_whole(target: Target, chunked: bool) -> None:
    body = bytes(range(32, 127)) * 50
    with connect(target.port) as sock:
        sock.sendall(target.upload(body, chunked=chunked))
        (reply,) = read_responses(sock, 1)
    assert target.fetch(reply) == body


def test_expect_100_continue_is_answered_before_the_body(target: Target) -> None:
    raw = target.upload(b"late body", extra="Expect: 100-continue\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    with connect(target.port) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        (reply,) = read_responses(sock, 1)
    assert target.fetch(reply) == b"late body"


def test_a_declared_body_over_the_limit_is_refused_at_the_headers(target: Target) -> None:
    started = time.monotonic()
    with connect(target.port) as sock:
        sock.sendall(target.big_declared())  # and not one body byte
        reply = read_until_closed(sock)
    status, word = target.too_large
    assert status_of(reply) == status
    assert word in body_of(reply)
    assert headers_of(reply)[b"connection"] == b"close"
    assert time.monotonic() - started < 3


# -- limits and timeouts ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Big": "y" * (1024 * 1024)},
        {f"X-H{i}": "1" for i in range(10_000)},
    ],
    ids=["1-MB-header", "10000-headers"],
)
def test_a_head_over_the_limits_is_refused_and_closed(
    target: Target, headers: dict[str, str]
) -> None:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with connect(target.port) as sock:
        with_extra = target.echo("one").replace(b"Host: x\r\n", b"Host: x\r\n" + extra.encode())
        # Refused before all of it is sent: the answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(with_extra)
        reply = read_until_closed(sock)
    status, word = target.head_too_large
    assert status_of(reply) == status
    assert word in body_of(reply)


def test_a_malformed_request_gets_400_and_the_connection_closes(target: Target) -> None:
    with connect(target.port) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = read_until_closed(sock)
    assert status_of(reply) == 400


def test_requests_before_malformed_bytes_are_answered_then_400(target: Target) -> None:
    # As a client sending more body than its Content-Length meets it (AWS answers the
    # request, then the leftover bytes): the answers keep their order, then close.
    with connect(target.port) as sock:
        sock.sendall(b"".join(target.echo(word) for word in WORDS) + b"\x01 garbage\r\n\r\n")
        *replies, refused = read_responses(sock, 4)
        rest = read_until_closed(sock)
    assert [body_of(reply) for reply in replies] == [word.encode() for word in WORDS]
    assert status_of(refused) == 400
    assert rest == b""


def test_a_body_longer_than_its_length_is_answered_for_its_length(target: Target) -> None:
    raw = target.upload(b"0123456789")
    short = raw.replace(b"Content-Length: 10\r\n", b"Content-Length: 4\r\n")
    with connect(target.port) as sock:
        sock.sendall(short)  # 6 bytes past the declared 4, which are no request
        reply, refused = read_responses(sock, 2)
        rest = read_until_closed(sock)
    assert target.fetch(reply) == b"0123"
    assert status_of(refused) == 400
    assert rest == b""


def test_a_slow_loris_head_is_dropped_at_the_header_deadline(target: Target) -> None:
    started = time.monotonic()
    closed = False
    with connect(target.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        while not closed and time.monotonic() - started < 6:
            try:
                sock.sendall(b"X-a: b\r\n")  # a header line every 0.1 s, forever
                sock.settimeout(0.1)
                closed = sock.recv(1) == b""
            except TimeoutError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
    assert closed
    assert time.monotonic() - started < 3


def test_a_body_shorter_than_its_length_is_not_held(target: Target) -> None:
    raw = target.upload(b"x" * 100)
    with connect(target.port) as sock:
        sock.sendall(raw[:-60])  # 40 of 100 bytes, then silence
        reply, took = closed_within(sock, 1.0)
    assert reply.startswith(target.stalled_body_prefix)
    assert took < 3


def test_an_idle_keep_alive_connection_is_closed(target: Target) -> None:
    with connect(target.port) as sock:
        sock.sendall(target.echo("one"))
        read_responses(sock, 1)
        reply, took = closed_within(sock, 1.0)
    assert reply == b""
    assert took < 3


def test_connections_per_client_are_bounded(target: Target) -> None:
    bound = TIMEOUTS["max_connections_per_client"]
    held = [connect(target.port) for _ in range(int(bound))]
    try:
        time.sleep(0.2)  # the server has accepted them all
        with connect(target.port) as extra:
            extra.sendall(target.echo("one"))
            assert read_until_closed(extra) == b""  # closed unread
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)  # the server sees the closes
    with connect(target.port) as sock:
        sock.sendall(target.echo("one"))
        assert body_of(read_responses(sock, 1)[0]) == b"one"


# -- IPv6 ---------------------------------------------------------------------------------


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no ::1")
@pytest.mark.parametrize("edge", ["gateway", "edge"])
def test_both_edges_serve_on_ipv6_loopback(edge: str, tmp_path: Path) -> None:
    made: Target = GatewayTarget("::1") if edge == "gateway" else EdgeTarget(tmp_path, "::1")
    try:
        with connect(made.port, "::1") as sock:
            sock.sendall(made.echo("one"))
            assert body_of(read_responses(sock, 1)[0]) == b"one"
    finally:
        made.stop()


# -- graceful stop (the gateway's: `lambic local` lets requests in flight finish) ---------


def test_a_gateway_stopping_answers_the_request_in_flight_and_closes_idle_ones() -> None:
    gateway = GatewayTarget()
    try:
        with connect(gateway.port) as busy, connect(gateway.port) as idle:
            busy.sendall(gateway.echo("slow"))
            time.sleep(0.2)  # the invocation is under way
            stopping = asyncio.run_coroutine_threadsafe(gateway.server.stop(grace=5), gateway.loop)
            reply = read_until_closed(busy)
            assert read_until_closed(idle) == b""  # an idle connection is closed at once
            stopping.result(10)
        assert status_of(reply) == 200 and reply.endswith(b"slow")
        assert headers_of(reply)[b"connection"] == b"close"
        with pytest.raises(OSError):
            connect(gateway.port).close()  # no longer accepting
    finally:
        gateway.stop()  # a second stop only lets the loop go
