"""S3 Object Lock over a real edge port with unchanged boto3: bucket configuration and
default retention, per-version retention (GOVERNANCE with bypass, COMPLIANCE), legal
hold, and the AccessDenied that protects locked versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="vault", ObjectLockEnabledForBucket=True)
    yield client
    client.close()


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _later(days: int = 1) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def test_a_lock_enabled_bucket_is_versioned_and_reports_its_configuration(s3: Any) -> None:
    assert s3.get_bucket_versioning(Bucket="vault")["Status"] == "Enabled"
    config = s3.get_object_lock_configuration(Bucket="vault")["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Suspended"})
    assert _error(exc) == ("InvalidBucketState", 409)


def test_default_retention_is_validated_stored_and_applied_to_new_versions(s3: Any) -> None:
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}
    s3.put_object_lock_configuration(
        Bucket="vault",
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule},
    )
    got = s3.get_object_lock_configuration(Bucket="vault")["ObjectLockConfiguration"]
    assert got["Rule"] == rule
    put = s3.put_object(Bucket="vault", Key="a", Body=b"x")
    head = s3.head_object(Bucket="vault", Key="a", VersionId=put["VersionId"])
    assert head["ObjectLockMode"] == "GOVERNANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert _later(1) < until < _later(3)
    bad = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(
            Bucket="vault", ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": bad}
        )
    assert _error(exc) == ("MalformedXML", 400)
    zero = {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 0}}
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(
            Bucket="vault", ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": zero}
        )
    assert _error(exc) == ("InvalidRetentionPeriod", 400)


def test_a_bucket_without_lock_refuses_lock_calls(s3: Any) -> None:
    s3.create_bucket(Bucket="plain")
    with pytest.raises(ClientError) as exc:
        s3.get_object_lock_configuration(Bucket="plain")
    assert _error(exc) == ("ObjectLockConfigurationNotFoundError", 404)
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(
            Bucket="plain", ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )
    assert _error(exc) == ("InvalidBucketState", 409)
    s3.put_object(Bucket="plain", Key="a", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(
            Bucket="plain", Key="a", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _later()}
        )
    assert _error(exc) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_object(
            Bucket="plain",
            Key="b",
            Body=b"x",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=_later(),
        )
    assert _error(exc) == ("InvalidRequest", 400)


def test_governance_retention_blocks_deletes_unless_bypassed(s3: Any) -> None:
    version = s3.put_object(Bucket="vault", Key="a", Body=b"x")["VersionId"]
    s3.put_object_retention(
        Bucket="vault",
        Key="a",
        VersionId=version,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _later()},
    )
    assert s3.get_object_retention(Bucket="vault", Key="a")["Retention"]["Mode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket="vault", Key="a", VersionId=version)
    assert _error(exc) == ("AccessDenied", 403)
    # Shortening GOVERNANCE needs the bypass header too.
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(
            Bucket="vault",
            Key="a",
            VersionId=version,
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _later(0) + dt.timedelta(hours=1)},
        )
    assert _error(exc) == ("AccessDenied", 403)
    # Even strengthening GOVERNANCE to COMPLIANCE needs the bypass header.
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(
            Bucket="vault",
            Key="a",
            VersionId=version,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": _later(3)},
        )
    assert _error(exc) == ("AccessDenied", 403)
    # A delete without a version id only adds a marker: never blocked.
    assert s3.delete_object(Bucket="vault", Key="a")["DeleteMarker"] is True
    s3.delete_object(Bucket="vault", Key="a", VersionId=version, BypassGovernanceRetention=True)
    versions = s3.list_object_versions(Bucket="vault")
    assert "Versions" not in versions


def test_compliance_retention_cannot_be_shortened_or_bypassed(s3: Any) -> None:
    version = s3.put_object(
        Bucket="vault",
        Key="a",
        Body=b"x",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=_later(),
    )["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket="vault", Key="a", VersionId=version, BypassGovernanceRetention=True)
    assert _error(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(
            Bucket="vault",
            Key="a",
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _later(2)},
            BypassGovernanceRetention=True,
        )
    assert _error(exc) == ("AccessDenied", 403)
    s3.put_object_retention(
        Bucket="vault", Key="a", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": _later(5)}
    )
    result = s3.delete_objects(
        Bucket="vault", Delete={"Objects": [{"Key": "a", "VersionId": version}]}
    )
    assert result["Errors"][0]["Code"] == "AccessDenied"


def test_legal_hold_blocks_removal_until_released(s3: Any) -> None:
    version = s3.put_object(Bucket="vault", Key="a", Body=b"x", ObjectLockLegalHoldStatus="ON")[
        "VersionId"
    ]
    assert s3.get_object_legal_hold(Bucket="vault", Key="a")["LegalHold"] == {"Status": "ON"}
    assert s3.get_object(Bucket="vault", Key="a")["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket="vault", Key="a", VersionId=version, BypassGovernanceRetention=True)
    assert _error(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        s3.put_object_legal_hold(Bucket="vault", Key="a", LegalHold={"Status": "MAYBE"})
    assert _error(exc) == ("MalformedXML", 400)
    s3.put_object_legal_hold(Bucket="vault", Key="a", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket="vault", Key="a", VersionId=version)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="vault", Key="a", VersionId=version)
    assert _error(exc) == ("NoSuchVersion", 404)


def test_retention_in_the_past_and_missing_config_are_refused(s3: Any) -> None:
    s3.put_object(Bucket="vault", Key="a", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.get_object_retention(Bucket="vault", Key="a")
    assert _error(exc) == ("NoSuchObjectLockConfiguration", 404)
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(
            Bucket="vault", Key="a", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _later(-1)}
        )
    assert _error(exc) == ("InvalidArgument", 400)
