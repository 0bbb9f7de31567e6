"""Issue 18, finding 1: a declared Content-Length over the limit is refused at the
headers (no body byte sent), in the caller's protocol, on the services' edge."""

from __future__ import annotations

import socket

from reliability_wire import (
    body_of,
    json_body,
    raw_request,
    read_until_closed,
    signed_head,
    status_of,
)

from lambic.services.server import EdgeServer

SIX_GB = 6 * 1024 * 1024 * 1024


def _refused_without_body(port: int, raw_head: bytes) -> bytes:
    """Send only the head; the answer must come although no body byte follows."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw_head)
        return read_until_closed(sock)


def test_s3_put_declaring_6_gb_gets_entity_too_large_at_once(edge: EdgeServer) -> None:
    headers = signed_head(
        "s3", edge.url, "PUT", "/bucket/big.bin", {"Host": f"127.0.0.1:{edge.port}"}
    )
    headers["Content-Length"] = str(SIX_GB)
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"

    reply = _refused_without_body(edge.port, raw_request("PUT", "/bucket/big.bin", headers))

    assert status_of(reply) == 400
    assert b"<Code>EntityTooLarge</Code>" in body_of(reply)
    assert b"<ProposedSize>6442450944</ProposedSize>" in body_of(reply)
    assert b"<MaxSizeAllowed>5368709120</MaxSizeAllowed>" in body_of(reply)


def test_upload_part_over_5_gib_is_refused_too(edge: EdgeServer) -> None:
    path = "/bucket/big.bin?partNumber=1&uploadId=abc"
    headers = signed_head("s3", edge.url, "PUT", path, {"Host": f"127.0.0.1:{edge.port}"})
    headers["Content-Length"] = str(5 * 1024**3 + 1)

    reply = _refused_without_body(edge.port, raw_request("PUT", path, headers))

    assert status_of(reply) == 400
    assert b"<Code>EntityTooLarge</Code>" in body_of(reply)


def test_dynamodb_declaring_6_gb_gets_a_json_413(edge: EdgeServer) -> None:
    headers = signed_head(
        "dynamodb",
        edge.url,
        "POST",
        "/",
        {
            "Host": f"127.0.0.1:{edge.port}",
            "X-Amz-Target": "DynamoDB_20120810.PutItem",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    headers["Content-Length"] = str(SIX_GB)

    reply = _refused_without_body(edge.port, raw_request("POST", "/", headers))

    assert status_of(reply) == 413
    assert json_body(reply)["__type"].endswith("#RequestEntityTooLargeException")


def test_sqs_query_declaring_6_gb_gets_a_query_xml_413(edge: EdgeServer) -> None:
    headers = signed_head(
        "sqs",
        edge.url,
        "POST",
        "/",
        {
            "Host": f"127.0.0.1:{edge.port}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    headers["Content-Length"] = str(SIX_GB)

    reply = _refused_without_body(edge.port, raw_request("POST", "/", headers))

    assert status_of(reply) == 413
    assert b"<ErrorResponse" in body_of(reply)
    assert b"<Code>RequestEntityTooLargeException</Code>" in body_of(reply)


def test_a_chunked_body_growing_past_the_limit_is_cut_off(edge: EdgeServer) -> None:
    # No Content-Length to refuse at the headers: the edge counts as it reads (16 MiB
    # for a JSON service) and answers 413 once past it.
    headers = {
        "Host": f"127.0.0.1:{edge.port}",
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        "Transfer-Encoding": "chunked",
    }
    piece = b"x" * (1024 * 1024)
    frame = b"%x\r\n%s\r\n" % (len(piece), piece)
    with socket.create_connection(("127.0.0.1", edge.port), timeout=10) as sock:
        sock.sendall(raw_request("POST", "/", headers))
        try:
            for _ in range(32):
                sock.sendall(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_until_closed(sock)

    assert status_of(reply) == 413


def test_an_s3_request_that_is_no_upload_is_held_to_16_mib(edge: EdgeServer) -> None:
    path = "/bucket?delete"
    headers = signed_head("s3", edge.url, "POST", path, {"Host": f"127.0.0.1:{edge.port}"})
    headers["Content-Length"] = str(64 * 1024 * 1024)

    reply = _refused_without_body(edge.port, raw_request("POST", path, headers))

    assert status_of(reply) == 400
    assert b"<Code>MaxMessageLengthExceeded</Code>" in body_of(reply)
