"""Spooled S3 uploads (issue 18, finding 2) keep every check an in-memory one has:
aws-chunked framing, trailing checksums, Content-MD5, multipart parts."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import zlib
from pathlib import Path

from reliability_wire import client

from lambic.services.server import EdgeServer

CHUNK = 64 * 1024


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _put(edge: EdgeServer, key: str, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=30)
    try:
        conn.request("PUT", f"/bucket/{key}", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _chunked(data: bytes, checksum: str) -> tuple[bytes, dict[str, str]]:
    pieces = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in pieces)
    body += b"0\r\n" + f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(data)),
    }
    return body, headers


def _tmp(edge_state: Path) -> list[Path]:
    return list((edge_state / "s3-blobs" / "tmp").iterdir())


def test_a_spooled_aws_chunked_upload_is_decoded_and_checked(
    edge: EdgeServer, tmp_path: Path
) -> None:
    s3 = client("s3", edge.url)
    s3.create_bucket(Bucket="bucket")
    data = os.urandom(3 * 1024 * 1024 + 5)

    body, headers = _chunked(data, _crc32(data))
    assert _put(edge, "good.bin", body, headers) == 200
    bad_body, bad_headers = _chunked(data, _crc32(b"other"))
    assert _put(edge, "bad.bin", bad_body, bad_headers) == 400

    got = s3.get_object(Bucket="bucket", Key="good.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == _crc32(data)
    assert got["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="bucket")["Contents"]] == ["good.bin"]
    assert _tmp(tmp_path / "state") == []


def test_a_spooled_upload_with_a_wrong_content_md5_is_bad_digest(
    edge: EdgeServer, tmp_path: Path
) -> None:
    client("s3", edge.url).create_bucket(Bucket="bucket")
    data = b"z" * (2 * 1024 * 1024)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()

    assert _put(edge, "md5.bin", data, {"Content-MD5": wrong}) == 400
    assert _tmp(tmp_path / "state") == []


def test_boto3_multipart_upload_of_spooled_parts_round_trips(
    edge: EdgeServer, tmp_path: Path
) -> None:
    s3 = client("s3", edge.url)
    s3.create_bucket(Bucket="bucket")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 * 1024 * 1024))

    s3.upload_file(str(source), "bucket", "big.bin")  # 8 MiB parts

    assert s3.get_object(Bucket="bucket", Key="big.bin")["Body"].read() == source.read_bytes()
    assert _tmp(tmp_path / "state") == []
