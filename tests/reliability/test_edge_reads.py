"""Issue 18 on the services' edge: findings 3 (read timeouts, connections per client)
and 4 (header limits), each answered in the addressed service's shape."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from reliability_wire import (
    body_of,
    client,
    exchange,
    json_body,
    make_edge,
    raw_request,
    read_until_closed,
    signed_head,
    status_of,
)

from lambic._http_limits import SERVICES_LIMITS
from lambic.services.server import EdgeServer

SHORT = replace(
    SERVICES_LIMITS,
    header_timeout=0.5,
    body_idle_timeout=0.5,
    keep_alive_timeout=0.5,
    max_connections_per_client=16,
)


@pytest.fixture
def short_edge(tmp_path: Path) -> Iterator[EdgeServer]:
    server = make_edge(tmp_path / "state", SHORT)
    yield server
    server.stop()


def _s3_put(edge: EdgeServer, path: str, extra: dict[str, str], body: bytes = b"") -> bytes:
    headers = signed_head("s3", edge.url, "PUT", path, {"Host": f"127.0.0.1:{edge.port}", **extra})
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    reply, _ = exchange(edge.port, raw_request("PUT", path, headers, body))
    return reply


def test_s3_metadata_under_8_kb_is_served_over_is_refused(edge: EdgeServer) -> None:
    client("s3", edge.url).create_bucket(Bucket="bucket")

    # 2 KB of user metadata is S3's own limit (MetadataTooLarge); under it, served.
    assert status_of(_s3_put(edge, "/bucket/a", {"x-amz-meta-a": "v" * 1000}, b"x")) == 200
    reply = _s3_put(edge, "/bucket/a", {"x-amz-meta-a": "v" * 9000}, b"x")

    assert status_of(reply) == 400
    assert b"<Code>RequestHeaderSectionTooLarge</Code>" in body_of(reply)


def test_a_1_mb_header_is_refused_not_buffered(edge: EdgeServer) -> None:
    head = raw_request("GET", "/bucket", {"Host": "localhost", "X-Big": "y" * (1024 * 1024)})
    reply, _ = exchange(edge.port, head)
    assert status_of(reply) == 400
    assert b"RequestHeaderSectionTooLarge" in body_of(reply)


def test_ten_thousand_headers_get_dynamodbs_json_error(edge: EdgeServer) -> None:
    headers = {"Host": "localhost", "X-Amz-Target": "DynamoDB_20120810.ListTables"}
    headers.update({f"X-H{i}": "1" for i in range(10_000)})
    reply, _ = exchange(edge.port, raw_request("POST", "/", headers, b""))

    assert status_of(reply) == 400
    assert json_body(reply)["__type"].endswith("#MalformedHttpRequestException")


def test_a_short_s3_body_gets_request_timeout_and_is_closed(short_edge: EdgeServer) -> None:
    path = "/bucket/short"
    headers = signed_head("s3", short_edge.url, "PUT", path, {"Host": "localhost"})
    headers["Content-Length"] = "100"
    reply, took = exchange(short_edge.port, raw_request("PUT", path, headers, b"only-part"))

    assert status_of(reply) == 400
    assert b"<Code>RequestTimeout</Code>" in body_of(reply)
    assert took < 5


def test_a_short_sqs_body_is_closed(short_edge: EdgeServer) -> None:
    headers = {"Host": "localhost", "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Length": "50"}
    reply, took = exchange(short_edge.port, raw_request("POST", "/", headers, b"{"))
    assert reply == b""
    assert took < 5


def test_slow_loris_connections_are_all_dropped(short_edge: EdgeServer) -> None:
    socks = []
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", short_edge.port), timeout=10)
        sock.sendall(b"GET /bucket HTTP/1.1\r\nHost: localhost\r\n")
        socks.append(sock)
    started = time.monotonic()
    try:
        for sock in socks:
            for _ in range(20):  # a header line every 0.1 s keeps a naive server waiting
                try:
                    sock.sendall(b"X-a: b\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break
                time.sleep(0.1)
                if time.monotonic() - started > 3:
                    break
            assert read_until_closed(sock) == b""
    finally:
        for sock in socks:
            sock.close()
    assert time.monotonic() - started < 8
    # Normal requests are still served.
    assert client("s3", short_edge.url).list_buckets()["Buckets"] == []


# Signed as an SDK signs (the edge verifies no signature by default): S3 refuses
# unsigned requests to a private bucket.
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def test_an_idle_keep_alive_connection_is_closed(short_edge: EdgeServer) -> None:
    with socket.create_connection(("127.0.0.1", short_edge.port), timeout=5) as sock:
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - started < 3


def test_connections_per_client_are_bounded(short_edge: EdgeServer) -> None:
    socks = [
        socket.create_connection(("127.0.0.1", short_edge.port), timeout=5)
        for _ in range(SHORT.max_connections_per_client)
    ]
    try:
        with socket.create_connection(("127.0.0.1", short_edge.port), timeout=5) as extra:
            extra.sendall(raw_request("GET", "/", {"Host": "localhost"}))
            assert read_until_closed(extra) == b""
        # The ones admitted are served.
        head = {"Host": "localhost", "Connection": "close", **SIGNED}  # ListBuckets
        socks[0].sendall(raw_request("GET", "/", head))
        assert status_of(read_until_closed(socks[0])) == 200
    finally:
        for sock in socks:
            sock.close()
