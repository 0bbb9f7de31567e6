"""DynamoDB table operations through the edge port with a real boto3 client."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _name() -> str:
    return "t-" + uuid.uuid4().hex[:10]


def _create(ddb: Any, name: str, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    args.update(extra)
    return ddb.create_table(**args)["TableDescription"]  # type: ignore[no-any-return]


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_create_table_is_active_immediately_with_arn_and_counts(ddb: Any) -> None:
    name = _name()
    description = _create(ddb, name)
    assert description["TableStatus"] == "ACTIVE"
    assert description["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert description["ItemCount"] == 0
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 1
    waiter = ddb.get_waiter("table_exists")
    waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2})


def test_provisioned_table_reports_its_throughput(ddb: Any) -> None:
    name = _name()
    description = _create(
        ddb,
        name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )
    assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert description["ProvisionedThroughput"]["WriteCapacityUnits"] == 7


def test_creating_an_existing_table_is_resource_in_use(ddb: Any) -> None:
    name = _name()
    _create(ddb, name)
    with pytest.raises(ClientError) as excinfo:
        _create(ddb, name)
    assert _error(excinfo) == ("ResourceInUseException", f"Table already exists: {name}", 400)


def test_key_attribute_missing_from_definitions_is_rejected(ddb: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        _create(
            ddb,
            _name(),
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
    code, message, status = _error(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "Some index key attributes are not defined in AttributeDefinitions" in message


def test_extra_attribute_definition_is_rejected(ddb: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        _create(
            ddb,
            _name(),
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "zz", "AttributeType": "S"},
            ],
        )
    assert "Number of attributes in KeySchema does not exactly match" in _error(excinfo)[1]


def test_describe_missing_table_names_it(ddb: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_table(TableName="no-such-table")
    assert _error(excinfo) == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: no-such-table not found",
        400,
    )


def test_list_tables_pages_by_name(ddb: Any) -> None:
    names = sorted(_name() for _ in range(3))
    for name in names:
        _create(ddb, name)
    listed: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 2}
    while True:
        page = ddb.list_tables(**kwargs)
        listed.extend(page["TableNames"])
        if "LastEvaluatedTableName" not in page:
            break
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    assert set(names) <= set(listed)
    assert listed == sorted(listed)


def test_indexes_and_stream_are_described(ddb: Any) -> None:
    name = _name()
    description = _create(
        ddb,
        name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    assert description["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert description["LocalSecondaryIndexes"][0]["IndexName"] == "by-l"
    assert description["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_IMAGE",
    }
    assert description["LatestStreamArn"] == (
        description["TableArn"] + "/stream/" + description["LatestStreamLabel"]
    )


def test_update_table_adds_a_gsi_and_backfills_it(ddb: Any) -> None:
    name = _name()
    _create(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "x"}})
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    found = ddb.query(
        TableName=name,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )
    assert found["Count"] == 1
    ddb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}]
    )
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]


def test_update_table_enables_a_stream(ddb: Any) -> None:
    name = _name()
    _create(ddb, name)
    table = ddb.update_table(
        TableName=name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")


def test_delete_table_removes_it_and_its_items(ddb: Any) -> None:
    name = _name()
    _create(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
    with pytest.raises(ClientError) as excinfo:
        ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert _error(excinfo) == ("ResourceNotFoundException", "Requested resource not found", 400)
    _create(ddb, name)
    assert ddb.scan(TableName=name)["Count"] == 0


def test_time_to_live_and_tags_round_trip(ddb: Any) -> None:
    name = _name()
    arn = _create(ddb, name)["TableArn"]
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "exp",
    }
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "x"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "x"}]


def test_describe_limits_and_endpoints_answer(ddb: Any) -> None:
    assert ddb.describe_limits()["TableMaxReadCapacityUnits"] == 40000
    (endpoint,) = ddb.describe_endpoints()["Endpoints"]
    assert endpoint["CachePeriodInMinutes"] == 1440
    # The endpoint the client called: a discovering SDK goes there next, not to AWS.
    assert f"http://{endpoint['Address']}" == ddb.meta.endpoint_url
