"""S3 server-side encryption over a real edge port with unchanged boto3: SSE-C on
PUT/GET/HEAD/copy/multipart (key checked, never stored), SSE-KMS headers, and bucket
default encryption reflected on writes."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def _customer(key: bytes, prefix: str = "SSECustomer") -> dict[str, str]:
    return {
        f"{prefix}Algorithm": "AES256",
        f"{prefix}Key": base64.b64encode(key).decode(),
        f"{prefix}KeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }


@pytest.fixture
def s3(start_edge: Any, make_client: Any, tmp_path: Path) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(tmp_path)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="safe")
    yield client
    client.close()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"].get("Code", ""), response["ResponseMetadata"]["HTTPStatusCode"]


def test_sse_c_object_needs_the_same_key_to_be_read(s3: Any, tmp_path: Path) -> None:
    put = s3.put_object(Bucket="safe", Key="a", Body=b"secret", **_customer(KEY))
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == _customer(KEY)["SSECustomerKeyMD5"]
    got = s3.get_object(Bucket="safe", Key="a", **_customer(KEY))
    assert got["Body"].read() == b"secret"
    assert got["SSECustomerKeyMD5"] == _customer(KEY)["SSECustomerKeyMD5"]
    assert "ServerSideEncryption" not in got
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="safe", Key="a")
    assert _code(exc) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="safe", Key="a", **_customer(OTHER))
    assert _code(exc)[1] == 400
    ranged = s3.get_object(Bucket="safe", Key="a", Range="bytes=1-3", **_customer(KEY))
    assert ranged["Body"].read() == b"ecr"
    # The key itself is nowhere in the state directory's database.
    database = sqlite3.connect(tmp_path / "s3.sqlite3")
    dump = "\n".join(database.iterdump())
    database.close()
    assert base64.b64encode(KEY).decode() not in dump
    assert KEY.hex() not in dump


def test_sse_c_headers_are_checked_as_aws_checks_them(s3: Any) -> None:
    bad_md5 = {**_customer(KEY), "SSECustomerKeyMD5": base64.b64encode(b"0" * 16).decode()}
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="safe", Key="a", Body=b"x", **bad_md5)
    assert _code(exc) == ("InvalidArgument", 400)
    short = _customer(b"short")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="safe", Key="a", Body=b"x", **short)
    assert _code(exc) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_object(
            Bucket="safe", Key="a", Body=b"x", ServerSideEncryption="AES256", **_customer(KEY)
        )
    assert _code(exc) == ("InvalidArgument", 400)
    s3.put_object(Bucket="safe", Key="plain", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="safe", Key="plain", **_customer(KEY))
    assert _code(exc) == ("InvalidRequest", 400)


def test_copy_between_customer_keys(s3: Any) -> None:
    s3.put_object(Bucket="safe", Key="a", Body=b"data", **_customer(KEY))
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="safe", Key="b", CopySource="safe/a")
    assert _code(exc) == ("InvalidRequest", 400)
    copied = s3.copy_object(
        Bucket="safe",
        Key="b",
        CopySource="safe/a",
        **_customer(KEY, "CopySourceSSECustomer"),
        **_customer(OTHER),
    )
    assert copied["SSECustomerAlgorithm"] == "AES256"
    assert s3.get_object(Bucket="safe", Key="b", **_customer(OTHER))["Body"].read() == b"data"
    plain = s3.copy_object(
        Bucket="safe", Key="c", CopySource="safe/a", **_customer(KEY, "CopySourceSSECustomer")
    )
    assert plain["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket="safe", Key="c")["Body"].read() == b"data"


def test_sse_c_multipart_parts_must_carry_the_upload_key(s3: Any) -> None:
    upload = s3.create_multipart_upload(Bucket="safe", Key="m", **_customer(KEY))["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(
            Bucket="safe", Key="m", UploadId=upload, PartNumber=1, Body=b"x", **_customer(OTHER)
        )
    assert _code(exc)[1] == 400
    part = s3.upload_part(
        Bucket="safe", Key="m", UploadId=upload, PartNumber=1, Body=b"part", **_customer(KEY)
    )
    assert part["SSECustomerAlgorithm"] == "AES256"
    finished = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="safe", Key="m", UploadId=upload, MultipartUpload=finished
        )
    assert _code(exc)[1] == 400
    done = s3.complete_multipart_upload(
        Bucket="safe", Key="m", UploadId=upload, MultipartUpload=finished, **_customer(KEY)
    )
    headers = done["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert s3.get_object(Bucket="safe", Key="m", **_customer(KEY))["Body"].read() == b"part"
    part_one = s3.get_object(Bucket="safe", Key="m", PartNumber=1, **_customer(KEY))
    assert part_one["Body"].read() == b"part"
    with pytest.raises(ClientError) as exc:  # a part it lacks: said before the key is asked
        s3.get_object(Bucket="safe", Key="m", PartNumber=2)
    assert _code(exc) == ("InvalidPart", 400)


def test_parts_of_a_kms_upload_may_repeat_its_encryption_headers(s3: Any) -> None:
    kms = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "my-key"}
    upload = s3.create_multipart_upload(Bucket="safe", Key="k", **kms)["UploadId"]

    def add_headers(params: dict[str, Any], **_: Any) -> None:
        params["headers"]["x-amz-server-side-encryption"] = "aws:kms"

    s3.meta.events.register("before-call.s3.UploadPart", add_headers)
    part = s3.upload_part(Bucket="safe", Key="k", UploadId=upload, PartNumber=1, Body=b"x")
    assert part["SSEKMSKeyId"] == "my-key"


def test_sse_c_post_object_needs_the_key_to_be_read(s3: Any, start_edge: Any) -> None:
    fields = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": _customer(KEY)["SSECustomerKeyMD5"],
    }
    post = s3.generate_presigned_post(
        "safe", "form.txt", Fields=fields, Conditions=[{k: v} for k, v in fields.items()]
    )
    body, boundary = _multipart_form({**post["fields"]}, b"posted")
    request = urllib.request.Request(
        post["url"],
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 204
    assert s3.get_object(Bucket="safe", Key="form.txt", **_customer(KEY))["Body"].read() == (
        b"posted"
    )
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="safe", Key="form.txt")
    assert _code(exc) == ("InvalidRequest", 400)


def _multipart_form(fields: dict[str, str], content: bytes) -> tuple[bytes, str]:
    boundary = "lambicboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    head = "".join(parts).encode()
    file_part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return head + file_part + content + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_sse_kms_headers_are_echoed_and_a_key_id_needs_kms(s3: Any) -> None:
    put = s3.put_object(
        Bucket="safe", Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="my-key"
    )
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "my-key")
    head = s3.head_object(Bucket="safe", Key="k")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "my-key")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="safe", Key="k", Body=b"x", SSEKMSKeyId="my-key")
    assert _code(exc) == ("InvalidArgument", 400)
    default_key = s3.put_object(Bucket="safe", Key="d", Body=b"x", ServerSideEncryption="aws:kms")
    assert default_key["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:")


def test_bucket_default_encryption_is_stored_and_applied_to_writes(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_encryption(Bucket="safe")
    assert _code(exc) == ("ServerSideEncryptionConfigurationNotFoundError", 404)
    rule = {
        "ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": "bucket-key",
        },
        "BucketKeyEnabled": True,
    }
    s3.put_bucket_encryption(Bucket="safe", ServerSideEncryptionConfiguration={"Rules": [rule]})
    got = s3.get_bucket_encryption(Bucket="safe")["ServerSideEncryptionConfiguration"]
    assert got["Rules"] == [rule]
    put = s3.put_object(Bucket="safe", Key="a", Body=b"x")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "bucket-key")
    assert put["BucketKeyEnabled"] is True
    explicit = s3.put_object(Bucket="safe", Key="b", Body=b"x", ServerSideEncryption="AES256")
    assert explicit["ServerSideEncryption"] == "AES256"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_encryption(
            Bucket="safe",
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "AES256",
                            "KMSMasterKeyID": "nope",
                        }
                    }
                ]
            },
        )
    assert _code(exc) == ("InvalidArgument", 400)
    assert s3.delete_bucket_encryption(Bucket="safe")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.put_object(Bucket="safe", Key="c", Body=b"x")["ServerSideEncryption"] == "AES256"
