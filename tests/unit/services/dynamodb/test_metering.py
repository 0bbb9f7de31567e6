"""DynamoDB's on-demand request units, metered as AWS computes them.

The figures are AWS's own examples (DynamoDB Developer Guide, "Read and write
consumption" / on-demand pricing page): an 8 KB item read strongly costs 2 RRU,
eventually 1, transactionally 4; a 3 KB write costs 3 WRU, transactionally 6; a Query
returning 40.8 KB costs 44 KB of reads; BatchGetItem of 1.5 KB + 6.5 KB rounds each
item (12 KB); BatchWriteItem of 500 B + 3.5 KB is 5 WRU; a read of a missing item
costs 1 (strong) or 0.5; a failed conditional write costs the existing item's size.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic.project.metering import Meter
from lambic.services.base import Headers, ServiceRequest
from lambic.services.dynamodb import create_service

KB = 1024


def padded(key: str, size: int, **extra: Any) -> dict[str, Any]:
    """An item of exactly `size` bytes by DynamoDB's measure (names + values)."""
    item: dict[str, Any] = {"pk": {"S": key}, **extra}
    used = sum(len(n) + len(v.get("S", "")) for n, v in item.items()) + len("v")
    item["v"] = {"S": "x" * (size - used)}
    return item


class Table:
    def __init__(self, tmp: Path, *, index: bool = False) -> None:
        self.path = tmp / "logs.sqlite3"
        self.meter = Meter(self.path, flush_interval=3600)
        self.service = create_service(None, ttl_sweep_seconds=None, meter=self.meter)
        self.loop = asyncio.new_event_loop()
        create: dict[str, Any] = {
            "TableName": "things",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if index:
            create["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
            create["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": "by_g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ]
        self.call("CreateTable", create)

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        target = f"DynamoDB_20120810.{operation}"
        request = ServiceRequest(
            "POST", "/", "", Headers([("X-Amz-Target", target)]), json.dumps(body).encode()
        )
        response = self.loop.run_until_complete(self.service.handle(request))
        answer: dict[str, Any] = json.loads(response.body)
        return answer

    def totals(self) -> dict[str, float]:
        self.meter.flush()
        if not self.path.exists():
            return {}
        with sqlite3.connect(self.path) as conn:
            return dict(
                conn.execute("SELECT metric, SUM(quantity) FROM metered GROUP BY metric").fetchall()
            )

    def units(self, action: Callable[[], object]) -> tuple[float, float]:
        """(read units, write units) that `action` was metered."""
        before = self.totals()
        action()
        after = self.totals()
        return tuple(  # type: ignore[return-value]
            after.get(m, 0.0) - before.get(m, 0.0) for m in ("read_units", "write_units")
        )

    def put(self, item: dict[str, Any]) -> None:
        self.call("PutItem", {"TableName": "things", "Item": item})

    def close(self) -> None:
        self.meter.close()
        self.service.close()
        self.loop.close()


@pytest.fixture
def table(tmp_path: Path) -> Iterator[Table]:
    t = Table(tmp_path)
    yield t
    t.close()


def test_reads_of_an_8_kb_item_cost_2_strong_1_eventual_4_transactional(table: Table) -> None:
    table.put(padded("big", 8 * KB))
    key = {"pk": {"S": "big"}}
    strong = {"TableName": "things", "Key": key, "ConsistentRead": True}
    assert table.units(lambda: table.call("GetItem", strong)) == (2.0, 0.0)
    assert table.units(lambda: table.call("GetItem", {"TableName": "things", "Key": key})) == (
        1.0,
        0.0,
    )
    transact = {"TransactItems": [{"Get": {"TableName": "things", "Key": key}}]}
    assert table.units(lambda: table.call("TransactGetItems", transact)) == (4.0, 0.0)


def test_writes_of_1_and_3_kb_cost_1_and_3_and_6_in_a_transaction(table: Table) -> None:
    assert table.units(lambda: table.put(padded("a", 1 * KB))) == (0.0, 1.0)
    assert table.units(lambda: table.put(padded("b", 3 * KB))) == (0.0, 3.0)
    transact = {"TransactItems": [{"Put": {"TableName": "things", "Item": padded("c", 3 * KB)}}]}
    assert table.units(lambda: table.call("TransactWriteItems", transact)) == (0.0, 6.0)


def test_an_overwrite_costs_the_larger_of_the_old_and_new_item(table: Table) -> None:
    table.put(padded("a", 3 * KB))
    assert table.units(lambda: table.put(padded("a", 1 * KB))) == (0.0, 3.0)
    # Deleting costs the deleted item's size; deleting a missing item costs one unit.
    delete = {"TableName": "things", "Key": {"pk": {"S": "a"}}}
    assert table.units(lambda: table.call("DeleteItem", delete)) == (0.0, 1.0)
    assert table.units(lambda: table.call("DeleteItem", delete)) == (0.0, 1.0)


def test_a_query_is_sized_by_the_total_it_reads_not_per_item(tmp_path: Path) -> None:
    t = Table(tmp_path)
    try:
        t.call(
            "CreateTable",
            {
                "TableName": "rows",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        for n in range(10):  # 10 items of 4,178 bytes: 40.8 KB, rounded to 44 KB
            item = padded("p", 4178, sk={"S": f"{n}"})
            t.call("PutItem", {"TableName": "rows", "Item": item})
        query = {
            "TableName": "rows",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}},
        }
        assert t.units(lambda: t.call("Query", {**query, "ConsistentRead": True})) == (11.0, 0.0)
        assert t.units(lambda: t.call("Query", query)) == (5.5, 0.0)
    finally:
        t.close()


def test_batch_get_rounds_each_item_and_batch_write_each_write(table: Table) -> None:
    table.put(padded("small", 1536))
    table.put(padded("large", 6656))
    keys = [{"pk": {"S": "small"}}, {"pk": {"S": "large"}}]
    batch = {"RequestItems": {"things": {"Keys": keys, "ConsistentRead": True}}}
    assert table.units(lambda: table.call("BatchGetItem", batch)) == (3.0, 0.0)  # 4 + 8 KB
    writes = [{"PutRequest": {"Item": padded("w1", 500)}}]
    writes.append({"PutRequest": {"Item": padded("w2", 3584)}})
    request = {"RequestItems": {"things": writes}}
    assert table.units(lambda: table.call("BatchWriteItem", request)) == (0.0, 5.0)  # 1 + 4


def test_a_read_of_a_missing_item_still_costs_a_unit(table: Table) -> None:
    key = {"pk": {"S": "nothing"}}
    strong = {"TableName": "things", "Key": key, "ConsistentRead": True}
    assert table.units(lambda: table.call("GetItem", strong)) == (1.0, 0.0)
    assert table.units(lambda: table.call("GetItem", {"TableName": "things", "Key": key})) == (
        0.5,
        0.0,
    )


def test_a_failed_conditional_write_costs_the_existing_items_size(table: Table) -> None:
    table.put(padded("a", 2 * KB))
    put = {
        "TableName": "things",
        "Item": padded("a", 1 * KB),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    answer: dict[str, Any] = {}
    assert table.units(lambda: answer.update(table.call("PutItem", put))) == (0.0, 2.0)
    assert answer["__type"].endswith("ConditionalCheckFailedException")


def test_index_writes_are_counted_with_the_table(tmp_path: Path) -> None:
    t = Table(tmp_path, index=True)
    try:
        item = padded("a", 1 * KB, g={"S": "x"})
        assert t.units(lambda: t.put(item)) == (0.0, 2.0)  # the table and the GSI
    finally:
        t.close()


def test_the_client_gets_only_the_consumed_capacity_it_asked_for(table: Table) -> None:
    table.put(padded("a", 1 * KB))
    key = {"pk": {"S": "a"}}
    plain = table.call("GetItem", {"TableName": "things", "Key": key})
    assert "ConsumedCapacity" not in plain
    total = table.call(
        "GetItem", {"TableName": "things", "Key": key, "ReturnConsumedCapacity": "TOTAL"}
    )
    assert total["ConsumedCapacity"] == {"TableName": "things", "CapacityUnits": 0.5}
    bad = table.call(
        "GetItem", {"TableName": "things", "Key": key, "ReturnConsumedCapacity": "SOME"}
    )
    assert bad["__type"].endswith("ValidationException")


def test_partiql_reads_and_writes_are_metered_like_the_json_api(table: Table) -> None:
    insert = {"Statement": "INSERT INTO things VALUE {'pk': 'p', 'v': ?}", "Parameters": []}
    insert["Parameters"] = [{"S": "x" * (3 * KB - len("pk") - 1 - len("v"))}]
    assert table.units(lambda: table.call("ExecuteStatement", insert)) == (0.0, 3.0)
    select = {"Statement": "SELECT * FROM things WHERE pk = 'p'", "ConsistentRead": True}
    assert table.units(lambda: table.call("ExecuteStatement", select)) == (1.0, 0.0)
    transact = {"TransactStatements": [{"Statement": "DELETE FROM things WHERE pk = 'p'"}]}
    assert table.units(lambda: table.call("ExecuteTransaction", transact)) == (0.0, 6.0)
