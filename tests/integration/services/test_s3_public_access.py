"""What makes a bucket public, over a real edge with unchanged boto3: canned ACLs let
anonymous clients list and read, the public access block refuses or ignores public
ACLs, and GetBucketPolicyStatus reports it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
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
    yield client
    client.close()


@pytest.fixture
def anonymous(edge: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=edge.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )


def _status(caught: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_a_public_read_bucket_lists_to_anyone_and_public_objects_read(
    s3: Any, anonymous: Any
) -> None:
    s3.create_bucket(Bucket="open", ACL="public-read")
    s3.put_object(Bucket="open", Key="shared", Body=b"s", ACL="public-read")
    s3.put_object(Bucket="open", Key="mine", Body=b"m")

    assert [o["Key"] for o in anonymous.list_objects_v2(Bucket="open")["Contents"]] == [
        "mine",
        "shared",
    ]
    assert anonymous.get_object(Bucket="open", Key="shared")["Body"].read() == b"s"
    with pytest.raises(ClientError) as caught:
        anonymous.get_object(Bucket="open", Key="mine")
    assert _status(caught) == (403, "AccessDenied")
    # Who may list may learn that a key is missing.
    with pytest.raises(ClientError) as caught:
        anonymous.get_object(Bucket="open", Key="gone")
    assert _status(caught) == (404, "NoSuchKey")


def test_a_public_object_in_a_private_bucket_reads_but_does_not_list(
    s3: Any, anonymous: Any
) -> None:
    s3.create_bucket(Bucket="closed")
    s3.put_object(Bucket="closed", Key="flyer", Body=b"f", ACL="public-read")
    assert anonymous.get_object(Bucket="closed", Key="flyer")["Body"].read() == b"f"
    with pytest.raises(ClientError) as caught:
        anonymous.list_objects(Bucket="closed")
    assert _status(caught) == (403, "AccessDenied")


def test_block_public_acls_refuses_public_acls_and_ignore_public_acls_closes_them(
    s3: Any, anonymous: Any
) -> None:
    s3.create_bucket(Bucket="guarded", ACL="public-read")
    s3.put_object(Bucket="guarded", Key="k", Body=b"k", ACL="public-read")
    s3.put_public_access_block(
        Bucket="guarded",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    for canned in ("public-read", "public-read-write", "authenticated-read"):
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_acl(Bucket="guarded", ACL=canned)
        assert _status(caught) == (403, "AccessDenied")
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket="guarded", Key="new", Body=b"", ACL=canned)
        assert _status(caught) == (403, "AccessDenied")
    s3.put_object(Bucket="guarded", Key="new", Body=b"", ACL="private")

    with pytest.raises(ClientError) as caught:
        anonymous.get_object(Bucket="guarded", Key="k")
    assert _status(caught) == (403, "AccessDenied")
    with pytest.raises(ClientError) as caught:
        anonymous.list_objects(Bucket="guarded")
    assert _status(caught) == (403, "AccessDenied")


def test_policy_status_reports_a_public_policy_or_acl(s3: Any) -> None:
    for name in ("plain", "by-acl", "by-policy", "for-one"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_acl(Bucket="by-acl", ACL="authenticated-read")

    def policy(principal: Any) -> str:
        return json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": "s3:ListBucket",
                        "Resource": "arn:aws:s3:::"
                        + ("by-policy" if principal == "*" else "for-one"),
                    }
                ]
            }
        )

    s3.put_bucket_policy(Bucket="by-policy", Policy=policy("*"))
    s3.put_bucket_policy(Bucket="for-one", Policy=policy({"AWS": "arn:aws:iam::111122223333:root"}))

    status = {n: s3.get_bucket_policy_status(Bucket=n)["PolicyStatus"]["IsPublic"] for n in
              ("plain", "by-acl", "by-policy", "for-one")}  # fmt: skip
    assert status == {"plain": False, "by-acl": True, "by-policy": True, "for-one": False}
