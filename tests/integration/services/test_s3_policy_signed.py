"""Bucket policies applied to signed requests (unchanged boto3 over a real edge): the
local account may do everything except what the policy explicitly denies it, with the
statement's conditions decided from the request; anonymous grants honour conditions."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service


@pytest.fixture
def edge(start_edge: Any, tmp_path: Path) -> Any:
    return start_edge({"s3": create_service(tmp_path)})


@pytest.fixture
def s3(edge: Any, make_client: Any) -> Iterator[Any]:
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="vault")
    yield client
    client.close()


def _deny(s3: Any, action: str, resource: str, condition: dict[str, Any] | None = None,
          principal: Any = "*", bucket: str = "vault") -> None:  # fmt: skip
    statement: dict[str, Any] = {
        "Effect": "Deny",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
    }
    if condition is not None:
        statement["Condition"] = condition
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def _denied(call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_deny_on_unencrypted_uploads_refuses_them_and_lets_encrypted_ones_in(s3: Any) -> None:
    _deny(s3, "s3:PutObject", "arn:aws:s3:::vault/*",
          {"Null": {"s3:x-amz-server-side-encryption": "true"}})  # fmt: skip

    _denied(s3.put_object, Bucket="vault", Key="plain", Body=b"x")
    _denied(s3.create_multipart_upload, Bucket="vault", Key="plain")
    answer = s3.put_object(Bucket="vault", Key="sealed", Body=b"x", ServerSideEncryption="AES256")
    assert answer["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket="vault", Key="sealed")["Body"].read() == b"x"


def test_the_policy_decides_before_the_request_is_validated(s3: Any) -> None:
    # AWS answers 403 here, not the 400 a wrong algorithm would get without the policy.
    _deny(s3, "s3:PutObject", "arn:aws:s3:::vault/*",
          {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}})  # fmt: skip
    _denied(s3.put_object, Bucket="vault", Key="k", Body=b"x", ServerSideEncryption="aws:kms")
    _denied(s3.put_object, Bucket="vault", Key="k", Body=b"x")  # missing key: negated holds


def test_a_deny_on_public_acls_leaves_private_uploads_alone(s3: Any) -> None:
    _deny(s3, "s3:PutObject", "arn:aws:s3:::vault/*", {"StringLike": {"s3:x-amz-acl": "public*"}})
    s3.put_object(Bucket="vault", Key="mine", Body=b"x")
    _denied(s3.put_object, Bucket="vault", Key="shared", Body=b"x", ACL="public-read")


def test_tags_in_the_request_and_on_the_object_are_condition_keys(s3: Any) -> None:
    s3.put_object(Bucket="vault", Key="secret", Body=b"s", Tagging="class=secret")
    s3.put_object(Bucket="vault", Key="memo", Body=b"m", Tagging="class=open")
    _deny(s3, "s3:*", "arn:aws:s3:::vault/*",
          {"StringEquals": {"s3:ExistingObjectTag/class": "secret"}})  # fmt: skip

    _denied(s3.get_object, Bucket="vault", Key="secret")
    _denied(s3.get_object_tagging, Bucket="vault", Key="secret")
    assert s3.get_object(Bucket="vault", Key="memo")["Body"].read() == b"m"

    _deny(s3, "s3:PutObject", "arn:aws:s3:::vault/*",
          {"StringEquals": {"s3:RequestObjectTag/class": "secret"}})  # fmt: skip
    _denied(s3.put_object, Bucket="vault", Key="new", Body=b"n", Tagging="class=secret")
    s3.put_object(Bucket="vault", Key="new", Body=b"n", Tagging="class=open")


def test_a_copy_reads_its_source_under_the_source_buckets_policy(s3: Any) -> None:
    s3.create_bucket(Bucket="drafts")
    s3.put_object(Bucket="vault", Key="report", Body=b"r")
    _deny(s3, "s3:GetObject", "arn:aws:s3:::vault/*")

    _denied(s3.copy_object, Bucket="drafts", Key="copy", CopySource="vault/report")
    upload = s3.create_multipart_upload(Bucket="drafts", Key="big")["UploadId"]
    _denied(s3.upload_part_copy, Bucket="drafts", Key="big", UploadId=upload, PartNumber=1,
            CopySource={"Bucket": "vault", "Key": "report"})  # fmt: skip


def test_listing_conditions_read_the_query(s3: Any) -> None:
    _deny(s3, "s3:ListBucket", "arn:aws:s3:::vault",
          {"StringNotLike": {"s3:prefix": "public/*"}})  # fmt: skip
    s3.list_objects_v2(Bucket="vault", Prefix="public/a")
    _denied(s3.list_objects_v2, Bucket="vault", Prefix="private/")
    _denied(s3.list_objects_v2, Bucket="vault")


def test_a_deny_of_everything_still_lets_the_owner_fix_the_policy(s3: Any) -> None:
    _deny(s3, "s3:*", ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"])
    _denied(s3.list_objects_v2, Bucket="vault")
    _denied(s3.put_object, Bucket="vault", Key="k", Body=b"x")

    assert json.loads(s3.get_bucket_policy(Bucket="vault")["Policy"])["Statement"]
    s3.delete_bucket_policy(Bucket="vault")
    s3.put_object(Bucket="vault", Key="k", Body=b"x")


def test_a_deny_naming_the_local_account_applies_and_one_naming_another_does_not(
    s3: Any,
) -> None:
    _deny(s3, "s3:PutObject", "arn:aws:s3:::vault/*",
          principal={"AWS": "arn:aws:iam::111122223333:root"})  # fmt: skip
    s3.put_object(Bucket="vault", Key="k", Body=b"x")
    _deny(s3, "s3:PutObject", "arn:aws:s3:::vault/*", principal={"AWS": "000000000000"})
    _denied(s3.put_object, Bucket="vault", Key="k", Body=b"x")


def test_an_anonymous_grant_holds_only_under_its_condition(s3: Any, edge: Any) -> None:
    s3.put_object(Bucket="vault", Key="logo.png", Body=b"png")
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::vault/*",
        "Condition": {"StringLike": {"aws:Referer": "http://www.example.com/*"}},
    }
    s3.put_bucket_policy(Bucket="vault", Policy=json.dumps({"Statement": [statement]}))

    def fetch(referer: str) -> int:
        request = urllib.request.Request(f"{edge.url}/vault/logo.png", headers={"Referer": referer})
        try:
            with urllib.request.urlopen(request) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    assert fetch("http://www.example.com/page.html") == 200
    assert fetch("http://elsewhere.example.org/") == 403
