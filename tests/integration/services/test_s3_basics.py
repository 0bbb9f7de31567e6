"""S3 over a real edge port with unchanged boto3: buckets, objects, errors."""

from __future__ import annotations

import base64
import datetime as dt
import email.header
import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import crc, create_service


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    yield client
    client.close()


def _error(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return dict(exc.value.response["Error"])


def test_creates_lists_heads_and_deletes_a_bucket(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["photos"]
    head = s3.head_bucket(Bucket="photos")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    s3.delete_bucket(Bucket="photos")
    assert s3.list_buckets()["Buckets"] == []


def test_rejects_invalid_bucket_names_with_400(s3: Any) -> None:
    for name in ("ab", "UpperCase", "a..b", "192.168.1.1", "-dash", "xn--bucket"):
        with pytest.raises(ClientError) as exc:
            s3.create_bucket(Bucket=name)
        assert _error(exc)["Code"] == "InvalidBucketName"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_repeat_create_succeeds_in_us_east_1_but_not_elsewhere(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.create_bucket(Bucket="photos")  # AWS: 200 in us-east-1 for the owner
    s3.create_bucket(Bucket="euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(
            Bucket="euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert _error(exc)["Code"] == "BucketAlreadyOwnedByYou"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert s3.get_bucket_location(Bucket="euro")["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket="photos")["LocationConstraint"] is None


def test_delete_of_a_non_empty_bucket_is_409_bucket_not_empty(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="a", Body=b"1")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="photos")
    assert _error(exc)["Code"] == "BucketNotEmpty"
    assert _error(exc)["BucketName"] == "photos"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_put_and_get_round_trip_metadata_and_system_headers(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    put = s3.put_object(
        Bucket="photos",
        Key="dir/a b+c.txt",
        Body=b"hello",
        ContentType="text/plain",
        ContentEncoding="identity",
        ContentDisposition="attachment",
        CacheControl="max-age=60",
        Metadata={"Owner": "ann", "x": "1"},
    )
    assert put["ETag"] == '"5d41402abc4b2a76b9719d911017c592"'
    got = s3.get_object(Bucket="photos", Key="dir/a b+c.txt")
    assert got["Body"].read() == b"hello"
    assert got["ContentType"] == "text/plain"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == "attachment"
    assert got["CacheControl"] == "max-age=60"
    assert got["Metadata"] == {"owner": "ann", "x": "1"}
    assert got["ContentLength"] == 5
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]
    head = s3.head_object(Bucket="photos", Key="dir/a b+c.txt")
    assert head["ETag"] == put["ETag"]
    assert isinstance(head["LastModified"], dt.datetime)


def test_non_ascii_metadata_comes_back_as_the_sdk_reads_it(s3: Any) -> None:
    # botocore refuses non-ASCII `Metadata`, but a header set directly goes out as UTF-8
    # bytes, and headers are read back as ISO-8859-1: "é" must come back as the byte
    # 0xE9; what that charset cannot hold comes back in RFC 2047's form.
    sent = {"x-amz-meta-greeting": "Hello Worldé"}

    def add_headers(params: dict[str, Any], **_: Any) -> None:
        params["headers"].update(sent)

    s3.meta.events.register("before-call.s3.PutObject", add_headers)
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="k", Body=b"x")
    assert s3.get_object(Bucket="photos", Key="k")["Metadata"] == {"greeting": "Hello Worldé"}
    sent = {"x-amz-meta-city": "東京"}
    s3.put_object(Bucket="photos", Key="wide", Body=b"x")
    city = s3.head_object(Bucket="photos", Key="wide")["Metadata"]["city"]
    assert str(email.header.make_header(email.header.decode_header(city))) == "東京"


def test_default_content_type_is_binary_octet_stream(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="k", Body=b"x")
    got = s3.get_object(Bucket="photos", Key="k")
    assert (got["ContentType"], got["Body"].read()) == ("binary/octet-stream", b"x")


def test_missing_key_and_bucket_errors_carry_aws_fields(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="nobucket", Key="k")
    assert _error(exc)["Code"] == "NoSuchBucket"
    assert _error(exc)["BucketName"] == "nobucket"
    s3.create_bucket(Bucket="photos")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="photos", Key="missing")
    assert _error(exc)["Code"] == "NoSuchKey"
    assert _error(exc)["Key"] == "missing"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="photos", Key="missing")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_ranges_give_206_with_content_range_and_416_when_unsatisfiable(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="k", Body=b"0123456789")
    cases = {"bytes=2-4": b"234", "bytes=7-": b"789", "bytes=-3": b"789", "bytes=8-100": b"89"}
    for header, expected in cases.items():
        got = s3.get_object(Bucket="photos", Key="k", Range=header)
        assert got["Body"].read() == expected
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    ranged = s3.get_object(Bucket="photos", Key="k", Range="bytes=2-4")
    ranged["Body"].read()
    assert ranged["ContentRange"] == "bytes 2-4/10"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="photos", Key="k", Range="bytes=10-")
    assert _error(exc)["Code"] == "InvalidRange"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    # AWS ignores a Range it cannot parse and serves the whole object.
    whole = s3.get_object(Bucket="photos", Key="k", Range="pages=1-2")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert whole["Body"].read() == b"0123456789"


def test_conditional_gets_answer_304_and_412_like_aws(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    etag = s3.put_object(Bucket="photos", Key="k", Body=b"v1")["ETag"]
    past = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    future = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
    assert s3.get_object(Bucket="photos", Key="k", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="photos", Key="k", IfMatch='"nope"')
    assert _error(exc)["Code"] == "PreconditionFailed"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="photos", Key="k", IfNoneMatch=etag)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="photos", Key="k", IfModifiedSince=future)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="photos", Key="k", IfUnmodifiedSince=past)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    # If-Match true wins over a false If-Unmodified-Since (AWS documents this pair).
    both = s3.get_object(Bucket="photos", Key="k", IfMatch=etag, IfUnmodifiedSince=past)
    assert both["Body"].read() == b"v1"
    # If-None-Match false (no match) with If-Modified-Since true serves the object.
    served = s3.get_object(Bucket="photos", Key="k", IfNoneMatch='"x"', IfModifiedSince=past)
    assert served["Body"].read() == b"v1"


def test_response_overrides_replace_the_stored_headers(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="k", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket="photos",
        Key="k",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-cache",
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-cache"
    assert got["Body"].read() == b"x"


def test_content_md5_is_checked_with_bad_digest_and_invalid_digest(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="photos", Key="k", Body=b"x", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert _error(exc)["Code"] == "BadDigest"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="photos", Key="k", Body=b"x", ContentMD5="not-md5")
    assert _error(exc)["Code"] == "InvalidDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket="photos", Key="k")  # nothing was stored


def test_checksums_are_verified_stored_and_returned_when_asked(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    put = s3.put_object(Bucket="photos", Key="k", Body=b"hello", ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
    got = s3.get_object(Bucket="photos", Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert got["Body"].read() == b"hello"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="photos", Key="bad", Body=b"hello", ChecksumCRC32="AAAAAA==")
    assert _error(exc)["Code"] == "BadDigest"


@pytest.mark.parametrize("size", [1024, 3 * 1024 * 1024], ids=["in-memory", "spooled"])
def test_crc64nvme_and_crc32c_checksums_are_computed_and_checked(s3: Any, size: int) -> None:
    s3.create_bucket(Bucket="photos")
    body = bytes(range(256)) * (size // 256)
    sums = {
        "ChecksumCRC64NVME": base64.b64encode(crc.crc64nvme(body)).decode(),
        "ChecksumCRC32C": base64.b64encode(crc.crc32c(body)).decode(),
    }
    for name, value in sums.items():
        algorithm = name.removeprefix("Checksum")
        put = s3.put_object(
            Bucket="photos", Key="k", Body=body, ChecksumAlgorithm=algorithm, **{name: value}
        )
        assert put[name] == value
        assert name not in s3.head_object(Bucket="photos", Key="k")
        assert s3.head_object(Bucket="photos", Key="k", ChecksumMode="ENABLED")[name] == value
        wrong = base64.b64encode(bytes(len(base64.b64decode(value)))).decode()
        with pytest.raises(ClientError) as exc:
            s3.put_object(
                Bucket="photos", Key="k", Body=body, ChecksumAlgorithm=algorithm, **{name: wrong}
            )
        assert _error(exc)["Code"] == "BadDigest"
        assert s3.head_object(Bucket="photos", Key="k", ChecksumMode="ENABLED")[name] == value


def test_copy_object_with_url_encoded_keys_and_metadata_directives(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(
        Bucket="photos",
        Key="src dir/ü+1.txt",
        Body=b"data",
        ContentType="text/plain",
        Metadata={"a": "1"},
    )
    copied = s3.copy_object(
        Bucket="photos", Key="copy", CopySource={"Bucket": "photos", "Key": "src dir/ü+1.txt"}
    )
    assert copied["CopyObjectResult"]["ETag"] == '"8d777f385d3dfec8815d20f7496026dc"'
    got = s3.get_object(Bucket="photos", Key="copy")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (
        b"data",
        "text/plain",
        {"a": "1"},
    )
    s3.copy_object(
        Bucket="photos",
        Key="copy",
        CopySource="photos/src dir/ü+1.txt",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/csv",
    )
    got = s3.get_object(Bucket="photos", Key="copy")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (
        b"data",
        "text/csv",
        {"b": "2"},
    )
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="photos", Key="copy", CopySource="photos/copy")
    assert _error(exc)["Code"] == "InvalidRequest"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="photos", Key="x", CopySource="photos/missing")
    assert _error(exc)["Code"] == "NoSuchKey"


def test_delete_objects_reports_deleted_keys_unless_quiet(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    for key in ("a", "b", "c"):
        s3.put_object(Bucket="photos", Key=key, Body=b"x")
    loud = s3.delete_objects(Bucket="photos", Delete={"Objects": [{"Key": "a"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in loud["Deleted"]) == ["a", "zz"]
    quiet = s3.delete_objects(Bucket="photos", Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="photos")["Contents"]] == ["c"]
    s3.delete_object(Bucket="photos", Key="c")
    s3.delete_object(Bucket="photos", Key="c")  # deleting a missing key succeeds (204)
    assert s3.list_objects_v2(Bucket="photos")["KeyCount"] == 0


def test_large_download_streams_the_exact_bytes(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    payload = bytes(range(256)) * 8192  # 2 MiB, past the streaming threshold
    s3.put_object(Bucket="photos", Key="big", Body=payload)
    out = io.BytesIO()
    s3.download_fileobj("photos", "big", out)
    assert out.getvalue() == payload
    ranged = s3.get_object(Bucket="photos", Key="big", Range="bytes=1048570-1048580")
    assert ranged["Body"].read() == payload[1048570:1048581]


def test_object_tags_from_put_header_and_the_tagging_api(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="k", Body=b"x", Tagging="team=core&stage=dev")
    tags = s3.get_object_tagging(Bucket="photos", Key="k")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "core", "stage": "dev"}
    got = s3.get_object(Bucket="photos", Key="k")
    assert (got["TagCount"], got["Body"].read()) == (2, b"x")
    s3.put_object_tagging(
        Bucket="photos", Key="k", Tagging={"TagSet": [{"Key": "only", "Value": "one"}]}
    )
    assert s3.get_object_tagging(Bucket="photos", Key="k")["TagSet"] == [
        {"Key": "only", "Value": "one"}
    ]
    s3.copy_object(Bucket="photos", Key="copy", CopySource="photos/k")
    assert s3.get_object_tagging(Bucket="photos", Key="copy")["TagSet"] == [
        {"Key": "only", "Value": "one"}
    ]
    s3.copy_object(
        Bucket="photos",
        Key="copy",
        CopySource="photos/k",
        TaggingDirective="REPLACE",
        Tagging="new=tag",
    )
    assert s3.get_object_tagging(Bucket="photos", Key="copy")["TagSet"] == [
        {"Key": "new", "Value": "tag"}
    ]
    s3.delete_object_tagging(Bucket="photos", Key="k")
    assert s3.get_object_tagging(Bucket="photos", Key="k")["TagSet"] == []
    too_many = {"TagSet": [{"Key": f"k{n}", "Value": "v"} for n in range(11)]}
    with pytest.raises(ClientError) as exc:
        s3.put_object_tagging(Bucket="photos", Key="k", Tagging=too_many)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _error(exc)["Code"] == "InvalidTag"
    eleven = "&".join(f"k{n}=v" for n in range(11))
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="photos", Key="k", Body=b"x", Tagging=eleven)
    assert _error(exc)["Code"] == "InvalidTag"
    with pytest.raises(ClientError) as exc:
        s3.get_object_tagging(Bucket="photos", Key="missing")
    assert _error(exc)["Code"] == "NoSuchKey"


def test_encryption_is_sse_s3_by_default_and_echoes_what_was_asked(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    plain = s3.put_object(Bucket="photos", Key="plain", Body=b"x")
    assert plain["ServerSideEncryption"] == "AES256"
    kms = s3.put_object(
        Bucket="photos",
        Key="kms",
        Body=b"x",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId="alias/app",
    )
    assert (kms["ServerSideEncryption"], kms["SSEKMSKeyId"]) == ("aws:kms", "alias/app")
    head = s3.head_object(Bucket="photos", Key="kms")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "alias/app")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="photos", Key="bad", Body=b"x", ServerSideEncryption="rot13")
    assert _error(exc)["Code"] == "InvalidArgument"


def test_content_encoding_is_kept_as_sent_without_aws_chunked(s3: Any) -> None:
    s3.create_bucket(Bucket="encoded")
    cases = [
        ("deflate, gzip", "deflate, gzip"),
        ("aws-chunked, gzip", "gzip"),
        ("aws-chunked", None),
    ]
    for sent, kept in cases:
        s3.put_object(Bucket="encoded", Key="k", Body=b"x", ContentEncoding=sent)
        assert s3.head_object(Bucket="encoded", Key="k").get("ContentEncoding") == kept


def test_list_buckets_pages_by_max_buckets_and_filters_by_prefix(s3: Any) -> None:
    for name in ("pages-a", "pages-b", "pages-c"):
        s3.create_bucket(Bucket=name)
    first = s3.list_buckets(MaxBuckets=2, Prefix="pages-")
    assert [b["Name"] for b in first["Buckets"]] == ["pages-a", "pages-b"]
    assert first["Prefix"] == "pages-"
    rest = s3.list_buckets(
        MaxBuckets=2, Prefix="pages-", ContinuationToken=first["ContinuationToken"]
    )
    assert [b["Name"] for b in rest["Buckets"]] == ["pages-c"]
    assert "ContinuationToken" not in rest


def test_a_wrong_expected_bucket_owner_is_access_denied(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.list_objects_v2(Bucket="photos", ExpectedBucketOwner="000000000000")
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="photos", ExpectedBucketOwner="111122223333")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="photos", Key="k", Body=b"x", ExpectedBucketOwner="111122223333")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_tags_come_back_ordered_by_key_a_bare_key_with_an_empty_value(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="tagged", Body=b"x", Tagging="foo=bar&bar")
    assert s3.get_object_tagging(Bucket="photos", Key="tagged")["TagSet"] == [
        {"Key": "bar", "Value": ""},
        {"Key": "foo", "Value": "bar"},
    ]


# Signed as an SDK signs (the edge verifies no signature by default): S3 refuses
# unsigned requests to a private bucket.
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def test_a_put_without_content_length_is_411(start_edge: Any, make_client: Any) -> None:
    edge = start_edge({"s3": create_service(None)})
    make_client("s3", edge.url).create_bucket(Bucket="sized")
    host, port = edge.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        auth = f"Authorization: {SIGNED['Authorization']}\r\n"
        sock.sendall(f"PUT /sized/k HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode())
        answer = sock.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 411")
    assert "<Code>MissingContentLength</Code>" in answer


def test_a_torrent_is_no_such_key_as_since_s3_dropped_bittorrent(s3: Any) -> None:
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="film.mpg", Body=b"frames")
    with pytest.raises(ClientError) as exc:
        s3.get_object_torrent(Bucket="photos", Key="film.mpg")
    assert _error(exc)["Code"] == "NoSuchKey"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        s3.get_object_torrent(Bucket="nowhere", Key="film.mpg")
    assert _error(exc)["Code"] == "NoSuchBucket"
