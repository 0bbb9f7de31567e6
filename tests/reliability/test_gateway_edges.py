"""Issue 18 on the gateway (`lambic local`'s API Gateway): findings 1, 3, 4 and 5.

The read timeouts are shortened for the run (the shipped numbers are 10 s and 20 s)
by swapping the limits the gateway's server reads at start-up.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from reliability_wire import (
    body_of,
    exchange,
    gateway_project,
    json_body,
    raw_request,
    read_until_closed,
    status_of,
)

import lambic.runtime._http_server as gateway_server
from lambic._http_limits import GATEWAY_LIMITS
from tests._support.clouds import RunningCloud

pytestmark = pytest.mark.slow

SHORT = replace(
    GATEWAY_LIMITS, header_timeout=1.0, body_idle_timeout=1.0, max_connections_per_client=20
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    patch = pytest.MonkeyPatch()
    patch.setattr(gateway_server, "GATEWAY_LIMITS", SHORT)
    try:
        project = gateway_project(Path(tmp_path_factory.mktemp("gw")))
        with RunningCloud(project, reload=False) as running:
            yield running
    finally:
        patch.undo()


def _post(gateway: RunningCloud, body: bytes, **extra: str) -> bytes:
    headers = {
        "Host": "localhost",
        "Content-Type": "application/octet-stream",
        "Content-Length": str(len(body)),
        "Connection": "close",
        **extra,
    }
    reply, _ = exchange(gateway.port, raw_request("POST", "/", headers, body), timeout=60)
    return reply


def test_a_normal_request_is_served(gateway: RunningCloud) -> None:
    reply = _post(gateway, b"abc")
    assert status_of(reply) == 200
    assert json_body(reply) == {"size": 3}


def test_content_length_of_6_gb_is_answered_413_at_the_headers(gateway: RunningCloud) -> None:
    head = raw_request("POST", "/", {"Host": "localhost", "Content-Length": str(6 * 1024**3)})
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(head)  # and not one body byte
        reply = read_until_closed(sock)

    assert status_of(reply) == 413
    assert json_body(reply) == {"message": "Request Too Long"}
    assert time.monotonic() - started < 3


def test_a_body_over_lambdas_6_mb_gets_api_gateways_json_500(gateway: RunningCloud) -> None:
    reply = _post(gateway, b"x" * (7 * 1024 * 1024))

    assert status_of(reply) == 500
    assert json_body(reply) == {"message": "Internal server error"}
    assert b"x-amzn-ErrorType: InternalServerErrorException" in reply
    assert not any("Traceback" in line for line in gateway.lines)
    assert not any("RequestTooLargeError" in line for line in gateway.lines)


def test_a_body_over_10_mb_sent_in_full_still_reads_413(gateway: RunningCloud) -> None:
    reply = _post(gateway, b"x" * (10 * 1024 * 1024 + 1))
    assert status_of(reply) == 413
    assert json_body(reply) == {"message": "Request Too Long"}


def test_a_1_mb_header_is_refused_431(gateway: RunningCloud) -> None:
    reply = _post(gateway, b"", **{"X-Big": "y" * (1024 * 1024)})
    assert status_of(reply) == 431
    assert json_body(reply) == {"message": "Request Header Fields Too Large"}


def test_headers_over_10240_bytes_are_refused_and_under_served(gateway: RunningCloud) -> None:
    assert status_of(_post(gateway, b"", **{"X-Big": "y" * 9000})) == 200
    reply = _post(gateway, b"", **{"X-Big": "y" * 10_300})
    assert status_of(reply) == 431


def test_ten_thousand_headers_are_refused(gateway: RunningCloud) -> None:
    many = {f"X-H{i}": "1" for i in range(10_000)}
    assert status_of(_post(gateway, b"", **many)) == 431
    assert status_of(_post(gateway, b"", **{f"X-H{i}": "1" for i in range(50)})) == 200


def test_a_body_shorter_than_its_content_length_is_not_held(gateway: RunningCloud) -> None:
    head = raw_request("POST", "/", {"Host": "localhost", "Content-Length": "100"})
    reply, took = exchange(gateway.port, head + b"only-part", timeout=30)

    assert reply == b""  # closed without an answer once the body stalls
    assert took < 5


def test_a_slow_loris_head_is_dropped_at_the_header_deadline(gateway: RunningCloud) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        closed = False
        while time.monotonic() - started < 10:
            try:
                sock.sendall(b"X-a: b\r\n")  # one header line every 0.2 s, forever
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sock.settimeout(0.2)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
    assert closed
    assert time.monotonic() - started < 5


def test_connections_per_client_are_bounded(gateway: RunningCloud) -> None:
    socks = [
        socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
        for _ in range(SHORT.max_connections_per_client)
    ]
    try:
        extra = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
        with extra:
            extra.sendall(raw_request("GET", "/", {"Host": "localhost"}))
            assert read_until_closed(extra) == b""  # closed unread
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.3)  # the server sees the closes
    reply = _post(gateway, b"ok")
    assert status_of(reply) == 200
    assert body_of(reply)
