"""Multipart uploads through boto3: AWS's ETag, size and order rules, listing, abort."""

from __future__ import annotations

import hashlib
import http.client
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service

MB = 1024 * 1024


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="uploads")
    yield client
    client.close()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_complete_assembles_parts_with_aws_multipart_etag(s3: Any) -> None:
    parts = [b"a" * (5 * MB), b"b" * (5 * MB), b"tail"]
    upload = s3.create_multipart_upload(
        Bucket="uploads", Key="big.bin", ContentType="application/x-big", Metadata={"m": "1"}
    )
    upload_id = upload["UploadId"]
    etags = [
        s3.upload_part(
            Bucket="uploads", Key="big.bin", UploadId=upload_id, PartNumber=n, Body=data
        )["ETag"]
        for n, data in enumerate(parts, start=1)
    ]
    listed = s3.list_parts(Bucket="uploads", Key="big.bin", UploadId=upload_id)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [5 * MB, 5 * MB, 4]
    uploads = s3.list_multipart_uploads(Bucket="uploads")["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    done = s3.complete_multipart_upload(
        Bucket="uploads",
        Key="big.bin",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    )
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-3"'
    got = s3.get_object(Bucket="uploads", Key="big.bin")
    assert got["Body"].read() == b"".join(parts)
    assert got["ContentType"] == "application/x-big"
    assert got["Metadata"] == {"m": "1"}
    assert s3.list_multipart_uploads(Bucket="uploads").get("Uploads", []) == []
    second = s3.get_object(Bucket="uploads", Key="big.bin", PartNumber=2)
    assert second["Body"].read() == parts[1]
    assert (second["PartsCount"], second["ContentRange"]) == (
        3,
        f"bytes {5 * MB}-{10 * MB - 1}/{10 * MB + 4}",
    )
    head = s3.head_object(Bucket="uploads", Key="big.bin", PartNumber=3)
    assert head["ContentLength"] == 4
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="uploads", Key="big.bin", PartNumber=4)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="uploads", Key="big.bin", PartNumber=4)
    assert exc.value.response["Error"]["Code"] == "InvalidPart"
    # Completing the same upload again answers the object it made (AWS).
    listed_parts = [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]
    again = s3.complete_multipart_upload(
        Bucket="uploads", Key="big.bin", UploadId=upload_id, MultipartUpload={"Parts": listed_parts}
    )
    assert again["ETag"] == done["ETag"]


def test_small_non_final_part_is_entity_too_small(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket="uploads", Key="k")["UploadId"]
    etags = [
        s3.upload_part(Bucket="uploads", Key="k", UploadId=upload_id, PartNumber=n, Body=b"x")[
            "ETag"
        ]
        for n in (1, 2)
    ]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="uploads",
            Key="k",
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 2, "ETag": etags[1]}]
            },
        )
    assert _code(exc) == "EntityTooSmall"
    with pytest.raises(ClientError):
        s3.head_object(Bucket="uploads", Key="k")


def test_wrong_etag_is_invalid_part_and_descending_order_is_invalid_part_order(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket="uploads", Key="k")["UploadId"]
    etag = s3.upload_part(Bucket="uploads", Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")[
        "ETag"
    ]
    s3.upload_part(Bucket="uploads", Key="k", UploadId=upload_id, PartNumber=2, Body=b"y")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="uploads",
            Key="k",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]},
        )
    assert _code(exc) == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="uploads",
            Key="k",
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": 2, "ETag": etag}, {"PartNumber": 1, "ETag": etag}]
            },
        )
    assert _code(exc) == "InvalidPartOrder"
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket="uploads", Key="k", UploadId=upload_id, PartNumber=10001, Body=b"")
    assert _code(exc) == "InvalidArgument"


def test_abort_forgets_the_upload_and_later_calls_are_no_such_upload(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket="uploads", Key="k")["UploadId"]
    s3.upload_part(Bucket="uploads", Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket="uploads", Key="k", UploadId=upload_id)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket="uploads", Key="k", UploadId=upload_id)
    assert _code(exc) == "NoSuchUpload"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket="uploads", Key="k", UploadId="bogus", PartNumber=1, Body=b"x")
    assert _code(exc) == "NoSuchUpload"


# Signed as an SDK signs (the edge verifies no signature by default): S3 refuses
# unsigned requests to a private bucket.
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def test_a_part_without_an_upload_id_is_no_such_upload(s3: Any) -> None:
    # Found by the edge fuzzer: a PUT with partNumber but no uploadId was a 500.
    url = urlsplit(s3.meta.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        conn.request("PUT", "/uploads/k?partNumber=1", body=b"x", headers=SIGNED)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 404
    assert b"<Code>NoSuchUpload</Code>" in body


def test_upload_part_copy_takes_a_byte_range_of_another_object(s3: Any) -> None:
    source = bytes(range(256)) * (24 * 1024)  # 6 MiB
    s3.put_object(Bucket="uploads", Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket="uploads", Key="dst")["UploadId"]
    first = s3.upload_part_copy(
        Bucket="uploads",
        Key="dst",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": "uploads", "Key": "src"},
        CopySourceRange=f"bytes=0-{5 * MB - 1}",
    )["CopyPartResult"]["ETag"]
    second = s3.upload_part_copy(
        Bucket="uploads",
        Key="dst",
        UploadId=upload_id,
        PartNumber=2,
        CopySource={"Bucket": "uploads", "Key": "src"},
        CopySourceRange=f"bytes={5 * MB}-",
    )["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(
        Bucket="uploads",
        Key="dst",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]
        },
    )
    assert s3.get_object(Bucket="uploads", Key="dst")["Body"].read() == source


def test_boto3_managed_transfer_uploads_and_downloads_in_parts(s3: Any) -> None:
    payload = bytes(range(256)) * (48 * 1024)  # 12 MiB → three 5 MiB-ish parts
    config = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    s3.upload_fileobj(io.BytesIO(payload), "uploads", "managed", Config=config)
    head = s3.head_object(Bucket="uploads", Key="managed")
    assert head["ETag"].endswith('-3"')
    assert head["ContentLength"] == len(payload)
    out = io.BytesIO()
    s3.download_fileobj("uploads", "managed", out, Config=config)
    assert out.getvalue() == payload


def test_a_part_listed_twice_counts_once_as_its_last_entry(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket="uploads", Key="resent")["UploadId"]
    first = s3.upload_part(
        Bucket="uploads", Key="resent", UploadId=upload_id, PartNumber=1, Body=b"B" * 8
    )["ETag"]
    second = s3.upload_part(
        Bucket="uploads", Key="resent", UploadId=upload_id, PartNumber=1, Body=b"A" * 8
    )["ETag"]
    s3.complete_multipart_upload(
        Bucket="uploads",
        Key="resent",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 1, "ETag": second}]
        },
    )
    assert s3.get_object(Bucket="uploads", Key="resent")["Body"].read() == b"A" * 8


def test_a_copy_range_past_the_sources_end_is_invalid_range(s3: Any) -> None:
    s3.put_object(Bucket="uploads", Key="five", Body=b"12345")
    upload_id = s3.create_multipart_upload(Bucket="uploads", Key="dest")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(
            Bucket="uploads",
            Key="dest",
            UploadId=upload_id,
            PartNumber=1,
            CopySource={"Bucket": "uploads", "Key": "five"},
            CopySourceRange="bytes=0-21",
        )
    assert _code(exc) == "InvalidRange"
    part = s3.upload_part_copy(
        Bucket="uploads",
        Key="dest",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": "uploads", "Key": "five"},
        CopySourceRange="bytes=1-4",
    )
    assert part["CopyPartResult"]["ETag"]
