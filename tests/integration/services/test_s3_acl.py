"""S3 ACLs over a real edge port with unchanged boto3: canned ACLs, grant headers and
AccessControlPolicy documents on buckets and objects, and BucketOwnerEnforced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="acl")
    yield client
    client.close()


def _grants(acl: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (g["Grantee"].get("URI") or g["Grantee"].get("ID", ""), g["Permission"])
        for g in acl["Grants"]
    ]


def test_canned_acls_on_buckets_and_objects(s3: Any) -> None:
    owner = s3.get_bucket_acl(Bucket="acl")["Owner"]["ID"]
    assert _grants(s3.get_bucket_acl(Bucket="acl")) == [(owner, "FULL_CONTROL")]
    s3.put_bucket_acl(Bucket="acl", ACL="public-read")
    # Group grants come before the owner's, as S3 lists them (`acl.canned`).
    assert _grants(s3.get_bucket_acl(Bucket="acl")) == [
        (ALL_USERS, "READ"),
        (owner, "FULL_CONTROL"),
    ]
    s3.put_object(Bucket="acl", Key="a", Body=b"x", ACL="public-read-write")
    assert _grants(s3.get_object_acl(Bucket="acl", Key="a")) == [
        (ALL_USERS, "READ"),
        (ALL_USERS, "WRITE"),
        (owner, "FULL_CONTROL"),
    ]
    s3.put_object_acl(Bucket="acl", Key="a", ACL="private")
    assert _grants(s3.get_object_acl(Bucket="acl", Key="a")) == [(owner, "FULL_CONTROL")]
    s3.create_bucket(Bucket="open", ACL="authenticated-read")
    assert _grants(s3.get_bucket_acl(Bucket="open"))[0][1] == "READ"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket="acl", ACL="everyone")
    assert exc.value.response["Error"]["Code"] == "InvalidArgument"


def test_recreating_an_owned_bucket_in_us_east_1_resets_its_acl(s3: Any) -> None:
    owner = s3.get_bucket_acl(Bucket="acl")["Owner"]["ID"]
    s3.put_bucket_acl(Bucket="acl", ACL="public-read")
    s3.put_object(Bucket="acl", Key="kept", Body=b"x")
    s3.create_bucket(Bucket="acl")  # 200 OK in us-east-1, as AWS's legacy behaviour
    assert _grants(s3.get_bucket_acl(Bucket="acl")) == [(owner, "FULL_CONTROL")]
    s3.create_bucket(Bucket="acl", ACL="public-read")
    assert _grants(s3.get_bucket_acl(Bucket="acl")) == [
        (ALL_USERS, "READ"),
        (owner, "FULL_CONTROL"),
    ]
    assert s3.get_object(Bucket="acl", Key="kept")["Body"].read() == b"x"


def test_grant_headers_and_documents(s3: Any) -> None:
    s3.put_bucket_acl(Bucket="acl", GrantRead=f'uri="{ALL_USERS}"', GrantWriteACP='id="abc123"')
    assert sorted(_grants(s3.get_bucket_acl(Bucket="acl"))) == [
        ("abc123", "WRITE_ACP"),
        (ALL_USERS, "READ"),
    ]
    owner = s3.get_bucket_acl(Bucket="acl")["Owner"]
    policy = {
        "Owner": owner,
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ_ACP"},
        ],
    }
    s3.put_object(Bucket="acl", Key="a", Body=b"x")
    s3.put_object_acl(Bucket="acl", Key="a", AccessControlPolicy=policy)
    assert _grants(s3.get_object_acl(Bucket="acl", Key="a")) == [
        (owner["ID"], "FULL_CONTROL"),
        (ALL_USERS, "READ_ACP"),
    ]
    bad = {**policy, "Grants": [{**policy["Grants"][1], "Permission": "OWN"}]}
    with pytest.raises(ClientError) as exc:
        s3.put_object_acl(Bucket="acl", Key="a", AccessControlPolicy=bad)
    assert exc.value.response["Error"]["Code"] == "MalformedACLError"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket="acl", ACL="private", GrantRead=f'uri="{ALL_USERS}"')
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"


def test_bucket_owner_enforced_refuses_acls_that_grant_others(s3: Any) -> None:
    s3.create_bucket(Bucket="owned", ObjectOwnership="BucketOwnerEnforced")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket="owned", ACL="public-read")
    assert exc.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="owned", Key="a", Body=b"x", ACL="public-read")
    assert exc.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    s3.put_object(Bucket="owned", Key="a", Body=b"x", ACL="bucket-owner-full-control")


def test_bucket_owner_enforced_needs_a_private_bucket_acl(s3: Any) -> None:
    s3.put_bucket_acl(Bucket="acl", ACL="public-read")
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_ownership_controls(Bucket="acl", OwnershipControls=enforced)
    assert exc.value.response["Error"]["Code"] == "InvalidBucketAclWithObjectOwnership"
    s3.put_bucket_acl(Bucket="acl", ACL="private")
    s3.put_bucket_ownership_controls(Bucket="acl", OwnershipControls=enforced)
