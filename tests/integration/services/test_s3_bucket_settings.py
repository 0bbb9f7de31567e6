"""S3 bucket sub-resources over a real edge port with unchanged boto3: policy, lifecycle,
public access block and ownership controls, validated, stored and returned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service


@pytest.fixture
def s3(start_edge: Any, make_client: Any, tmp_path: Path) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(tmp_path)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="site")
    yield client
    client.close()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _policy(**statement: Any) -> str:
    base = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::site/*",
    }
    base.update(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": [base]})


def test_bucket_policy_round_trips_and_is_deleted(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket="site")
    assert _code(exc) == ("NoSuchBucketPolicy", 404)
    text = _policy()
    assert (
        s3.put_bucket_policy(Bucket="site", Policy=text)["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    assert s3.get_bucket_policy(Bucket="site")["Policy"] == text
    s3.delete_bucket_policy(Bucket="site")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket="site")
    assert _code(exc) == ("NoSuchBucketPolicy", 404)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("not json", "Policies must be valid JSON"),
        (json.dumps({"Version": "2012-10-17"}), "Missing required field Statement"),
        (json.dumps({"Version": "2000-01-01", "Statement": []}), "valid version string"),
        (_policy(Effect="Maybe"), "Invalid effect: Maybe"),
        (_policy(Action="sqs:SendMessage"), "Policy has invalid action"),
        (_policy(Resource="arn:aws:s3:::other/*"), "Policy has invalid resource"),
        (
            json.dumps(
                {
                    "Statement": {
                        "Effect": "Allow",
                        "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "s3:ListBucket",
                        "Resource": "arn:aws:s3:::site",
                    }
                }
            ),
            "Allow with NotPrincipal",
        ),
    ],
)
def test_bucket_policy_is_validated_as_aws_does(s3: Any, policy: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="site", Policy=policy)
    assert _code(exc) == ("MalformedPolicy", 400)
    assert message in exc.value.response["Error"]["Message"]


def test_lifecycle_round_trips_and_is_validated(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket="site")
    assert _code(exc) == ("NoSuchLifecycleConfiguration", 404)
    rules = [
        {
            "ID": "logs",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "Expiration": {"Days": 30},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        },
        {
            "ID": "uploads",
            "Filter": {"Prefix": ""},
            "Status": "Disabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
        },
    ]
    s3.put_bucket_lifecycle_configuration(Bucket="site", LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket="site")["Rules"] == rules
    twice = [dict(rules[0]), dict(rules[0])]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(
            Bucket="site", LifecycleConfiguration={"Rules": twice}
        )
    assert _code(exc) == ("InvalidArgument", 400)
    negative = [{**rules[0], "Expiration": {"Days": 0}}]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(
            Bucket="site", LifecycleConfiguration={"Rules": negative}
        )
    assert _code(exc) == ("InvalidArgument", 400)
    no_action = [{"ID": "x", "Filter": {"Prefix": ""}, "Status": "Enabled"}]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(
            Bucket="site", LifecycleConfiguration={"Rules": no_action}
        )
    assert _code(exc) == ("InvalidRequest", 400)
    s3.delete_bucket_lifecycle(Bucket="site")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket="site")
    assert _code(exc) == ("NoSuchLifecycleConfiguration", 404)


def test_public_access_block_round_trips(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_public_access_block(Bucket="site")
    assert _code(exc) == ("NoSuchPublicAccessBlockConfiguration", 404)
    s3.put_public_access_block(
        Bucket="site",
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "RestrictPublicBuckets": True},
    )
    assert s3.get_public_access_block(Bucket="site")["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True,
    }
    s3.delete_public_access_block(Bucket="site")
    with pytest.raises(ClientError) as exc:
        s3.get_public_access_block(Bucket="site")
    assert _code(exc)[1] == 404


def test_ownership_controls_from_create_bucket_and_put(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket="site")
    assert _code(exc) == ("OwnershipControlsNotFoundError", 404)
    s3.create_bucket(Bucket="owned", ObjectOwnership="BucketOwnerEnforced")
    got = s3.get_bucket_ownership_controls(Bucket="owned")["OwnershipControls"]
    assert got == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    s3.put_bucket_ownership_controls(
        Bucket="site", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    rules = s3.get_bucket_ownership_controls(Bucket="site")["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_ownership_controls(
            Bucket="site", OwnershipControls={"Rules": [{"ObjectOwnership": "Nobody"}]}
        )
    assert _code(exc) == ("MalformedXML", 400)
    s3.delete_bucket_ownership_controls(Bucket="site")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket="site")
    assert _code(exc)[1] == 404


def test_settings_go_with_a_deleted_bucket(s3: Any) -> None:
    s3.put_bucket_policy(Bucket="site", Policy=_policy())
    s3.delete_bucket(Bucket="site")
    s3.create_bucket(Bucket="site")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket="site")
    assert _code(exc) == ("NoSuchBucketPolicy", 404)


def test_bucket_tags_round_trip_and_are_validated(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket="site")
    assert _code(exc) == ("NoSuchTagSet", 404)
    tags = [{"Key": f"k{i}", "Value": f"v{i}"} for i in range(20)]
    s3.put_bucket_tagging(Bucket="site", Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket="site")["TagSet"] == tags
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_tagging(
            Bucket="site", Tagging={"TagSet": [{"Key": "aws:owner", "Value": "me"}]}
        )
    assert _code(exc) == ("InvalidTag", 400)
    s3.delete_bucket_tagging(Bucket="site")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket="site")
    assert _code(exc) == ("NoSuchTagSet", 404)


def test_a_lifecycle_rule_without_an_id_is_given_one(s3: Any) -> None:
    rule = {"Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}
    s3.put_bucket_lifecycle_configuration(Bucket="site", LifecycleConfiguration={"Rules": [rule]})
    (stored,) = s3.get_bucket_lifecycle_configuration(Bucket="site")["Rules"]
    assert stored["ID"] and stored["Expiration"] == {"Days": 1}
