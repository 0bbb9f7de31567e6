"""Multipart upload checksums over a real edge port with unchanged boto3: COMPOSITE
(SHA256) and FULL_OBJECT (CRC32, combined from the parts) checksums, checked on
complete and returned by HEAD, part GETs and GetObjectAttributes."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import crc, create_service

PART = 5 * 1024 * 1024
BODIES = (b"A" * PART, b"B" * PART, b"C" * 1000)
_OURS = {"CRC32C": crc.crc32c, "CRC64NVME": crc.crc64nvme}


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="sums")
    yield client
    client.close()


def _upload(s3: Any, algorithm: str, kind: str) -> tuple[str, list[dict[str, Any]]]:
    created = s3.create_multipart_upload(
        Bucket="sums", Key="m", ChecksumAlgorithm=algorithm, ChecksumType=kind
    )
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == (algorithm, kind)
    parts = []
    for number, body in enumerate(BODIES, start=1):
        # botocore computes CRC32C and CRC64NVME only with awscrt: given here instead.
        given = {}
        if algorithm in _OURS:
            given[f"Checksum{algorithm}"] = base64.b64encode(_OURS[algorithm](body)).decode()
        sent = s3.upload_part(
            Bucket="sums",
            Key="m",
            UploadId=created["UploadId"],
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm=algorithm,
            **given,
        )
        parts.append(
            {
                "PartNumber": number,
                "ETag": sent["ETag"],
                f"Checksum{algorithm}": sent[f"Checksum{algorithm}"],
            }
        )
    return created["UploadId"], parts


def test_composite_sha256_is_the_hash_of_the_part_hashes(s3: Any) -> None:
    upload, parts = _upload(s3, "SHA256", "COMPOSITE")
    digests = b"".join(hashlib.sha256(body).digest() for body in BODIES)
    expected = base64.b64encode(hashlib.sha256(digests).digest()).decode() + "-3"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="sums",
            Key="m",
            UploadId=upload,
            ChecksumSHA256=base64.b64encode(b"x" * 32).decode() + "-3",
            MultipartUpload={"Parts": parts},
        )
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    done = s3.complete_multipart_upload(
        Bucket="sums", Key="m", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    assert (done["ChecksumSHA256"], done["ChecksumType"]) == (expected, "COMPOSITE")
    head = s3.head_object(Bucket="sums", Key="m", ChecksumMode="ENABLED")
    assert (head["ChecksumSHA256"], head["ChecksumType"]) == (expected, "COMPOSITE")
    assert "ChecksumSHA256" not in s3.head_object(Bucket="sums", Key="m")
    second = s3.get_object(Bucket="sums", Key="m", PartNumber=2)
    assert second["ChecksumSHA256"] == parts[1]["ChecksumSHA256"]
    assert second["Body"].read() == BODIES[1]
    attrs = s3.get_object_attributes(
        Bucket="sums", Key="m", ObjectAttributes=["Checksum", "ObjectParts"]
    )
    assert attrs["Checksum"]["ChecksumType"] == "COMPOSITE"
    assert [p["ChecksumSHA256"] for p in attrs["ObjectParts"]["Parts"]] == [
        p["ChecksumSHA256"] for p in parts
    ]


def test_full_object_crc32_equals_the_crc_of_the_whole_object(s3: Any) -> None:
    upload, parts = _upload(s3, "CRC32", "FULL_OBJECT")
    done = s3.complete_multipart_upload(
        Bucket="sums", Key="m", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    whole = base64.b64encode(zlib.crc32(b"".join(BODIES)).to_bytes(4, "big")).decode()
    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (whole, "FULL_OBJECT")


def test_full_object_crc64nvme_and_composite_crc32c_are_computed(s3: Any) -> None:
    upload, parts = _upload(s3, "CRC64NVME", "FULL_OBJECT")
    done = s3.complete_multipart_upload(
        Bucket="sums", Key="m", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    whole = base64.b64encode(crc.crc64nvme(b"".join(BODIES))).decode()
    assert (done["ChecksumCRC64NVME"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    upload, parts = _upload(s3, "CRC32C", "COMPOSITE")
    done = s3.complete_multipart_upload(
        Bucket="sums", Key="m", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    joined = b"".join(crc.crc32c(body) for body in BODIES)
    composite = base64.b64encode(crc.crc32c(joined)).decode() + "-3"
    assert (done["ChecksumCRC32C"], done["ChecksumType"]) == (composite, "COMPOSITE")


def test_a_part_checksum_that_does_not_match_is_invalid_part(s3: Any) -> None:
    upload, parts = _upload(s3, "SHA256", "COMPOSITE")
    parts[0]["ChecksumSHA256"] = base64.b64encode(b"y" * 32).decode()
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="sums", Key="m", UploadId=upload, MultipartUpload={"Parts": parts}
        )
    assert exc.value.response["Error"]["Code"] == "InvalidPart"
