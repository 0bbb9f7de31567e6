"""aws-chunked uploads as botocore ≥ 1.36 sends them over TLS: unsigned, CRC32 trailer."""

from __future__ import annotations

import base64
import http.client
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from lambic.services.s3 import create_service
from lambic.services.server import EdgeServer


@pytest.fixture
def edge(start_edge: Any, make_client: Any) -> Iterator[tuple[EdgeServer, Any]]:
    server: EdgeServer = start_edge({"s3": create_service(None)})
    client = make_client("s3", server.url)
    client.create_bucket(Bucket="chunky")
    yield server, client
    client.close()


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


# Signed as an SDK signs (the edge verifies no signature by default): S3 refuses
# unsigned requests to a private bucket.
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def _put_chunked(server: EdgeServer, key: str, chunks: list[bytes], checksum: str) -> int:
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
    body += b"0\r\n" + f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
        "x-amz-decoded-content-length": str(sum(len(c) for c in chunks)),
        "Content-Type": "text/plain",
        **SIGNED,
    }
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("PUT", f"/chunky/{key}", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_unsigned_trailer_upload_is_decoded_and_its_checksum_returned(
    edge: tuple[EdgeServer, Any],
) -> None:
    server, s3 = edge
    chunks = [b"hello ", b"chunked ", b"world"]
    data = b"".join(chunks)
    assert _put_chunked(server, "doc.txt", chunks, _crc32(data)) == 200
    got = s3.get_object(Bucket="chunky", Key="doc.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == _crc32(data)
    assert got["ContentType"] == "text/plain"
    assert "ContentEncoding" not in got  # aws-chunked is framing, not stored


def test_trailer_checksum_mismatch_is_bad_digest_and_stores_nothing(
    edge: tuple[EdgeServer, Any],
) -> None:
    server, s3 = edge
    assert _put_chunked(server, "bad.txt", [b"data"], _crc32(b"other")) == 400
    assert s3.list_objects_v2(Bucket="chunky")["KeyCount"] == 0
