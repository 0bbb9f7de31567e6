"""Unsigned S3 requests over a real edge (default mode: any key accepted): one rule for
every operation, as AWS applies it. An anonymous request is served only when the bucket
policy allows its action to everyone and denies it nothing, or an ACL grants it; an
upload asking `Expect: 100-continue` is refused before its body is sent."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service


@pytest.fixture
def edge(start_edge: Any, tmp_path: Path) -> Any:
    return start_edge({"s3": create_service(tmp_path)})


@pytest.fixture
def s3(edge: Any, make_client: Any) -> Iterator[Any]:
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="private")
    client.put_object(Bucket="private", Key="foo", Body=b"owner's")
    yield client
    client.close()


@pytest.fixture
def anonymous(edge: Any) -> Iterator[Any]:
    client = boto3.client(
        "s3",
        endpoint_url=edge.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 0}),
    )
    yield client
    client.close()


def _refused(call: Any, **params: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_anonymous_writes_to_a_private_bucket_are_access_denied_and_change_nothing(
    s3: Any, anonymous: Any
) -> None:
    denied = (403, "AccessDenied")
    assert _refused(anonymous.put_object, Bucket="private", Key="foo", Body=b"x") == denied
    assert _refused(anonymous.delete_object, Bucket="private", Key="foo") == denied
    assert _refused(anonymous.create_multipart_upload, Bucket="private", Key="big") == denied
    assert _refused(anonymous.put_object_tagging, **_tagging()) == denied
    assert _refused(anonymous.get_object_acl, Bucket="private", Key="foo") == denied
    assert _refused(anonymous.get_bucket_acl, Bucket="private") == denied
    assert _refused(anonymous.put_bucket_acl, Bucket="private", ACL="public-read") == denied
    assert _refused(anonymous.get_bucket_location, Bucket="private") == denied
    # DeleteObjects decides each key as its own s3:DeleteObject: 200, the key refused.
    result = anonymous.delete_objects(Bucket="private", Delete={"Objects": [{"Key": "foo"}]})
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("foo", "AccessDenied")]
    assert s3.get_object(Bucket="private", Key="foo")["Body"].read() == b"owner's"
    assert s3.get_object_tagging(Bucket="private", Key="foo")["TagSet"] == []
    assert s3.list_multipart_uploads(Bucket="private").get("Uploads", []) == []


def _tagging() -> dict[str, Any]:
    return {"Bucket": "private", "Key": "foo", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}


def test_anonymous_account_calls_are_denied_and_a_missing_bucket_is_still_no_such_bucket(
    s3: Any, anonymous: Any
) -> None:
    assert _refused(anonymous.list_buckets) == (403, "AccessDenied")
    assert _refused(anonymous.create_bucket, Bucket="mine-now") == (403, "AccessDenied")
    assert "mine-now" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    missing = (404, "NoSuchBucket")
    assert _refused(anonymous.put_object, Bucket="nowhere", Key="k", Body=b"x") == missing
    assert _refused(anonymous.delete_object, Bucket="nowhere", Key="k") == missing


def test_a_public_read_write_acl_lets_anyone_write_and_delete_but_not_change_the_acl(
    s3: Any, anonymous: Any
) -> None:
    s3.put_bucket_acl(Bucket="private", ACL="public-read-write")
    anonymous.put_object(Bucket="private", Key="guest", Body=b"hello")
    assert s3.get_object(Bucket="private", Key="guest")["Body"].read() == b"hello"
    anonymous.delete_object(Bucket="private", Key="guest")
    assert s3.list_objects_v2(Bucket="private")["KeyCount"] == 1
    assert _refused(anonymous.put_bucket_acl, Bucket="private", ACL="private") == (
        403,
        "AccessDenied",
    )


def test_a_bucket_policy_allowing_puts_admits_them_and_its_explicit_deny_beats_an_acl(
    s3: Any, anonymous: Any
) -> None:
    s3.put_bucket_policy(Bucket="private", Policy=_policy("Allow", "s3:PutObject", "drop/*"))
    anonymous.put_object(Bucket="private", Key="drop/note", Body=b"n")
    assert _refused(anonymous.put_object, Bucket="private", Key="elsewhere", Body=b"x") == (
        403,
        "AccessDenied",
    )
    s3.put_bucket_acl(Bucket="private", ACL="public-read-write")
    s3.put_bucket_policy(Bucket="private", Policy=_policy("Deny", "s3:PutObject", "locked/*"))
    assert _refused(anonymous.put_object, Bucket="private", Key="locked/x", Body=b"x") == (
        403,
        "AccessDenied",
    )
    anonymous.put_object(Bucket="private", Key="open", Body=b"o")  # the ACL still grants it


def test_an_anonymous_multi_object_delete_is_decided_key_by_key_by_the_policy(
    s3: Any, anonymous: Any
) -> None:
    s3.put_object(Bucket="private", Key="tmp/a", Body=b"a")
    s3.put_bucket_policy(Bucket="private", Policy=_policy("Allow", "s3:DeleteObject", "tmp/*"))
    result = anonymous.delete_objects(
        Bucket="private", Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "foo"}]}
    )
    assert [d["Key"] for d in result["Deleted"]] == ["tmp/a"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("foo", "AccessDenied")]
    assert s3.get_object(Bucket="private", Key="foo")["Body"].read() == b"owner's"
    assert "Contents" not in s3.list_objects_v2(Bucket="private", Prefix="tmp/")


def _policy(effect: str, action: str, keys: str) -> str:
    statement = {
        "Effect": effect,
        "Principal": "*",
        "Action": action,
        "Resource": f"arn:aws:s3:::private/{keys}",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_a_browser_form_without_a_policy_is_anonymous_and_needs_a_write_grant(
    s3: Any, edge: Any
) -> None:
    form = {"key": "form.txt"}
    files = {"file": ("form.txt", b"posted")}
    refused = requests.post(f"{edge.url}/private", data=form, files=files, timeout=10)
    assert refused.status_code == 403
    assert "<Code>AccessDenied</Code>" in refused.text
    s3.put_bucket_acl(Bucket="private", ACL="public-read-write")
    stored = requests.post(f"{edge.url}/private", data=form, files=files, timeout=10)
    assert stored.status_code == 204
    assert s3.get_object(Bucket="private", Key="form.txt")["Body"].read() == b"posted"


def test_presigned_requests_act_as_their_signer(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "private", "Key": "presigned"}, ExpiresIn=60
    )
    assert requests.put(url, data=b"p", timeout=10).status_code == 200
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "private", "Key": "presigned"}, ExpiresIn=60
    )
    assert requests.get(url, timeout=10).content == b"p"


def _first_answer(port: int, head: bytes) -> bytes:
    """What the edge answers to a head that waits for 100 Continue (no body sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head)
        return conn.recv(65536)


def test_an_unsigned_upload_waiting_for_100_continue_is_refused_before_its_body(
    s3: Any, edge: Any
) -> None:
    head = (
        b"PUT /private/waiting HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 123\r\n"
        b"Expect: 100-continue\r\n\r\n"
    )
    answer = _first_answer(edge.port, head)
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert b"<Code>AccessDenied</Code>" in answer
    assert b"connection: close" in answer.lower()
    s3.put_bucket_acl(Bucket="private", ACL="public-read-write")
    assert _first_answer(edge.port, head) == b"HTTP/1.1 100 Continue\r\n\r\n"


def test_a_signed_upload_still_gets_100_continue(s3: Any) -> None:
    # botocore asks Expect: 100-continue for every PutObject with a body.
    s3.put_object(Bucket="private", Key="signed", Body=b"s" * 2048)
    assert s3.get_object(Bucket="private", Key="signed")["ContentLength"] == 2048
