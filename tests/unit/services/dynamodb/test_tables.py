"""CreateTable validation: AWS's messages for bad key schemas and definitions."""

from __future__ import annotations

from typing import Any

import pytest

from lambic.services.dynamodb.errors import SerializationError, ValidationError
from lambic.services.dynamodb.tables import TableDefinition, parse_create_table


def _request(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": "orders",
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
    request.update(overrides)
    return request


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}]},
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            {
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "HASH"},
                ]
            },
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ),
        (
            {"BillingMode": "PROVISIONED"},
            "One or more parameter values were invalid: ReadCapacityUnits and "
            "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            {"TableName": "ab"},
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 3",
        ),
        (
            {"TableName": "bad name"},
            "1 validation error detected: Value 'bad name' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            {
                "LocalSecondaryIndexes": [
                    {
                        "IndexName": "lsi",
                        "KeySchema": [
                            {"AttributeName": "sk", "KeyType": "HASH"},
                            {"AttributeName": "pk", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ]
            },
            "One or more parameter values were invalid: Index KeySchema does not have the same "
            "leading hash key as table KeySchema for index: lsi",
        ),
    ],
)
def test_invalid_create_table_requests(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_create_table(_request(**overrides))
    assert excinfo.value.message == message


def test_definition_round_trips_through_json() -> None:
    table = parse_create_table(
        _request(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    )
    again = TableDefinition.from_json(table.to_json())
    assert again == table
    assert again.stream_arn is not None
    assert again.stream_arn.startswith(
        "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/"
    )


def _with_index(kind: str, key_schema: list[dict[str, str]], projection: dict[str, Any]) -> Any:
    request = _request(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "x", "AttributeType": "S"},
        ]
    )
    request[kind] = [{"IndexName": "idx", "KeySchema": key_schema, "Projection": projection}]
    return parse_create_table(request)


def test_a_local_index_needs_a_range_key() -> None:
    with pytest.raises(ValidationError) as excinfo:
        _with_index(
            "LocalSecondaryIndexes",
            [{"AttributeName": "pk", "KeyType": "HASH"}],
            {"ProjectionType": "ALL"},
        )
    assert excinfo.value.message == (
        "One or more parameter values were invalid: Index KeySchema does not have a range key "
        "for index: idx"
    )


def test_non_key_attributes_must_be_distinct_strings() -> None:
    schema = [{"AttributeName": "x", "KeyType": "HASH"}]
    with pytest.raises(SerializationError):
        _with_index(
            "GlobalSecondaryIndexes",
            schema,
            {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", 1]},
        )
    with pytest.raises(ValidationError, match="Duplicate attribute names"):
        _with_index(
            "GlobalSecondaryIndexes",
            schema,
            {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "a"]},
        )


def test_key_and_projected_attribute_names_are_at_most_255_bytes() -> None:
    long = "n" * 256
    with pytest.raises(ValidationError) as excinfo:
        parse_create_table(
            _request(
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": long, "AttributeType": "S"},
                ],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": "idx",
                        "KeySchema": [{"AttributeName": long, "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": [long]},
                    }
                ],
            )
        )
    message = excinfo.value.message
    assert message.startswith("3 validation errors detected: ")
    assert f"Value '{long}' at 'attributeDefinitions.3.member.attributeName'" in message
    assert "at 'globalSecondaryIndexes.1.member.keySchema.1.member.attributeName'" in message
    assert "at 'globalSecondaryIndexes.1.member.projection.nonKeyAttributes'" in message
    # 255 is fine.
    ok = "n" * 255
    table = parse_create_table(
        _request(
            KeySchema=[{"AttributeName": ok, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": ok, "AttributeType": "S"}],
        )
    )
    assert table.hash_key == ok
