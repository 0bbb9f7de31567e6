"""GetObjectAttributes over a real edge port with unchanged boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
PART = 5 * 1024 * 1024


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="attrs")
    yield client
    client.close()


def test_attributes_of_a_simple_object_with_a_checksum(s3: Any) -> None:
    put = s3.put_object(Bucket="attrs", Key="a", Body=b"hello", ChecksumAlgorithm="SHA256")
    got = s3.get_object_attributes(Bucket="attrs", Key="a", ObjectAttributes=ALL)
    assert got["ETag"] == put["ETag"].strip('"')
    assert (got["ObjectSize"], got["StorageClass"]) == (5, "STANDARD")
    assert got["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert "ObjectParts" not in got and "VersionId" not in got
    only_size = s3.get_object_attributes(Bucket="attrs", Key="a", ObjectAttributes=["ObjectSize"])
    assert "ETag" not in only_size and only_size["ObjectSize"] == 5
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket="attrs", Key="missing", ObjectAttributes=ALL)
    assert exc.value.response["Error"]["Code"] == "NoSuchKey"


def test_attributes_page_through_the_parts_of_a_multipart_object(s3: Any) -> None:
    upload = s3.create_multipart_upload(Bucket="attrs", Key="m")["UploadId"]
    parts = []
    for number in (1, 2, 3):
        body = bytes([number]) * (PART if number < 3 else 10)
        etag = s3.upload_part(
            Bucket="attrs", Key="m", UploadId=upload, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket="attrs", Key="m", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    got = s3.get_object_attributes(
        Bucket="attrs", Key="m", ObjectAttributes=ALL, MaxParts=1, PartNumberMarker=1
    )
    object_parts = got["ObjectParts"]
    assert (object_parts["TotalPartsCount"], object_parts["IsTruncated"]) == (3, True)
    assert object_parts["NextPartNumberMarker"] == 2
    assert [(p["PartNumber"], p["Size"]) for p in object_parts["Parts"]] == [(2, PART)]


def test_attributes_of_an_old_version(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket="attrs", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="attrs", Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket="attrs", Key="v", Body=b"three")
    got = s3.get_object_attributes(
        Bucket="attrs", Key="v", VersionId=first, ObjectAttributes=["ObjectSize"]
    )
    assert (got["VersionId"], got["ObjectSize"]) == (first, 3)
