"""Spooled S3 uploads (issue 18, finding 2) keep every check an in-memory one has:
aws-chunked framing, trailing checksums, Content-MD5, multipart parts."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import zlib
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from reliability_wire import client

from lambic.services.server import EdgeServer

CHUNK = 64 * 1024


# Signed as an SDK signs (the edge verifies no signature by default): S3 refuses
# unsigned requests to a private bucket.
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _put(edge: EdgeServer, key: str, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=30)
    try:
        conn.request("PUT", f"/bucket/{key}", body=body, headers={**headers, **SIGNED})
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


# Spooled uploads keep the S3 features a write can carry (the merge of issue 21's
# versioning, encryption and multipart checksums with issue 18's spooling).

SSE_KEY = b"k" * 32


def _sse(prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}SSECustomerAlgorithm": "AES256", f"{prefix}SSECustomerKey": SSE_KEY}


def test_spooled_puts_to_a_versioned_bucket_keep_every_version(
    edge: EdgeServer, tmp_path: Path
) -> None:
    s3 = client("s3", edge.url)
    s3.create_bucket(Bucket="bucket")
    s3.put_bucket_versioning(Bucket="bucket", VersioningConfiguration={"Status": "Enabled"})
    first, second = os.urandom(2 * 1024 * 1024), os.urandom(2 * 1024 * 1024 + 1)

    v1 = s3.put_object(Bucket="bucket", Key="big.bin", Body=first)["VersionId"]
    v2 = s3.put_object(Bucket="bucket", Key="big.bin", Body=second)["VersionId"]

    assert v1 != v2
    assert s3.get_object(Bucket="bucket", Key="big.bin", VersionId=v1)["Body"].read() == first
    assert s3.get_object(Bucket="bucket", Key="big.bin")["Body"].read() == second
    versions = s3.list_object_versions(Bucket="bucket")["Versions"]
    assert sorted((v["VersionId"], v["Size"]) for v in versions) == sorted(
        [(v1, len(first)), (v2, len(second))]
    )
    assert _tmp(tmp_path / "state") == []


def test_a_spooled_sse_c_put_needs_its_key_and_copies_from_an_encoded_version(
    edge: EdgeServer,
) -> None:
    s3 = client("s3", edge.url)
    s3.create_bucket(Bucket="bucket")
    s3.put_bucket_versioning(Bucket="bucket", VersioningConfiguration={"Status": "Enabled"})
    data = os.urandom(2 * 1024 * 1024)
    key = "dir/ä b+c%.bin"  # percent-encoded in the copy source, decoded byte for byte

    put = s3.put_object(Bucket="bucket", Key=key, Body=data, **_sse())
    assert put["SSECustomerAlgorithm"] == "AES256"
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket="bucket", Key=key)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.put_object(Bucket="bucket", Key=key, Body=b"newer", **_sse())

    copied = s3.copy_object(
        Bucket="bucket",
        Key="copy.bin",
        CopySource={"Bucket": "bucket", "Key": key, "VersionId": put["VersionId"]},
        **_sse("CopySource"),
    )
    assert copied["CopySourceVersionId"] == put["VersionId"]
    assert s3.get_object(Bucket="bucket", Key="copy.bin")["Body"].read() == data


def test_spooled_parts_of_an_encrypted_upload_get_the_checksum_it_asked_for(
    edge: EdgeServer,
) -> None:
    s3 = client("s3", edge.url)
    s3.create_bucket(Bucket="bucket")
    upload = s3.create_multipart_upload(
        Bucket="bucket", Key="big.bin", ChecksumAlgorithm="SHA256", **_sse()
    )["UploadId"]
    part = os.urandom(5 * 1024 * 1024)
    # No checksum header: the service computes the one the upload asked for, in the
    # same pass over the spooled file.
    sse_headers = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(SSE_KEY).decode(),
        "x-amz-server-side-encryption-customer-key-md5": base64.b64encode(
            hashlib.md5(SSE_KEY).digest()
        ).decode(),
    }
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=30)
    try:
        conn.request(
            "PUT",
            f"/bucket/big.bin?partNumber=1&uploadId={upload}",
            body=part,
            headers={**sse_headers, **SIGNED},
        )
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status == 200
    expected = base64.b64encode(hashlib.sha256(part).digest()).decode()
    assert response.getheader("x-amz-checksum-sha256") == expected

    s3.complete_multipart_upload(
        Bucket="bucket",
        Key="big.bin",
        UploadId=upload,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": response.getheader("ETag"), "ChecksumSHA256": expected}
            ]
        },
        **_sse(),
    )
    assert s3.get_object(Bucket="bucket", Key="big.bin", **_sse())["Body"].read() == part
