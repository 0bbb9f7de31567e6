"""GSIs with multi-attribute keys through the edge, as boto3 users see them.

A GSI's partition and sort keys may each be up to four attributes (DynamoDB, Nov 2025):
queries give every partition attribute an equality and constrain sort attributes left
to right; items missing any key attribute are not in the index.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.dynamodb import create_service
from lambic.services.server import EdgeServer
from tests._support.clients import aws_client
from tests._support.services_process import ServicesProcess

INDEX = "by-tournament"


def _create(ddb: Any, name: str | None = None) -> str:
    """Table `p`; GSI (tournament S, area S) / (stage S, score N)."""
    name = name or "m-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "p", "AttributeType": "S"},
            {"AttributeName": "tournament", "AttributeType": "S"},
            {"AttributeName": "area", "AttributeType": "S"},
            {"AttributeName": "stage", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "tournament", "KeyType": "HASH"},
                    {"AttributeName": "area", "KeyType": "HASH"},
                    {"AttributeName": "stage", "KeyType": "RANGE"},
                    {"AttributeName": "score", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return name


def _put(ddb: Any, table: str, p: str, **attributes: str | int) -> None:
    item: dict[str, Any] = {"p": {"S": p}}
    for key, value in attributes.items():
        item[key] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    ddb.put_item(TableName=table, Item=item)


# Rounds chosen so that one string of the two concatenated would sort differently
# from the pair: ("a", 9) < ("ab", 1) although "a9" > "ab1".
ROWS = [("m1", "a", 9), ("m2", "ab", 1), ("m3", "a", 10), ("m4", "b", -5), ("m5", "a", -1)]


@pytest.fixture(scope="module")
def table(ddb: Any) -> str:
    name = _create(ddb)
    for p, stage, score in ROWS:
        _put(ddb, name, p, tournament="w24", area="eu", stage=stage, score=score)
    _put(ddb, name, "other-area", tournament="w24", area="na", stage="a", score=1)
    _put(ddb, name, "no-area", tournament="w24", stage="a", score=1)  # sparse: not indexed
    return name


def _query(ddb: Any, table: str, condition: str, values: dict[str, Any], **extra: Any) -> Any:
    typed = {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in values.items()}
    return ddb.query(
        TableName=table,
        IndexName=INDEX,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=typed,
        **extra,
    )


def _ids(response: Any) -> list[str]:
    return [item["p"]["S"] for item in response["Items"]]


PARTITION = "tournament = :t AND area = :r"
EU = {":t": "w24", ":r": "eu"}


def test_describe_table_shows_every_key_attribute_in_order(ddb: Any, table: str) -> None:
    described = ddb.describe_table(TableName=table)["Table"]
    gsi = described["GlobalSecondaryIndexes"][0]
    assert gsi["KeySchema"] == [
        {"AttributeName": "tournament", "KeyType": "HASH"},
        {"AttributeName": "area", "KeyType": "HASH"},
        {"AttributeName": "stage", "KeyType": "RANGE"},
        {"AttributeName": "score", "KeyType": "RANGE"},
    ]
    assert gsi["ItemCount"] == 6  # the item without a area is not in the index


def test_a_partition_sorts_by_each_sort_attribute_in_turn(ddb: Any, table: str) -> None:
    forward = _ids(_query(ddb, table, PARTITION, EU))
    assert forward == ["m5", "m1", "m3", "m2", "m4"]
    backward = _ids(_query(ddb, table, PARTITION, EU, ScanIndexForward=False))
    assert backward == forward[::-1]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("stage = :a", {":a": "a"}, ["m5", "m1", "m3"]),
        ("stage = :a AND score = :s", {":a": "a", ":s": 9}, ["m1"]),
        ("stage = :a AND score > :s", {":a": "a", ":s": 9}, ["m3"]),
        ("stage = :a AND score >= :s", {":a": "a", ":s": 9}, ["m1", "m3"]),
        ("stage = :a AND score < :s", {":a": "a", ":s": 9}, ["m5"]),
        ("stage = :a AND score <= :s", {":a": "a", ":s": 9}, ["m5", "m1"]),
        ("stage = :a AND score BETWEEN :s AND :e", {":a": "a", ":s": 0, ":e": 10}, ["m1", "m3"]),
        ("stage > :a", {":a": "a"}, ["m2", "m4"]),
        ("stage < :a", {":a": "ab"}, ["m5", "m1", "m3"]),
        ("begins_with(stage, :a)", {":a": "a"}, ["m5", "m1", "m3", "m2"]),
        ("stage BETWEEN :a AND :b", {":a": "ab", ":b": "b"}, ["m2", "m4"]),
        # Clauses may come in any order; what counts is the KeySchema's order.
        ("score = :s AND stage = :a", {":a": "a", ":s": 10}, ["m3"]),
    ],
)
def test_sort_conditions_go_left_to_right(
    ddb: Any, table: str, condition: str, values: dict[str, Any], expected: list[str]
) -> None:
    response = _query(ddb, table, f"{PARTITION} AND {condition}", {**EU, **values})
    assert _ids(response) == expected


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Any, str]]:
    """`table`'s rows in a real `lambic services` process: (client, table name)."""
    process = ServicesProcess()
    client = aws_client("dynamodb", process.url)
    try:
        name = _create(client)
        for p, stage, score in ROWS:
            _put(client, name, p, tournament="w24", area="eu", stage=stage, score=score)
        yield client, name
    finally:
        client.close()
        process.stop()


@pytest.mark.parametrize(
    ("value_first", "attribute_first", "values", "expected"),
    [
        (":t = tournament AND :r = area", PARTITION, {}, ["m5", "m1", "m3", "m2", "m4"]),
        (":a < stage", "stage > :a", {":a": "a"}, ["m2", "m4"]),
        (":a >= stage", "stage <= :a", {":a": "ab"}, ["m5", "m1", "m3", "m2"]),
        (
            ":a = stage AND :s < score",
            "stage = :a AND score > :s",
            {":a": "a", ":s": 0},
            ["m1", "m3"],
        ),
        (
            ":a = stage AND :s >= score",
            "stage = :a AND score <= :s",
            {":a": "a", ":s": 9},
            ["m5", "m1"],
        ),
    ],
)
def test_a_multi_attribute_key_takes_comparisons_written_value_first(
    served: tuple[Any, str],
    value_first: str,
    attribute_first: str,
    values: dict[str, Any],
    expected: list[str],
) -> None:
    # As a single-attribute key does: `:v < k` is `k > :v`, on any key attribute.
    ddb, table = served
    partition = "" if "tournament" in value_first else f"{PARTITION} AND "
    written = _query(ddb, table, partition + value_first, {**EU, **values})
    assert _ids(written) == expected
    assert _ids(_query(ddb, table, partition + attribute_first, {**EU, **values})) == expected


@pytest.mark.parametrize(
    ("condition", "values", "words"),
    [
        ("tournament = :t", {":t": "w24"}, "HASH key attribute"),
        ("tournament = :t AND area > :r", EU, "HASH key attribute"),
        (f"{PARTITION} AND score = :s", {**EU, ":s": 1}, "RANGE key attributes"),
        (f"{PARTITION} AND stage > :a AND score = :s", {**EU, ":a": "a", ":s": 1}, "RANGE"),
        (f"{PARTITION} AND stage > :a AND score > :s", {**EU, ":a": "a", ":s": 1}, "RANGE"),
    ],
)
def test_conditions_breaking_the_rules_are_refused(
    ddb: Any, table: str, condition: str, values: dict[str, Any], words: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        _query(ddb, table, condition, values)
    error = excinfo.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert words in error["Message"] and "equality" in error["Message"]


def test_a_filter_may_not_name_a_key_attribute_of_the_index(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        _query(ddb, table, PARTITION, {**EU, ":x": "a"}, FilterExpression="stage = :x")
    assert excinfo.value.response["Error"]["Message"] == (
        "Filter Expression can only contain non-primary key attributes: Primary key "
        "attribute: stage"
    )
    # The table's own key is not a key of this index: filtering on it is fine.
    response = _query(ddb, table, PARTITION, {**EU, ":x": "m2"}, FilterExpression="p = :x")
    assert _ids(response) == ["m2"]


def test_pages_carry_every_key_attribute_and_resume_where_they_stopped(
    ddb: Any, table: str
) -> None:
    seen: list[str] = []
    start: dict[str, Any] | None = None
    while True:
        extra = {"Limit": 2} | ({"ExclusiveStartKey": start} if start else {})
        page = _query(ddb, table, PARTITION, EU, **extra)
        seen += _ids(page)
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
        assert set(start) == {"tournament", "area", "stage", "score", "p"}
    assert seen == ["m5", "m1", "m3", "m2", "m4"]
    bad = {"p": {"S": "m1"}, "tournament": {"S": "w24"}, "stage": {"S": "a"}, "score": {"N": "9"}}
    with pytest.raises(ClientError, match="The provided starting key is invalid"):
        _query(ddb, table, PARTITION, EU, ExclusiveStartKey=bad)


def test_scanning_the_index_pages_through_every_indexed_item(ddb: Any, table: str) -> None:
    seen: list[str] = []
    start: dict[str, Any] | None = None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = ddb.scan(TableName=table, IndexName=INDEX, Limit=2, **extra)
        seen += _ids(page)
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert sorted(seen) == sorted([p for p, *_ in ROWS] + ["other-area"])


def test_items_leave_and_join_the_index_as_their_key_attributes_change(ddb: Any) -> None:
    name = _create(ddb)
    _put(ddb, name, "x", tournament="t", area="r", stage="a", score=1)
    partition = {":t": "t", ":r": "r"}
    assert _ids(_query(ddb, name, PARTITION, partition)) == ["x"]
    ddb.update_item(TableName=name, Key={"p": {"S": "x"}}, UpdateExpression="REMOVE score")
    assert _ids(_query(ddb, name, PARTITION, partition)) == []
    ddb.update_item(
        TableName=name,
        Key={"p": {"S": "x"}},
        UpdateExpression="SET score = :s, area = :r",
        ExpressionAttributeValues={":s": {"N": "2"}, ":r": {"S": "moved"}},
    )
    assert _ids(_query(ddb, name, PARTITION, partition)) == []
    assert _ids(_query(ddb, name, PARTITION, {":t": "t", ":r": "moved"})) == ["x"]
    with pytest.raises(ClientError, match="Type mismatch for Index Key score"):
        ddb.put_item(
            TableName=name,
            Item={"p": {"S": "y"}, "tournament": {"S": "t"}, "score": {"S": "not a number"}},
        )


def test_update_table_adds_a_multi_attribute_index_over_existing_items(ddb: Any) -> None:
    name = "m-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _put(ddb, name, "old", a="1", b="2")
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "a", "AttributeType": "S"},
            {"AttributeName": "b", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-ab",
                    "KeySchema": [
                        {"AttributeName": "a", "KeyType": "HASH"},
                        {"AttributeName": "b", "KeyType": "HASH"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    response = ddb.query(
        TableName=name,
        IndexName="by-ab",
        KeyConditionExpression="a = :a AND b = :b",
        ExpressionAttributeValues={":a": {"S": "1"}, ":b": {"S": "2"}},
    )
    assert response["Items"] == [{"p": {"S": "old"}, "a": {"S": "1"}, "b": {"S": "2"}}]
    ddb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-ab"}}]
    )
    # With the index gone its attributes are free to take any type again.
    ddb.put_item(TableName=name, Item={"p": {"S": "n"}, "a": {"N": "7"}, "b": {"N": "8"}})


def test_a_multi_attribute_index_survives_a_restart(tmp_path: Path) -> None:
    service = create_service(tmp_path)
    edge = EdgeServer({"dynamodb": service}).start()
    try:
        name = _create(aws_client("dynamodb", edge.url), "kept")
        _put(
            aws_client("dynamodb", edge.url),
            name,
            "x",
            tournament="t",
            area="r",
            stage="a",
            score=1,
        )
    finally:
        edge.stop()
        service.close()
    service = create_service(tmp_path)
    edge = EdgeServer({"dynamodb": service}).start()
    try:
        response = _query(aws_client("dynamodb", edge.url), name, PARTITION, {":t": "t", ":r": "r"})
        assert _ids(response) == ["x"]
    finally:
        edge.stop()
        service.close()
