"""STS on the edge with boto3: who is calling, role sessions, and what STS does not serve."""

from __future__ import annotations

import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambic.project.sqlite import open_database
from lambic.services import create_services
from lambic.services.sts import Sessions, SessionStore, StsService

ROLE = "arn:aws:iam::111122223333:role/ops/deployer"


@pytest.fixture
def edge(start_edge: Any, tmp_path: Path) -> Any:
    return start_edge(create_services(tmp_path, names=["sqs", "sts"]).by_name())


def _client(service: str, url: str, **credentials: str) -> Any:
    credentials = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "x"}
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", **credentials)


def _session_client(service: str, url: str, credentials: dict[str, Any]) -> Any:
    return _client(
        service,
        url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_the_caller_is_the_local_accounts_root_the_account_of_every_local_arn(edge: Any) -> None:
    identity = _client("sts", edge.url).get_caller_identity()
    queue = _client("sqs", edge.url).create_queue(QueueName="jobs")["QueueUrl"]
    arn = _client("sqs", edge.url).get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])

    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["UserId"] == "000000000000"
    assert arn["Attributes"]["QueueArn"].split(":")[4] == identity["Account"]


def test_assume_role_gives_credentials_that_identify_as_the_role_session(edge: Any) -> None:
    answer = _client("sts", edge.url).assume_role(RoleArn=ROLE, RoleSessionName="build-42")
    credentials = answer["Credentials"]

    assert credentials["AccessKeyId"].startswith("ASIA")
    assert len(credentials["AccessKeyId"]) == 20
    lifetime = credentials["Expiration"] - datetime.now(timezone.utc)
    assert 3500 < lifetime.total_seconds() <= 3600
    user = answer["AssumedRoleUser"]
    assert user["Arn"] == "arn:aws:sts::111122223333:assumed-role/deployer/build-42"
    assert user["AssumedRoleId"].startswith("AROA")
    assert user["AssumedRoleId"].endswith(":build-42")

    me = _session_client("sts", edge.url, credentials).get_caller_identity()
    assert me["Arn"] == user["Arn"]
    assert me["UserId"] == user["AssumedRoleId"]
    assert me["Account"] == "111122223333"


def test_the_same_role_keeps_its_role_id_across_sessions(edge: Any) -> None:
    sts = _client("sts", edge.url)
    one = sts.assume_role(RoleArn=ROLE, RoleSessionName="a1")["AssumedRoleUser"]
    two = sts.assume_role(RoleArn=ROLE, RoleSessionName="b2", DurationSeconds=900)
    assert (
        one["AssumedRoleId"].split(":")[0] == two["AssumedRoleUser"]["AssumedRoleId"].split(":")[0]
    )


_SHORT = "at 'roleSessionName' failed to satisfy constraint: Member must have length greater"
_PATTERN = "at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular"
_BRIEF = (
    "Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater"
)
_LONG = "Member must have value less than or equal to 43200"


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"RoleSessionName": "x"}, _SHORT),
        ({"RoleSessionName": "has space"}, _PATTERN),
        ({"RoleSessionName": "ok", "DurationSeconds": 100}, _BRIEF),
        ({"RoleSessionName": "ok", "DurationSeconds": 50000}, _LONG),
    ],
)
def test_assume_role_refuses_what_sts_refuses(
    edge: Any, arguments: dict[str, Any], fragment: str
) -> None:
    # botocore checks lengths before sending; the server must check them too.
    sts = boto3.client(
        "sts",
        endpoint_url=edge.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=ROLE, **arguments)
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fragment in error["Error"]["Message"]


def test_session_token_is_capped_at_an_hour_for_the_account_owner(edge: Any) -> None:
    credentials = _client("sts", edge.url).get_session_token(DurationSeconds=7200)["Credentials"]
    lifetime = credentials["Expiration"] - datetime.now(timezone.utc)
    assert 3500 < lifetime.total_seconds() <= 3600
    me = _session_client("sts", edge.url, credentials).get_caller_identity()
    assert me["Arn"] == "arn:aws:iam::000000000000:root"


def test_access_key_info_names_the_keys_account(edge: Any) -> None:
    sts = _client("sts", edge.url)
    key = sts.assume_role(RoleArn=ROLE, RoleSessionName="k1")["Credentials"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == "111122223333"


def test_an_sts_operation_not_served_locally_is_not_implemented(edge: Any) -> None:
    with pytest.raises(ClientError) as caught:
        _client("sts", edge.url).get_federation_token(Name="bob")
    error = caught.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "GetFederationToken" in error["Error"]["Message"]


def test_an_unsigned_get_caller_identity_is_answered_by_sts(edge: Any) -> None:
    request = urllib.request.Request(
        edge.url + "/",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request) as response:
        body = response.read().decode()
    assert "<GetCallerIdentityResponse" in body
    assert "<Account>000000000000</Account>" in body


def test_role_sessions_survive_a_restart(start_edge: Any, tmp_path: Path) -> None:
    services = create_services(tmp_path, names=["sts"])
    first = start_edge(services.by_name())
    credentials = _client("sts", first.url).assume_role(RoleArn=ROLE, RoleSessionName="long")[
        "Credentials"
    ]
    first.stop()
    services.close()

    second = start_edge(create_services(tmp_path, names=["sts"]).by_name())
    me = _session_client("sts", second.url, credentials).get_caller_identity()
    assert me["Arn"] == "arn:aws:sts::111122223333:assumed-role/deployer/long"


def test_an_expired_session_is_refused(start_edge: Any) -> None:
    now = [1_000_000.0]
    sessions = Sessions(SessionStore(open_database(None)), clock=lambda: now[0])
    edge = start_edge({"sts": StsService(sessions)})
    credentials = _client("sts", edge.url).assume_role(
        RoleArn=ROLE, RoleSessionName="short", DurationSeconds=900
    )["Credentials"]
    now[0] += 901

    with pytest.raises(ClientError) as caught:
        _session_client("sts", edge.url, credentials).get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "ExpiredToken"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
