"""Tags and Time to Live settings through the edge: stored, listed and validated as AWS does."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.server import EdgeServer
from tests._support.clients import aws_client


@pytest.fixture(scope="module")
def ddb(dynamodb_edge: EdgeServer) -> Any:
    # Unvalidated: malformed tags and TTL settings must reach the service to be refused.
    return aws_client("dynamodb", dynamodb_edge.url, parameter_validation=False)


def _create(ddb: Any, **extra: Any) -> tuple[str, str]:
    name = "tags-" + uuid.uuid4().hex[:8]
    table = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name, str(table["TableDescription"]["TableArn"])


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_tags_given_at_creation_are_listed(ddb: Any) -> None:
    tags = [{"Key": "team", "Value": "data"}, {"Key": "env", "Value": ""}]
    _, arn = _create(ddb, Tags=tags)
    listed = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted(listed, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])


def test_too_many_tags_at_creation_create_no_table(ddb: Any) -> None:
    name = "tags-" + uuid.uuid4().hex[:8]
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": str(i), "Value": "v"} for i in range(51)],
        )
    assert _error(excinfo)[0] == "ValidationException"
    assert name not in ddb.list_tables()["TableNames"]


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([], "Atleast one Tag needs to be provided as Input."),
        ([{"Key": "", "Value": "v"}], "Member must have length greater than or equal to 1"),
        ([{"Key": "k" * 129, "Value": "v"}], "Member must have length less than or equal to 128"),
        ([{"Key": "k", "Value": "v" * 257}], "Member must have length less than or equal to 256"),
        ([{"Key": "k"}], "Value null at 'tags.1.member.value'"),
        ([{"Key": "hi!", "Value": "v"}], "Member must satisfy regular expression pattern"),
        ([{"Key": "k", "Value": "d%g"}], "Member must satisfy regular expression pattern"),
    ],
)
def test_bad_tags_are_refused(ddb: Any, tags: list[dict[str, str]], message: str) -> None:
    _, arn = _create(ddb)
    with pytest.raises(ClientError) as excinfo:
        ddb.tag_resource(ResourceArn=arn, Tags=tags)
    code, text = _error(excinfo)
    assert code == "ValidationException"
    assert message in text
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []


def test_fifty_tags_at_most_across_calls(ddb: Any) -> None:
    _, arn = _create(ddb)
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": "v"} for i in range(30)])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": "w"} for i in range(20, 50)])
    with pytest.raises(ClientError) as excinfo:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert "Too many tags" in _error(excinfo)[1]
    assert len(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == 50


def test_only_a_table_arn_takes_tags(ddb: Any) -> None:
    _, arn = _create(ddb)
    for bad, message in (
        ("I_do_not_exist", "ARNs must start with 'arn:'"),
        (arn + "/index/gsi", "Invalid ResourceArn provided as input"),
    ):
        with pytest.raises(ClientError) as excinfo:
            ddb.tag_resource(ResourceArn=bad, Tags=[{"Key": "k", "Value": "v"}])
        code, text = _error(excinfo)
        assert code == "ValidationException" and message in text
    with pytest.raises(ClientError) as excinfo:
        ddb.list_tags_of_resource(ResourceArn=arn + "x")
    assert _error(excinfo)[0] == "ResourceNotFoundException"


def test_time_to_live_settings_are_validated(ddb: Any) -> None:
    name, _ = _create(ddb)

    def update(spec: dict[str, Any]) -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
        return _error(excinfo)

    assert update({"AttributeName": "exp", "Enabled": False}) == (
        "ValidationException",
        "TimeToLive is already disabled",
    )
    assert (
        "length less than or equal to 255"
        in update({"AttributeName": "x" * 256, "Enabled": True})[1]
    )
    assert "length greater than or equal to 1" in update({"AttributeName": "", "Enabled": True})[1]
    assert "timeToLiveSpecification.attributeName" in update({"Enabled": True})[1]
    assert "timeToLiveSpecification.enabled" in update({"AttributeName": "exp"})[1]
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True}
    )
    assert update({"AttributeName": "other", "Enabled": False}) == (
        "ValidationException",
        "TimeToLive is active on a different AttributeName: current AttributeName is exp",
    )
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": False}
    )
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }


def test_tag_and_untag_answer_with_an_empty_body(ddb: Any) -> None:
    _, arn = _create(ddb)
    tagged = ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert tagged["ResponseMetadata"]["HTTPHeaders"]["content-length"] == "0"
    untagged = ddb.untag_resource(ResourceArn=arn, TagKeys=["k"])
    assert untagged["ResponseMetadata"]["HTTPHeaders"]["content-length"] == "0"
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
