from __future__ import annotations

import base64
import hashlib

import pytest

from lambic.services._s3_hosts import virtual_host_bucket
from lambic.services.base import SigningContext
from lambic.services.s3._chunked import decode_aws_chunked
from lambic.services.s3._wire import parse_range, verify_checksums, verify_content_md5
from lambic.services.s3.errors import S3Error
from lambic.services.s3.notifications import parse_notification, render_notification


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 1)),
        ("bytes=2-", (2, 10)),
        ("bytes=-4", (6, 10)),
        ("bytes=-40", (0, 10)),
        ("bytes=5-500", (5, 10)),
        ("bytes=5-2", None),
        ("bytes=0-1,3-4", None),
        ("items=1-2", None),
        ("bytes=x-y", None),
    ],
)
def test_parse_range_follows_s3(header: str, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 10) == expected


def test_unsatisfiable_range_is_invalid_range() -> None:
    with pytest.raises(S3Error) as exc:
        parse_range("bytes=10-", 10)
    assert (exc.value.code, exc.value.status) == ("InvalidRange", 416)


def test_content_md5_and_checksums_are_checked() -> None:
    good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    verify_content_md5(good, b"data")
    with pytest.raises(S3Error, match="BadDigest"):
        verify_content_md5(good, b"other")
    with pytest.raises(S3Error, match="InvalidDigest"):
        verify_content_md5("c2hvcnQ=", b"data")
    with pytest.raises(S3Error, match="BadDigest"):
        verify_checksums({"SHA1": "AAAA"}, b"data")
    for algorithm in ("CRC32C", "CRC64NVME"):  # computed too, not taken on trust
        with pytest.raises(S3Error, match="BadDigest"):
            verify_checksums({algorithm: "AAAA"}, b"data")


def test_unsigned_aws_chunked_body_with_trailer_decodes() -> None:
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    decoded = decode_aws_chunked(body)
    assert decoded.data == b"hello world"
    assert decoded.trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


def test_truncated_aws_chunked_body_is_incomplete_body() -> None:
    with pytest.raises(S3Error, match="IncompleteBody"):
        decode_aws_chunked(b"a\r\nshort\r\n")


def test_signed_chunk_with_a_wrong_signature_is_refused() -> None:
    signing = SigningContext(
        b"k" * 32, "20250101T000000Z", "20250101/us-east-1/s3/aws4_request", "0" * 64
    )
    body = b"5;chunk-signature=" + b"f" * 64 + b"\r\nhello\r\n0;chunk-signature=" + b"f" * 64
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        decode_aws_chunked(body + b"\r\n\r\n", signing)


def test_virtual_host_bucket_names() -> None:
    assert virtual_host_bucket("photos.localhost:4566") == "photos"
    assert virtual_host_bucket("photos.s3.localhost") == "photos"
    assert virtual_host_bucket("my.bucket.s3.eu-west-1.amazonaws.com") == "my.bucket"
    assert virtual_host_bucket("s3.localhost:4566") is None
    assert virtual_host_bucket("127.0.0.1:4566") is None
    assert virtual_host_bucket("localhost:4566") is None


def test_notification_rules_match_events_prefixes_and_suffixes() -> None:
    document = (
        b"<NotificationConfiguration><CloudFunctionConfiguration><Id>a</Id>"
        b"<CloudFunction>arn:f</CloudFunction><Event>s3:ObjectCreated:*</Event>"
        b"<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>in/</Value></FilterRule>"
        b"</S3Key></Filter></CloudFunctionConfiguration></NotificationConfiguration>"
    )
    config = parse_notification(document)
    assert [r.id for r in config.targets("ObjectCreated:Put", "in/a.jpg")] == ["a"]
    assert config.targets("ObjectRemoved:Delete", "in/a.jpg") == []
    assert config.targets("ObjectCreated:Copy", "out/a.jpg") == []
    assert parse_notification(render_notification(config)) == config


@pytest.mark.parametrize(
    "rule",
    [
        b"<Event>s3:Bogus</Event>",
        b"<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>middle</Name>"
        b"<Value>x</Value></FilterRule></S3Key></Filter>",
    ],
)
def test_invalid_notification_rules_are_invalid_argument(rule: bytes) -> None:
    document = (
        b"<NotificationConfiguration><QueueConfiguration><Queue>arn:q</Queue>"
        + rule
        + b"</QueueConfiguration></NotificationConfiguration>"
    )
    with pytest.raises(S3Error) as exc:
        parse_notification(document)
    assert exc.value.code == "InvalidArgument"
