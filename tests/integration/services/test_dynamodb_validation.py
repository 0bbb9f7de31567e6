"""DynamoDB refuses malformed requests before touching items, in DynamoDB's own words.

Each test sends what a client could send by mistake and checks the ValidationException
(code and message) a user would see, and that nothing was written.
"""

from __future__ import annotations

import http.client
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambic.services.server import EdgeServer


@pytest.fixture(scope="module")
def table(ddb: Any) -> str:
    name = "validation-" + uuid.uuid4().hex[:8]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(
        TableName=name,
        Item={"pk": {"S": "k"}, "a": {"N": "1"}, "s": {"S": "hello"}, "l": {"L": [{"N": "1"}]}},
    )
    return name


def _refused(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    error = excinfo.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    return str(error["Message"])


def _update(ddb: Any, table: str, **kwargs: Any) -> Any:
    return ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, **kwargs)


def _put_z(ddb: Any, table: str) -> dict[str, Any]:
    """The legacy update the Expected tests guard: z = 9."""
    return {"AttributeUpdates": {"z": {"Value": {"N": "9"}, "Action": "PUT"}}}


def _item(ddb: Any, table: str) -> dict[str, Any]:
    item: dict[str, Any] = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]
    return item


@pytest.mark.parametrize(
    ("operator", "values", "message"),
    [
        (
            "LE",
            [{"L": [{"N": "1"}]}],
            "ComparisonOperator LE is not valid for L AttributeValue type",
        ),
        ("CONTAINS", [{"N": "2"}, {"N": "3"}], "Invalid number of argument(s) for the CONTAINS"),
        ("BEGINS_WITH", [{"N": "3"}], "ComparisonOperator BEGINS_WITH is not valid for N"),
        (
            "IN",
            [{"N": "3"}, {"S": "dog"}],
            "AttributeValues inside AttributeValueList must be of same",
        ),
        ("BETWEEN", [{"N": "4"}, {"N": "3"}], "lower bound is greater than the upper bound"),
        ("NOT_CONTAINS", [], "Invalid number of argument(s) for the NOT_CONTAINS"),
    ],
)
def test_expected_values_are_checked_before_the_condition_runs(
    ddb: Any, table: str, operator: str, values: list[Any], message: str
) -> None:
    text = _refused(
        _update,
        ddb=ddb,
        table=table,
        Expected={"a": {"ComparisonOperator": operator, "AttributeValueList": values}},
        **_put_z(ddb, table),
    )
    assert message in text
    assert "z" not in _item(ddb, table)


def test_expected_exists_and_operator_cannot_be_combined(ddb: Any, table: str) -> None:
    text = _refused(
        _update,
        ddb=ddb,
        table=table,
        Expected={
            "a": {"Exists": False, "ComparisonOperator": "EQ", "AttributeValueList": [{"N": "3"}]}
        },
        **_put_z(ddb, table),
    )
    assert text == (
        "One or more parameter values were invalid: Exists and ComparisonOperator cannot be "
        "used together for Attribute: a"
    )


def test_conditional_operator_needs_two_conditions(ddb: Any, table: str) -> None:
    missing = _refused(
        _update, ddb=ddb, table=table, ConditionalOperator="OR", **_put_z(ddb, table)
    )
    assert missing == "ConditionalOperator cannot be used without Filter or Expected"
    empty = _refused(
        _update, ddb=ddb, table=table, Expected={}, ConditionalOperator="AND", **_put_z(ddb, table)
    )
    assert "ConditionalOperator can only be used when Filter or Expected has two or more" in empty


def test_expression_and_legacy_parameters_cannot_be_mixed(ddb: Any, table: str) -> None:
    text = _refused(
        _update,
        ddb=ddb,
        table=table,
        ConditionExpression="a = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        **_put_z(ddb, table),
    )
    assert text == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributeUpdates} Expression parameters: "
        "{ConditionExpression}"
    )


@pytest.mark.parametrize(
    ("condition", "values", "message"),
    [
        ("a < :v", {":v": {"L": [{"N": "1"}]}}, "Incorrect operand type"),
        (
            "begins_with(s, :v)",
            {":v": {"N": "1"}},
            "operator or function: begins_with, operand type: N",
        ),
        (
            "a BETWEEN :hi AND :lo",
            {":hi": {"N": "4"}, ":lo": {"N": "3"}},
            "upper bound to be greater",
        ),
        ("a BETWEEN :lo AND :s", {":lo": {"N": "4"}, ":s": {"S": "x"}}, "same data type for lower"),
        ("contains(s, s)", None, "The first operand must be distinct"),
        ("size(s, s) = :v", {":v": {"N": "1"}}, "Incorrect number of operands"),
        ("size(size(s)) = :v", {":v": {"N": "1"}}, "operator or function: size, operand type: N"),
        ("size(:v) = :v", {":v": {"N": "1"}}, "operator or function: size, operand type: N"),
        ("if_not_exists(a, a) = :v", {":v": {"N": "1"}}, "not allowed in a condition expression"),
        ("attribute_type(a, s)", None, "operator or function: attribute_type"),
        ("((a = :v))", {":v": {"N": "1"}}, "The expression has redundant parentheses;"),
        ("a != :v", {":v": {"N": "1"}}, "Syntax error"),
        ("(" * 2000 + "a = :v" + ")" * 2000, {":v": {"N": "1"}}, "redundant parentheses"),
        ("not " * 400 + "a = :v", {":v": {"N": "1"}}, "too many operators; operator count: 301"),
        ("(" * 3000, None, "Syntax error"),
    ],
)
def test_condition_expressions_are_checked_statically(
    ddb: Any, table: str, condition: str, values: dict[str, Any] | None, message: str
) -> None:
    text = _refused(
        _update,
        ddb=ddb,
        table=table,
        UpdateExpression="SET z = :z",
        ConditionExpression=condition,
        ExpressionAttributeValues={**(values or {}), ":z": {"N": "9"}},
    )
    assert text.startswith("Invalid ConditionExpression: ")
    assert message in text
    assert "z" not in _item(ddb, table)


def test_conditions_that_pass_the_checks_still_work(ddb: Any, table: str) -> None:
    # A literal's size is known up front; attribute_type may test a literal; one pair
    # of parentheses and nested ORs under the operator limit are fine.
    _update(
        ddb,
        table,
        UpdateExpression="SET z = :z",
        ConditionExpression="size(:word) = :five AND attribute_type(:word, :type) AND "
        "(a = :one)" + " OR (a = :one" * 100 + ")" * 100,
        ExpressionAttributeValues={
            ":word": {"S": "hello"},
            ":five": {"N": "5"},
            ":type": {"S": "S"},
            ":one": {"N": "1"},
            ":z": {"N": "7"},
        },
    )
    assert _item(ddb, table)["z"] == {"N": "7"}
    _update(ddb, table, UpdateExpression="REMOVE z")


@pytest.fixture(scope="module")
def sorted_table(ddb: Any) -> str:
    name = "validation-sorted-" + uuid.uuid4().hex[:8]
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
    for n in range(5):
        ddb.put_item(
            TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": str(n)}, "v": {"N": str(n)}}
        )
    return name


def test_key_comparisons_may_put_the_value_first(ddb: Any, sorted_table: str) -> None:
    page = ddb.query(
        TableName=sorted_table,
        KeyConditionExpression=":p = pk AND :two < sk",
        ExpressionAttributeValues={":p": {"S": "p"}, ":two": {"N": "2"}},
    )
    assert [item["sk"]["N"] for item in page["Items"]] == ["3", "4"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {
                "KeyConditionExpression": "pk = :p",
                "FilterExpression": "sk > :n",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":n": {"N": "1"}},
            },
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: sk",
        ),
        (
            {
                "KeyConditions": {
                    "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}
                },
                "QueryFilter": {
                    "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}
                },
            },
            "QueryFilter can only contain non-primary key attributes: Primary key attribute: pk",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p AND v < :n",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":n": {"N": "1"}},
            },
            # DynamoDB names the sort key the condition missed (Alternator's notes quote it).
            "Query condition missed key schema element: sk",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p AND sk.x < :n",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":n": {"N": "1"}},
            },
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p AND attribute_exists(sk)",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
            },
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "ExclusiveStartKey": {"pk": {"S": "other"}, "sk": {"N": "1"}},
            },
            "The provided starting key is outside query boundaries based on provided conditions",
        ),
        (
            {
                "KeyConditions": {
                    "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}
                },
                "Select": "COUNT",
                "AttributesToGet": ["v"],
            },
            "Cannot specify the AttributesToGet when choosing to get COUNT",
        ),
    ],
)
def test_query_refusals(ddb: Any, sorted_table: str, kwargs: dict[str, Any], message: str) -> None:
    assert _refused(ddb.query, TableName=sorted_table, **kwargs) == message


def test_attributes_to_get_must_be_distinct_and_not_empty(
    dynamodb_edge: EdgeServer, ddb: Any, table: str
) -> None:
    key = {"pk": {"S": "k"}}
    unchecked = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_edge.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, parameter_validation=False),
    )
    empty = _refused(unchecked.get_item, TableName=table, Key=key, AttributesToGet=[])
    assert "Member must have length greater than or equal to 1" in empty
    twice = _refused(ddb.get_item, TableName=table, Key=key, AttributesToGet=["a", "a"])
    assert (
        twice == "One or more parameter values were invalid: Duplicate value in attribute name: a"
    )


def test_legacy_not_contains_fails_on_a_missing_attribute(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        _update(
            ddb,
            table,
            Expected={
                "nope": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"N": "1"}]}
            },
            **_put_z(ddb, table),
        )
    assert excinfo.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_removing_from_a_missing_item_creates_nothing(ddb: Any, table: str) -> None:
    for update in (
        {"UpdateExpression": "REMOVE a"},
        {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
    ):
        key = {"pk": {"S": uuid.uuid4().hex}}
        result = ddb.update_item(TableName=table, Key=key, ReturnValues="ALL_NEW", **update)
        assert "Attributes" not in result
        assert "Item" not in ddb.get_item(TableName=table, Key=key)
    key = {"pk": {"S": uuid.uuid4().hex}}
    ddb.update_item(TableName=table, Key=key, AttributeUpdates={})
    assert ddb.get_item(TableName=table, Key=key)["Item"] == key


def _create_refusal(ddb: Any, **kwargs: Any) -> str:
    name = "validation-bad-" + uuid.uuid4().hex[:8]
    text = _refused(ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST", **kwargs)
    assert name not in ddb.list_tables()["TableNames"]
    return text


def test_table_attribute_names_are_checked_against_the_model(ddb: Any) -> None:
    long_name = "n" * 256
    text = _create_refusal(
        ddb,
        KeySchema=[{"AttributeName": long_name, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "short", "AttributeType": "S"}],
    )
    assert text == (
        f"1 validation error detected: Value '{long_name}' at "
        "'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have "
        "length less than or equal to 255"
    )
    text = _create_refusal(
        ddb,
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "a", "AttributeType": "S"},
            {"AttributeName": "c", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": [long_name]},
            }
        ],
    )
    # A list's members are checked as one constraint on the list (AWS's model validator).
    assert "at 'globalSecondaryIndexes.1.member.projection.nonKeyAttributes'" in text
    assert "Member must have length less than or equal to 255" in text


def test_attribute_definitions_need_a_name_and_a_type(dynamodb_edge: EdgeServer, ddb: Any) -> None:
    unchecked = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_edge.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, parameter_validation=False),
    )
    text = _create_refusal(
        unchecked,
        KeySchema=[{"AttributeName": "xyz", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeType": "S"}],
    )
    assert "Value null at 'attributeDefinitions.1.member.attributeName'" in text
    text = _create_refusal(
        unchecked,
        KeySchema=[{"AttributeName": "xyz", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "xyz"}],
    )
    assert "Value null at 'attributeDefinitions.1.member.attributeType'" in text


def test_delete_table_answers_without_the_schema(ddb: Any) -> None:
    name = "validation-del-" + uuid.uuid4().hex[:8]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    described = ddb.delete_table(TableName=name)["TableDescription"]
    assert described["TableStatus"] == "DELETING"
    assert described["TableName"] == name and described["TableArn"].startswith("arn:")
    for field in ("CreationDateTime", "KeySchema", "AttributeDefinitions"):
        assert field not in described


def test_arithmetic_that_needs_more_than_38_digits_is_refused(ddb: Any, table: str) -> None:
    for expression, values in (
        ("SET z = :big - :one", {":big": {"N": "1e50"}, ":one": {"N": "1"}}),
        ("SET z = :a + :huge", {":a": {"N": "1.0"}, ":huge": {"N": "1.0e100000000"}}),
    ):
        text = _refused(
            _update,
            ddb=ddb,
            table=table,
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )
        assert text.startswith("Number overflow.")
    assert "z" not in _item(ddb, table)
    _update(
        ddb,
        table,
        UpdateExpression="SET z = :big + :one",
        ExpressionAttributeValues={":big": {"N": "1e37"}, ":one": {"N": "1"}},
    )
    assert _item(ddb, table)["z"] == {"N": "1" + "0" * 36 + "1"}
    _update(ddb, table, UpdateExpression="REMOVE z")


def test_malformed_base64_fails_to_deserialize(
    ddb: Any, table: str, dynamodb_edge: EdgeServer
) -> None:
    url = urlsplit(dynamodb_edge.url)
    for bad in ("YWJjZGVmZ2g", "YWJj!GVm"):
        connection = http.client.HTTPConnection(url.hostname or "", url.port)
        body = json.dumps({"TableName": table, "Item": {"pk": {"S": "b"}, "x": {"B": bad}}})
        connection.request(
            "POST",
            "/",
            body=body,
            headers={
                "X-Amz-Target": "DynamoDB_20120810.PutItem",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()
        assert response.status == 400
        assert answer["__type"].endswith("#SerializationException")


def test_describe_continuous_backups(ddb: Any, table: str) -> None:
    described = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert described == {
        "ContinuousBackupsStatus": "DISABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_continuous_backups(TableName=table + "-missing")
    assert excinfo.value.response["Error"]["Code"] == "TableNotFoundException"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SET _abc = :v", 'Syntax error; token: "_abc"'),
        ("SET a.b = :v, a[1] = :w", "Two document paths conflict with each other"),
        ("SET a = list_append(list_append(:l, :l), :l)", "function: list_append"),
        ("SET a" + ".b" * 32 + " = :v", "too many nesting levels; nesting levels: 33"),
        ("SET a[99999999999999] = :v", "List index is not within the allowable range"),
    ],
)
def test_update_expressions_refused_as_aws_does(
    ddb: Any, table: str, expression: str, message: str
) -> None:
    values = {":v": {"N": "1"}, ":w": {"N": "2"}, ":l": {"L": [{"N": "1"}]}}
    used = {k: v for k, v in values.items() if k in expression}
    text = _refused(
        _update, ddb=ddb, table=table, UpdateExpression=expression, ExpressionAttributeValues=used
    )
    assert text.startswith("Invalid UpdateExpression: ") and message in text


def test_projection_paths_may_not_conflict(ddb: Any, table: str) -> None:
    text = _refused(
        ddb.get_item, TableName=table, Key={"pk": {"S": "k"}}, ProjectionExpression="a.b, a[1]"
    )
    assert text == (
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove "
        "or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"
    )


def test_sets_past_a_lists_end_append_in_index_order(ddb: Any, table: str) -> None:
    key = {"pk": {"S": uuid.uuid4().hex}}
    ddb.put_item(TableName=table, Item={**key, "l": {"L": [{"S": "one"}]}})
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET l[84] = :a1, l[37] = :a2, l[17] = :a3",
        ExpressionAttributeValues={":a1": {"S": "a1"}, ":a2": {"S": "a2"}, ":a3": {"S": "a3"}},
    )
    item = ddb.get_item(TableName=table, Key=key)["Item"]
    assert [v["S"] for v in item["l"]["L"]] == ["one", "a3", "a2", "a1"]


def test_removing_below_a_missing_attribute(ddb: Any, table: str) -> None:
    key = {"pk": {"S": uuid.uuid4().hex}}
    # On a missing item it is a no-op; on an existing one the path is invalid.
    ddb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE x.y")
    ddb.put_item(TableName=table, Item={**key, "a": {"S": "x"}})
    text = _refused(ddb.update_item, TableName=table, Key=key, UpdateExpression="REMOVE x.y")
    assert text == "The document path provided in the update expression is invalid for update"


def test_provisioned_throughput_needs_both_units(dynamodb_edge: EdgeServer, ddb: Any) -> None:
    unchecked = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_edge.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, parameter_validation=False),
    )
    text = _create_refusal(
        unchecked,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"WriteCapacityUnits": 1},
    )
    assert "Value null at 'provisionedThroughput.readCapacityUnits'" in text


def test_a_parallel_scan_start_key_must_be_in_its_segment(ddb: Any, sorted_table: str) -> None:
    text = _refused(
        ddb.scan,
        TableName=sorted_table,
        TotalSegments=1_000_000,
        Segment=0,
        ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "1"}},
    )
    assert text.startswith(
        "The provided starting key is invalid: Invalid ExclusiveStartKey. "
        "Please use ExclusiveStartKey with correct Segment."
    )


def test_responses_name_their_server(ddb: Any, table: str) -> None:
    answer = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})
    assert answer["ResponseMetadata"]["HTTPHeaders"]["server"] == "Server"


def test_deleting_a_missing_index_is_resource_not_found(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}]
        )
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"
