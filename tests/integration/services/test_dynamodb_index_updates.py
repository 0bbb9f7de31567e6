"""Secondary index rules through the edge: UpdateTable's index updates, index key sizes,
projections, as AWS enforces them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _gsi(name: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": n, "KeyType": t} for n, t in keys],
        "Projection": {"ProjectionType": "ALL"},
    }


def _defs(*names: str, kind: str = "S") -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": kind} for n in names]


@pytest.fixture
def table(ddb: Any) -> str:
    """pk/sk, an LSI `by-l` on l, a GSI `by-x` on x."""
    name = "ix-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=_defs("pk", "sk", "l", "x"),
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        GlobalSecondaryIndexes=[_gsi("by-x", ("x", "HASH"))],
    )
    return name


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_one_index_created_or_deleted_per_update(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(
            TableName=table,
            AttributeDefinitions=_defs("y", "z"),
            GlobalSecondaryIndexUpdates=[
                {"Create": _gsi("by-y", ("y", "HASH"))},
                {"Create": _gsi("by-z", ("z", "HASH"))},
            ],
        )
    assert _error(excinfo)[0] == "LimitExceededException"
    assert "by-y" not in str(ddb.describe_table(TableName=table)["Table"])


def test_deleting_a_missing_index_or_an_lsi_is_not_found(ddb: Any, table: str) -> None:
    for name in ("nonexistent", "by-l"):
        with pytest.raises(ClientError) as excinfo:
            ddb.update_table(
                TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}]
            )
        assert _error(excinfo)[0] == "ResourceNotFoundException"
    described = ddb.describe_table(TableName=table)["Table"]
    assert [i["IndexName"] for i in described["LocalSecondaryIndexes"]] == ["by-l"]


def test_a_new_index_needs_its_attributes_defined_in_the_same_request(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[{"Create": _gsi("by-x2", ("x", "HASH"))}]
        )
    assert _error(excinfo) == (
        "ValidationException",
        "One or more parameter values were invalid: Some index key attributes are not defined "
        "in AttributeDefinitions. Keys: [x], AttributeDefinitions: []",
    )
    with pytest.raises(ClientError, match="Index already exists: by-l"):
        ddb.update_table(
            TableName=table,
            AttributeDefinitions=_defs("y"),
            GlobalSecondaryIndexUpdates=[{"Create": _gsi("by-l", ("y", "HASH"))}],
        )


def test_a_key_attribute_cannot_change_type(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError, match="x is already defined with type S"):
        ddb.update_table(
            TableName=table,
            AttributeDefinitions=_defs("x", kind="N"),
            GlobalSecondaryIndexUpdates=[{"Create": _gsi("by-x2", ("x", "HASH"))}],
        )


def test_an_update_entry_names_exactly_one_action(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError, match="Exactly one of Create, Update or Delete"):
        ddb.update_table(
            TableName=table,
            AttributeDefinitions=_defs("y"),
            GlobalSecondaryIndexUpdates=[
                {"Create": _gsi("by-y", ("y", "HASH")), "Delete": {"IndexName": "by-x"}}
            ],
        )


def test_index_keys_have_the_table_key_size_limits(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "ok"}, "sk": {"S": "1"}, "x": {"S": "a" * 2048}, "l": {"S": "b" * 1024}},
    )
    with pytest.raises(ClientError, match="maximum size limit of2048 bytes"):
        ddb.put_item(
            TableName=table, Item={"pk": {"S": "big"}, "sk": {"S": "1"}, "x": {"S": "a" * 2049}}
        )
    with pytest.raises(ClientError, match="size limit of 1024 bytes"):
        ddb.put_item(
            TableName=table, Item={"pk": {"S": "big"}, "sk": {"S": "1"}, "l": {"S": "b" * 1025}}
        )
    key = {"pk": {"S": "big"}, "sk": {"S": "1"}}
    assert "Item" not in ddb.get_item(TableName=table, Key=key)


def test_a_backfill_leaves_out_items_whose_key_is_too_large(ddb: Any, table: str) -> None:
    for pk, size in (("small", 10), ("large", 2049)):
        ddb.put_item(
            TableName=table, Item={"pk": {"S": pk}, "sk": {"S": "1"}, "y": {"S": "y" * size}}
        )
    ddb.update_table(
        TableName=table,
        AttributeDefinitions=_defs("y"),
        GlobalSecondaryIndexUpdates=[{"Create": _gsi("by-y", ("y", "HASH"))}],
    )
    scanned = ddb.scan(TableName=table, IndexName="by-y")["Items"]
    assert [item["pk"]["S"] for item in scanned] == ["small"]


def test_projection_rules_at_create(ddb: Any) -> None:
    base = {
        "TableName": "pr-" + uuid.uuid4().hex[:10],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": _defs("pk", "x"),
        "BillingMode": "PAY_PER_REQUEST",
    }
    include = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "a"]}
    gsi = {**_gsi("by-x", ("x", "HASH")), "Projection": include}
    with pytest.raises(ClientError, match=r"Duplicate attribute names in NonKeyAttributes: \[a\]"):
        ddb.create_table(**base, GlobalSecondaryIndexes=[gsi])


def test_a_new_index_key_name_over_255_bytes_is_refused(ddb: Any, table: str) -> None:
    long = "n" * 256
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(
            TableName=table,
            AttributeDefinitions=_defs(long),
            GlobalSecondaryIndexUpdates=[{"Create": _gsi("by-long", (long, "HASH"))}],
        )
    code, message = _error(excinfo)
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected: ")
    assert "'globalSecondaryIndexUpdates.1.member.create.keySchema.1.member.attributeName'" in (
        message
    )
