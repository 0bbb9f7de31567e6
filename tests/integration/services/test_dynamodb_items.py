"""DynamoDB item operations through the edge: writes, conditions, return values, bad input."""

from __future__ import annotations

import http.client
import json
import time
import uuid
import zlib
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from lambic.services.server import EdgeServer


@pytest.fixture
def table(ddb: Any) -> str:
    name = "items-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def _item(ddb: Any, table: str) -> dict[str, Any] | None:
    return ddb.get_item(TableName=table, Key=KEY, ConsistentRead=True).get("Item")  # type: ignore[no-any-return]


def test_put_then_get_round_trips_every_type(ddb: Any, table: str) -> None:
    item = {
        **KEY,
        "s": {"S": "text"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\x01"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.0"]},
        "bs": {"BS": [b"a", b"b"]},
        "l": {"L": [{"S": "x"}, {"N": "3"}]},
        "m": {"M": {"k": {"BOOL": True}}},
        "nul": {"NULL": True},
        "t": {"BOOL": False},
    }
    ddb.put_item(TableName=table, Item=item)
    got = _item(ddb, table)
    assert got is not None
    assert got["n"] == {"N": "1.5"}  # DynamoDB normalises numbers
    assert sorted(got["ns"]["NS"]) == ["1", "2"]
    assert got["b"] == {"B": b"\x00\x01"}
    assert got["m"] == {"M": {"k": {"BOOL": True}}}
    assert got["nul"] == {"NULL": True}


def test_decimal_time_round_trips_through_the_resource_api(
    dynamodb_edge: EdgeServer, table: str
) -> None:
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=dynamodb_edge.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    now = Decimal(time.time())
    resource.Table(table).put_item(Item={"pk": "t", "sk": now, "v": Decimal("1.2300E+5")})
    got = resource.Table(table).get_item(Key={"pk": "t", "sk": now})["Item"]
    assert got["sk"] == now
    assert got["v"] == Decimal("123000")


def test_numbers_come_back_in_plain_notation_as_aws_returns_them(ddb: Any, table: str) -> None:
    # AWS answers 1E+100 as "1" and 100 zeros (boto3 issue #2500); we mirror it.
    ddb.put_item(TableName=table, Item={**KEY, "v": {"N": "1E+100"}, "w": {"N": "-0.0100"}})
    got = _item(ddb, table)
    assert got is not None
    assert got["v"] == {"N": "1" + "0" * 100}
    assert got["w"] == {"N": "-0.01"}


def test_get_item_with_projection_returns_nested_paths(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={
            **KEY,
            "m": {"M": {"a": {"S": "x"}, "b": {"S": "y"}}},
            "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]},
            "name": {"S": "n"},
        },
    )
    got = ddb.get_item(
        TableName=table,
        Key=KEY,
        ProjectionExpression="m.b, l[2], #n",
        ExpressionAttributeNames={"#n": "name"},
    )["Item"]
    assert got == {"m": {"M": {"b": {"S": "y"}}}, "l": {"L": [{"N": "2"}]}, "name": {"S": "n"}}


def test_update_expression_set_remove_add_delete(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={
            **KEY,
            "count": {"N": "5"},
            "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]},
            "tags": {"SS": ["x", "y"]},
            "gone": {"S": "bye"},
        },
    )
    result = ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression=(
            "SET #c = #c - :one, l = list_append(l, :more), fresh = if_not_exists(fresh, :zero) "
            "REMOVE gone ADD hits :one, labels :newtags DELETE tags :oldtags"
        ),
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
            ":more": {"L": [{"S": "d"}]},
            ":newtags": {"SS": ["z"]},
            ":oldtags": {"SS": ["x"]},
        },
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert result["count"] == {"N": "4"}
    assert result["l"] == {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]}
    assert result["fresh"] == {"N": "0"}
    assert result["hits"] == {"N": "1"}
    assert result["tags"] == {"SS": ["y"]}
    assert result["labels"] == {"SS": ["z"]}
    assert "gone" not in result


def test_remove_list_elements_by_original_index(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={**KEY, "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]}},
    )
    ddb.update_item(TableName=table, Key=KEY, UpdateExpression="REMOVE l[0], l[2]")
    got = _item(ddb, table)
    assert got is not None
    assert got["l"] == {"L": [{"S": "b"}, {"S": "d"}]}


def test_overlapping_update_paths_are_rejected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(TableName=table, Key=KEY, UpdateExpression="REMOVE l, l[0]")
    assert _error(excinfo)[1] == (
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [l], path two: [l, [0]]"
    )


def test_update_return_values_updated_old_and_new(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "a": {"N": "1"}, "b": {"N": "9"}})
    old = ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
        ReturnValues="UPDATED_OLD",
    )["Attributes"]
    assert old == {"a": {"N": "1"}}
    new = ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"N": "3"}},
        ReturnValues="UPDATED_NEW",
    )["Attributes"]
    assert new == {"a": {"N": "3"}}


def test_update_creates_missing_item_from_key(ddb: Any, table: str) -> None:
    ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="ADD visits :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert _item(ddb, table) == {**KEY, "visits": {"N": "1"}}


def test_condition_failure_changes_nothing_and_can_return_the_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "v": {"N": "1"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(
            TableName=table,
            Item={**KEY, "v": {"N": "2"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert _error(excinfo) == (
        "ConditionalCheckFailedException",
        "The conditional request failed",
        400,
    )
    assert excinfo.value.response["Item"] == {**KEY, "v": {"N": "1"}}
    assert _item(ddb, table) == {**KEY, "v": {"N": "1"}}


def test_conditions_with_functions_and_precedence(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={**KEY, "s": {"S": "hello"}, "ss": {"SS": ["a"]}, "n": {"N": "5"}},
    )
    passing = [
        "begins_with(s, :he) AND contains(ss, :a)",
        "size(s) = :five AND attribute_type(n, :N)",
        "n BETWEEN :one AND :five OR n = :one AND n = :five",
        "NOT n IN (:one, :a) AND (n > :one)",
        "n <> :one AND attribute_exists(s) AND attribute_not_exists(zz)",
    ]
    values = {
        ":he": {"S": "he"},
        ":a": {"S": "a"},
        ":five": {"N": "5"},
        ":one": {"N": "1"},
        ":N": {"S": "N"},
    }
    for condition in passing:
        used = {k: v for k, v in values.items() if k in condition}
        ddb.delete_item(
            TableName=table,
            Key={"pk": {"S": "nothing"}, "sk": {"N": "0"}},
        )
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET touched = :one",
            ConditionExpression=condition,
            ExpressionAttributeValues={**used, ":one": values[":one"]},
        )
    with pytest.raises(ClientError):
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET touched = :one",
            ConditionExpression="NOT (n > :one)",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def test_delete_item_returns_all_old(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "v": {"S": "x"}})
    old = ddb.delete_item(TableName=table, Key=KEY, ReturnValues="ALL_OLD")["Attributes"]
    assert old == {**KEY, "v": {"S": "x"}}
    assert _item(ddb, table) is None


def test_consumed_capacity_total_and_indexes(ddb: Any, table: str) -> None:
    put = ddb.put_item(
        TableName=table, Item={**KEY, "big": {"S": "x" * 3000}}, ReturnConsumedCapacity="TOTAL"
    )
    assert put["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 3.0}
    get = ddb.get_item(TableName=table, Key=KEY, ReturnConsumedCapacity="INDEXES")
    assert get["ConsumedCapacity"]["CapacityUnits"] == 0.5
    assert get["ConsumedCapacity"]["Table"] == {"CapacityUnits": 0.5}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"pk": {"S": "a"}},
            "One or more parameter values were invalid: Missing the key sk in the item",
        ),
        (
            {"pk": {"N": "1"}, "sk": {"N": "1"}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S "
            "actual: N",
        ),
        (
            {"pk": {"S": ""}, "sk": {"N": "1"}},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: pk",
        ),
        ({**KEY, "n": {"N": "abc"}}, "The parameter cannot be converted to a numeric value: abc"),
        (
            {**KEY, "n": {"N": "1" * 39}},
            "Attempting to store more than 38 significant digits in a Number",
        ),
        ({**KEY, "big": {"S": "x" * 410_000}}, "Item size has exceeded the maximum allowed size"),
        (
            {**KEY, "s": {"SS": ["a", "a"]}},
            "One or more parameter values were invalid: Input collection [a, a] contains "
            "duplicates.",
        ),
    ],
)
def test_invalid_items_are_rejected_without_writing(
    ddb: Any, table: str, item: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=table, Item=item)
    assert _error(excinfo) == ("ValidationException", message, 400)
    assert ddb.scan(TableName=table)["Count"] == 0


def test_key_that_does_not_match_schema(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
    assert _error(excinfo) == (
        "ValidationException",
        "The provided key element does not match the schema",
        400,
    )


def test_unused_and_undefined_placeholders_are_validation_errors(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET a = :a",
            ExpressionAttributeValues={":a": {"N": "1"}, ":b": {"N": "2"}},
        )
    assert _error(excinfo)[1] == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"
    )
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(TableName=table, Key=KEY, UpdateExpression="SET a = :nope")
    assert _error(excinfo)[1] == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :nope"
    )
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET #a = :a",
            ExpressionAttributeNames={"#a": "a", "#z": "z"},
            ExpressionAttributeValues={":a": {"N": "1"}},
        )
    assert _error(excinfo)[1] == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#z}"
    )
    assert _item(ddb, table) is None


def test_reserved_word_and_syntax_errors(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET status = :a",
            ExpressionAttributeValues={":a": {"N": "1"}},
        )
    assert _error(excinfo)[1] == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"
    )
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET a = ",
        )
    assert _error(excinfo)[1].startswith("Invalid UpdateExpression: Syntax error; token: ")


def test_updating_a_key_attribute_is_rejected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET pk = :a",
            ExpressionAttributeValues={":a": {"S": "b"}},
        )
    assert _error(excinfo)[1] == (
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute "
        "is part of the key"
    )


def test_arithmetic_on_a_string_is_a_validation_error(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "s": {"S": "x"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET s = s + :a",
            ExpressionAttributeValues={":a": {"N": "1"}},
        )
    assert _error(excinfo)[1] == "An operand in the update expression has an incorrect data type"
    assert _item(ddb, table) == {**KEY, "s": {"S": "x"}}


def _raw_post(
    dynamodb_edge: EdgeServer, target: str, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(dynamodb_edge.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/",
            body=body,
            headers={
                "X-Amz-Target": target,
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_malformed_json_is_a_serialization_exception(dynamodb_edge: EdgeServer) -> None:
    status, headers, body = _raw_post(dynamodb_edge, "DynamoDB_20120810.PutItem", b"{not json")
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazon.coral.service#SerializationException"
    assert headers["x-amz-crc32"] == str(zlib.crc32(body))
    assert len(headers["x-amzn-requestid"]) == 52


def test_unknown_operation_is_rejected(dynamodb_edge: EdgeServer) -> None:
    status, _, body = _raw_post(dynamodb_edge, "DynamoDB_20120810.Frobnicate", b"{}")
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazon.coral.service#UnknownOperationException"


def test_missing_table_error_body_has_awss_shape(dynamodb_edge: EdgeServer) -> None:
    status, _, body = _raw_post(
        dynamodb_edge,
        "DynamoDB_20120810.GetItem",
        json.dumps({"TableName": "missing", "Key": {"pk": {"S": "a"}}}).encode(),
    )
    assert status == 400
    assert json.loads(body) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "message": "Requested resource not found",
    }


def test_legacy_expected_and_attribute_updates(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "v": {"N": "1"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(
            TableName=table,
            Item={**KEY, "v": {"N": "9"}},
            Expected={"pk": {"Exists": False}},
        )
    assert _error(excinfo)[0] == "ConditionalCheckFailedException"
    ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "v": {"Action": "ADD", "Value": {"N": "2"}},
            "w": {"Action": "PUT", "Value": {"S": "x"}},
        },
        Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}},
    )
    assert _item(ddb, table) == {**KEY, "v": {"N": "3"}, "w": {"S": "x"}}
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(
            TableName=table,
            Item=KEY,
            Expected={"pk": {"Exists": False}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert _error(excinfo)[1] == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )


def test_legacy_attribute_updates_of_the_wrong_type_are_a_type_mismatch(
    ddb: Any, table: str
) -> None:
    # AttributeUpdates word it as UpdateItem's reference lists it, where an update
    # expression's ADD says "An operand in the update expression has an incorrect data type".
    ddb.put_item(TableName=table, Item={**KEY, "s": {"NS": ["1"]}, "n": {"N": "1"}})
    for updates in (
        {"s": {"Action": "ADD", "Value": {"SS": ["a"]}}},
        {"s": {"Action": "DELETE", "Value": {"SS": ["a"]}}},
        {"n": {"Action": "ADD", "Value": {"NS": ["2"]}}},
    ):
        with pytest.raises(ClientError) as excinfo:
            ddb.update_item(TableName=table, Key=KEY, AttributeUpdates=updates)
        assert _error(excinfo) == (
            "ValidationException",
            "Type mismatch for attribute to update",
            400,
        )
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="ADD s :v",
            ExpressionAttributeValues={":v": {"SS": ["a"]}},
        )
    assert _error(excinfo)[1] == "An operand in the update expression has an incorrect data type"
    assert _item(ddb, table) == {**KEY, "s": {"NS": ["1"]}, "n": {"N": "1"}}


def test_legacy_add_of_a_list_appends_to_it(ddb: Any, table: str) -> None:
    # Not in the API reference, but DynamoDB's behaviour: ADD of a list appends (a missing
    # attribute counts as an empty list); onto a number it is a type mismatch.
    ddb.put_item(TableName=table, Item={**KEY, "l": {"L": [{"N": "1"}]}, "n": {"N": "1"}})
    for name in ("l", "new"):
        ddb.update_item(
            TableName=table,
            Key=KEY,
            AttributeUpdates={name: {"Action": "ADD", "Value": {"L": [{"S": "a"}]}}},
        )
    item = _item(ddb, table)
    assert item is not None
    assert item["l"] == {"L": [{"N": "1"}, {"S": "a"}]} and item["new"] == {"L": [{"S": "a"}]}
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            AttributeUpdates={"n": {"Action": "ADD", "Value": {"L": [{"S": "a"}]}}},
        )
    assert _error(excinfo)[1] == "Type mismatch for attribute to update"


def test_legacy_key_conditions_and_query_filter(ddb: Any, table: str) -> None:
    for n in range(5):
        ddb.put_item(
            TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": str(n)}, "v": {"N": str(n)}}
        )
    key_conditions = {
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
        "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "2"}]},
    }
    result = ddb.query(
        TableName=table,
        KeyConditions=key_conditions,
        QueryFilter={"v": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "3"}]}},
    )
    assert [i["sk"]["N"] for i in result["Items"]] == ["2", "4"]
    # A filter on a key attribute is refused (AWS: key conditions are for keys).
    with pytest.raises(ClientError) as excinfo:
        ddb.query(
            TableName=table,
            KeyConditions=key_conditions,
            QueryFilter={"sk": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "3"}]}},
        )
    assert _error(excinfo)[1] == (
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"
    )
    scanned = ddb.scan(
        TableName=table,
        ScanFilter={
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "2"}]}
        },
    )
    assert scanned["Count"] == 2


def test_table_arn_is_accepted_as_table_name_and_bad_names_are_validated(
    ddb: Any, table: str
) -> None:
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.put_item(TableName=arn, Item=KEY)
    assert _item(ddb, table) == KEY
    with pytest.raises(ClientError) as excinfo:
        ddb.get_item(TableName="a!", Key=KEY)
    assert _error(excinfo)[1] == (
        "1 validation error detected: Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )


def test_placeholder_keys_must_be_well_formed(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET a = :a",
            ExpressionAttributeValues={":a": {"N": "1"}, "b": {"N": "2"}},
        )
    assert _error(excinfo)[1] == (
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"'
    )


def test_wrong_json_types_are_serialization_exceptions(
    dynamodb_edge: EdgeServer, table: str
) -> None:
    body = {"TableName": table, "Item": {**KEY, "n": {"N": 5}}}
    status, _, raw = _raw_post(
        dynamodb_edge, "DynamoDB_20120810.PutItem", json.dumps(body).encode()
    )
    assert status == 400
    assert json.loads(raw) == {
        "__type": "com.amazon.coral.service#SerializationException",
        "Message": "NUMBER_VALUE cannot be converted to String",
    }


def test_literal_operand_types_are_checked_before_reading(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET a = a + :s",
            ExpressionAttributeValues={":s": {"S": "1"}},
        )
    assert _error(excinfo)[1] == (
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        "operator or function: +, operand type: S"
    )
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=table, Item=KEY, ReturnValues="ALL_NEW")
    assert _error(excinfo)[1] == "Return values set to invalid value"


def test_an_update_that_only_removes_does_not_create_a_missing_item(ddb: Any, table: str) -> None:
    response = ddb.update_item(
        TableName=table, Key=KEY, UpdateExpression="REMOVE g", ReturnValues="ALL_NEW"
    )
    assert "Attributes" not in response
    assert _item(ddb, table) is None
    # An update that sets something does create it.
    ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET g = :g",
        ExpressionAttributeValues={":g": {"N": "1"}},
    )
    assert _item(ddb, table) == {**KEY, "g": {"N": "1"}}
