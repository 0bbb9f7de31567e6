"""Query and Scan through the edge: key conditions, order, paging, filters, indexes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def table(ddb: Any) -> str:
    """pk S / sk N, GSI on (g, sk) KEYS_ONLY, LSI on (pk, l); 'p' holds sk -5..14."""
    name = "q-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
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
        BillingMode="PAY_PER_REQUEST",
    )
    requests = []
    for sk in range(-5, 15):
        item = {
            "pk": {"S": "p"},
            "sk": {"N": str(sk) if sk % 3 else f"{sk}.5"},
            "v": {"N": str(sk)},
            "l": {"S": f"l{sk + 10:03d}"},
        }
        if sk % 2 == 0:
            item["g"] = {"S": "even"}
        requests.append({"PutRequest": {"Item": item}})
    requests.append({"PutRequest": {"Item": {"pk": {"S": "other"}, "sk": {"N": "0"}}}})
    for start in range(0, len(requests), 25):
        ddb.batch_write_item(RequestItems={name: requests[start : start + 25]})
    return name


def _sks(items: list[dict[str, Any]]) -> list[float]:
    return [float(item["sk"]["N"]) for item in items]


def _query(ddb: Any, table: str, condition: str, **kwargs: Any) -> dict[str, Any]:
    values = {":p": {"S": "p"}, **kwargs.pop("values", {})}
    return ddb.query(  # type: ignore[no-any-return]
        TableName=table,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        **kwargs,
    )


def test_query_returns_partition_in_numeric_range_key_order(ddb: Any, table: str) -> None:
    items = _query(ddb, table, "pk = :p")["Items"]
    assert len(items) == 20
    assert _sks(items) == sorted(_sks(items))
    assert _sks(items)[0] == -5


def test_query_newest_first_with_limit_one(ddb: Any, table: str) -> None:
    result = _query(ddb, table, "pk = :p", ScanIndexForward=False, Limit=1)
    assert _sks(result["Items"]) == [14]
    assert result["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "14"}}


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("pk = :p AND sk = :a", {":a": {"N": "4"}}, [4]),
        ("pk = :p AND sk < :a", {":a": {"N": "-3"}}, [-5, -4, -3.5]),
        ("pk = :p AND sk <= :a", {":a": {"N": "-3.5"}}, [-5, -4, -3.5]),
        ("pk = :p AND sk < :a", {":a": {"N": "-3.5"}}, [-5, -4]),
        ("pk = :p AND sk > :a", {":a": {"N": "12.5"}}, [13, 14]),
        ("pk = :p AND sk >= :a", {":a": {"N": "13"}}, [13, 14]),
        ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "1"}, ":b": {"N": "2"}}, [1, 2]),
    ],
)
def test_key_condition_operators(
    ddb: Any, table: str, condition: str, values: dict[str, Any], expected: list[float]
) -> None:
    assert _sks(_query(ddb, table, condition, values=values)["Items"]) == expected


def test_begins_with_on_an_lsi_string_range_key(ddb: Any, table: str) -> None:
    result = _query(
        ddb,
        table,
        "pk = :p AND begins_with(l, :pre)",
        values={":pre": {"S": "l02"}},
        IndexName="by-l",
    )
    assert [item["l"]["S"] for item in result["Items"]] == [f"l{n:03d}" for n in range(20, 25)]


def test_pagination_with_exclusive_start_key_visits_every_item_once(ddb: Any, table: str) -> None:
    seen: list[float] = []
    kwargs: dict[str, Any] = {"Limit": 7}
    while True:
        page = _query(ddb, table, "pk = :p", **kwargs)
        seen.extend(_sks(page["Items"]))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == seen
    assert len(seen) == 20


def test_filter_is_applied_after_limit(ddb: Any, table: str) -> None:
    result = _query(
        ddb,
        table,
        "pk = :p",
        FilterExpression="v > :z",
        values={":z": {"N": "-3"}},
        Limit=4,
    )
    assert result["ScannedCount"] == 4
    assert result["Count"] == 1
    assert "LastEvaluatedKey" in result


def test_select_count_returns_no_items(ddb: Any, table: str) -> None:
    result = _query(ddb, table, "pk = :p", Select="COUNT")
    assert result["Count"] == 20
    assert "Items" not in result


def test_gsi_query_returns_projected_keys_only(ddb: Any, table: str) -> None:
    result = ddb.query(
        TableName=table,
        IndexName="by-g",
        KeyConditionExpression="g = :g AND sk > :z",
        ExpressionAttributeValues={":g": {"S": "even"}, ":z": {"N": "8"}},
    )
    assert _sks(result["Items"]) == [10, 12.5, 14]
    assert set(result["Items"][0]) == {"pk", "sk", "g"}


def test_gsi_pagination_carries_index_and_table_keys(ddb: Any, table: str) -> None:
    page = ddb.query(
        TableName=table,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "even"}},
        Limit=2,
    )
    assert set(page["LastEvaluatedKey"]) == {"g", "pk", "sk"}
    rest = ddb.query(
        TableName=table,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "even"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert len(page["Items"]) + rest["Count"] == 10


def test_query_errors(ddb: Any, table: str) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"KeyConditionExpression": "sk = :a", "ExpressionAttributeValues": {":a": {"N": "1"}}},
            "Query condition missed key schema element: pk",
        ),
        (
            {"KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": {"N": "1"}}},
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "IndexName": "nope",
            },
            "The table does not have the specified index: nope",
        ),
        (
            {
                "KeyConditionExpression": "g = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "IndexName": "by-g",
                "ConsistentRead": True,
            },
            "Consistent reads are not supported on global secondary indexes",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(ClientError) as excinfo:
            ddb.query(TableName=table, **kwargs)
        assert excinfo.value.response["Error"] == {
            "Code": "ValidationException",
            "Message": message,
        }


def test_scan_segments_partition_the_table(ddb: Any, table: str) -> None:
    everything = ddb.scan(TableName=table)
    assert everything["Count"] == 21
    keys: list[tuple[str, str]] = []
    for segment in range(3):
        result = ddb.scan(TableName=table, Segment=segment, TotalSegments=3)
        keys.extend((i["pk"]["S"], i["sk"]["N"]) for i in result["Items"])
    assert len(keys) == len(set(keys)) == 21


def test_scan_paginates_and_filters(ddb: Any, table: str) -> None:
    total = 0
    kwargs: dict[str, Any] = {
        "Limit": 5,
        "FilterExpression": "attribute_exists(g)",
    }
    pages = 0
    while True:
        page = ddb.scan(TableName=table, **kwargs)
        total += page["Count"]
        pages += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert total == 10
    assert pages >= 5


def test_scan_segment_must_be_below_total(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.scan(TableName=table, Segment=3, TotalSegments=3)
    assert excinfo.value.response["Error"]["Message"] == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 3 is not less than TotalSegments: 3"
    )


def test_one_megabyte_page_limit(ddb: Any) -> None:
    name = "big-" + uuid.uuid4().hex[:8]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    blob = "x" * 300_000
    for n in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}, "blob": {"S": blob}})
    first = ddb.scan(TableName=name)
    assert first["Count"] == 4  # 4 items of ~300 KB reach 1 MB
    assert "LastEvaluatedKey" in first
    second = ddb.scan(TableName=name, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert second["Count"] == 1


def test_scan_of_a_gsi_returns_only_indexed_items(ddb: Any, table: str) -> None:
    result = ddb.scan(TableName=table, IndexName="by-g")
    assert result["Count"] == 10
    assert all(set(item) == {"pk", "sk", "g"} for item in result["Items"])


def test_consumed_capacity_by_index(ddb: Any, table: str) -> None:
    result = ddb.query(
        TableName=table,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "even"}},
        ReturnConsumedCapacity="INDEXES",
    )
    capacity = result["ConsumedCapacity"]
    assert capacity["TableName"] == table
    assert capacity["GlobalSecondaryIndexes"] == {"by-g": {"CapacityUnits": 0.5}}
    assert capacity["CapacityUnits"] == 0.5


def test_index_item_counts_follow_writes(ddb: Any) -> None:
    name = "ic-" + uuid.uuid4().hex[:8]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )

    def index_count() -> int:
        table = ddb.describe_table(TableName=name)["Table"]
        return int(table["GlobalSecondaryIndexes"][0]["ItemCount"])

    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    assert index_count() == 1
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})  # sparse: not in the index
    ddb.put_item(TableName=name, Item={"pk": {"S": "c"}, "g": {"S": "y"}})
    ddb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="REMOVE g")
    assert index_count() == 1
    ddb.delete_item(TableName=name, Key={"pk": {"S": "c"}})
    assert index_count() == 0


def test_keys_only_gsi_hides_unprojected_attributes_from_filters_and_projections(
    ddb: Any, table: str
) -> None:
    result = ddb.query(
        TableName=table,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        FilterExpression="attribute_exists(v)",
        ProjectionExpression="pk",
        ExpressionAttributeValues={":g": {"S": "even"}},
    )
    assert result["ScannedCount"] == 10
    assert result["Count"] == 0
    # Asking a GSI for an attribute it does not project is an error on AWS, not silence.
    with pytest.raises(ClientError, match="does not project attribute v"):
        ddb.query(
            TableName=table,
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ProjectionExpression="pk, v",
            ExpressionAttributeValues={":g": {"S": "even"}},
        )


def test_gsi_scan_pages_with_exclusive_start_key(ddb: Any, table: str) -> None:
    seen: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {"TableName": table, "IndexName": "by-g", "Limit": 3}
    while True:
        page = ddb.scan(**kwargs)
        seen.extend((i["pk"]["S"], i["sk"]["N"]) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        assert set(page["LastEvaluatedKey"]) == {"g", "pk", "sk"}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert len(seen) == len(set(seen)) == 10


def test_a_start_key_outside_the_query_is_refused(ddb: Any, table: str) -> None:
    outside = "The provided starting key is outside query boundaries based on provided conditions"
    with pytest.raises(ClientError, match=outside):
        _query(ddb, table, "pk = :p", ExclusiveStartKey={"pk": {"S": "other"}, "sk": {"N": "0"}})
    with pytest.raises(ClientError, match=outside):
        _query(
            ddb,
            table,
            "pk = :p AND sk > :s",
            values={":s": {"N": "5"}},
            ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "1"}},
        )
    # A key the query could have returned resumes it.
    page = _query(ddb, table, "pk = :p", ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "13"}})
    assert _sks(page["Items"]) == [14]


def test_a_table_without_sort_key_cannot_resume_a_query(ddb: Any) -> None:
    name = "nosk-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ClientError) as excinfo:
        _query(ddb, name, "pk = :p", ExclusiveStartKey={"pk": {"S": "p"}})
    assert excinfo.value.response["Error"]["Message"] == (
        "The provided exclusive start key is invalid: ExclusiveStartKey: {pk=AttributeValue: {S:p}}"
    )


def test_a_parallel_scan_start_key_must_fall_in_its_segment(ddb: Any, table: str) -> None:
    # Find which of 1,000,000 segments holds one key, then start another from it.
    key = {"pk": {"S": "other"}, "sk": {"N": "0"}}
    with pytest.raises(ClientError, match="Please use ExclusiveStartKey with correct Segment"):
        for segment in (0, 999_999):
            ddb.scan(
                TableName=table, Segment=segment, TotalSegments=1_000_000, ExclusiveStartKey=key
            )


def test_key_conditions_may_name_the_value_first(ddb: Any, table: str) -> None:
    reversed_ = _query(ddb, table, ":p = pk AND :s < sk", values={":s": {"N": "10"}})
    assert _sks(reversed_["Items"]) == [11, 12.5, 13, 14]  # multiples of 3 hold x.5
    between = _query(ddb, table, ":p = pk AND :s >= sk", values={":s": {"N": "-4"}})
    assert _sks(between["Items"]) == [-5, -4]


def test_a_condition_on_an_attribute_an_index_does_not_key_is_not_supported(ddb: Any) -> None:
    name = "faux-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "x", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-x",
                "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    with pytest.raises(ClientError) as excinfo:
        ddb.query(
            TableName=name,
            IndexName="by-x",
            KeyConditionExpression="x = :x AND pk = :p",
            ExpressionAttributeValues={":x": {"S": "x"}, ":p": {"S": "p"}},
        )
    assert excinfo.value.response["Error"]["Message"] == "Query key condition not supported"


def test_a_key_condition_on_a_nested_attribute_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        _query(ddb, table, "pk = :p AND a.b < :a", values={":a": {"N": "1"}})
    assert excinfo.value.response["Error"]["Message"] == (
        "KeyConditionExpressions cannot have conditions on nested attributes"
    )
