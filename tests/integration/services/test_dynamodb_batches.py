"""BatchGetItem, BatchWriteItem and transactions through the edge."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture
def table(ddb: Any) -> str:
    name = "b-" + uuid.uuid4().hex[:10]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _put(key: str, **attrs: Any) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"pk": {"S": key}, **attrs}}}


def _item(key: str, **attrs: Any) -> dict[str, Any]:
    return {"pk": {"S": key}, **attrs}


def _count(ddb: Any, table: str) -> int:
    return int(ddb.scan(TableName=table, Select="COUNT")["Count"])


def test_batch_write_puts_and_deletes_with_empty_unprocessed_items(ddb: Any, table: str) -> None:
    result = ddb.batch_write_item(RequestItems={table: [_put(f"k{n}") for n in range(25)]})
    assert result["UnprocessedItems"] == {}
    assert _count(ddb, table) == 25
    ddb.batch_write_item(
        RequestItems={table: [{"DeleteRequest": {"Key": {"pk": {"S": "k0"}}}}, _put("new")]}
    )
    assert _count(ddb, table) == 25


def test_batch_write_over_25_is_rejected_and_writes_nothing(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_write_item(RequestItems={table: [_put(f"k{n}") for n in range(26)]})
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert _count(ddb, table) == 0


def test_batch_write_with_one_bad_item_writes_nothing(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_write_item(
            RequestItems={table: [_put("good"), {"PutRequest": {"Item": {"pk": {"N": "1"}}}}]}
        )
    assert "Type mismatch for key pk" in excinfo.value.response["Error"]["Message"]
    assert _count(ddb, table) == 0


def test_batch_write_duplicate_keys_are_rejected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_write_item(RequestItems={table: [_put("a"), _put("a")]})
    assert excinfo.value.response["Error"]["Message"] == (
        "Provided list of item keys contains duplicates"
    )


def test_batch_get_returns_found_items_and_unprocessed_keys_shape(ddb: Any, table: str) -> None:
    ddb.batch_write_item(RequestItems={table: [_put("a", v={"N": "1"}), _put("b")]})
    result = ddb.batch_get_item(
        RequestItems={
            table: {
                "Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}, {"pk": {"S": "zz"}}],
                "ProjectionExpression": "pk, v",
            }
        }
    )
    assert result["UnprocessedKeys"] == {}
    assert sorted(i["pk"]["S"] for i in result["Responses"][table]) == ["a", "b"]


def test_batch_get_over_100_keys_is_rejected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_get_item(
            RequestItems={table: {"Keys": [{"pk": {"S": f"k{n}"}} for n in range(101)]}}
        )
    assert excinfo.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Too many items requested for the BatchGetItem call",
    }


def test_transact_write_applies_all_actions(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "acct"}, "balance": {"N": "10"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "flag"}})
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "acct"}},
                    "UpdateExpression": "SET balance = balance - :amt",
                    "ConditionExpression": "balance >= :amt",
                    "ExpressionAttributeValues": {":amt": {"N": "4"}},
                }
            },
            {"Put": {"TableName": table, "Item": {"pk": {"S": "log"}, "amt": {"N": "4"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "gone"}}}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "flag"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ],
        ClientRequestToken="token-1",
    )
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "acct"}})["Item"]
    assert got["balance"] == {"N": "6"}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "gone"}})


def test_transaction_cancelled_reports_reasons_in_order_and_changes_nothing(
    ddb: Any, table: str
) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "acct"}, "balance": {"N": "1"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "log"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "acct"}},
                        "UpdateExpression": "SET balance = balance - :amt",
                        "ConditionExpression": "balance >= :amt",
                        "ExpressionAttributeValues": {":amt": {"N": "4"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    error = excinfo.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]"
    )
    assert error["CancellationReasons"][0] == {"Code": "None"}
    assert error["CancellationReasons"][1]["Code"] == "ConditionalCheckFailed"
    assert error["CancellationReasons"][1]["Item"] == {
        "pk": {"S": "acct"},
        "balance": {"N": "1"},
    }
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "log"}})


def test_transaction_on_one_item_twice_is_rejected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}}},
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "a"}}}},
            ]
        )
    assert excinfo.value.response["Error"]["Message"] == (
        "Transaction request cannot include multiple operations on one item"
    )


def test_idempotency_token_replays_and_detects_mismatch(ddb: Any, table: str) -> None:
    token = uuid.uuid4().hex
    update = {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": "ctr"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    ddb.transact_write_items(TransactItems=[update], ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=[update], ClientRequestToken=token)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "ctr"}})["Item"]
    assert got["n"] == {"N": "1"}
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "x"}}}}],
            ClientRequestToken=token,
        )
    assert excinfo.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_transact_get_items_returns_responses_in_order(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "x"}})
    result = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": {"pk": {"S": "missing"}}}},
            {"Get": {"TableName": table, "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "v"}},
        ]
    )
    assert result["Responses"] == [{}, {"Item": {"v": {"S": "x"}}}]


def test_concurrent_clients_never_lose_an_increment_or_double_create(ddb: Any, table: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = ddb.meta.endpoint_url

    def work(worker: int) -> int:
        client = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 0}),
        )
        created = 0
        for n in range(25):
            client.update_item(
                TableName=table,
                Key={"pk": {"S": "counter"}},
                UpdateExpression="ADD hits :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            try:
                client.put_item(
                    TableName=table,
                    Item={"pk": {"S": f"slot-{n}"}, "owner": {"N": str(worker)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                created += 1
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return created

    with ThreadPoolExecutor(4) as pool:
        created = sum(pool.map(work, range(4)))
    counter = ddb.get_item(TableName=table, Key={"pk": {"S": "counter"}})["Item"]
    assert counter["hits"] == {"N": "100"}
    assert created == 25


def test_item_count_and_size_stay_exact_across_every_kind_of_write(ddb: Any, table: str) -> None:
    def described() -> tuple[int, int]:
        t = ddb.describe_table(TableName=table)["Table"]
        return int(t["ItemCount"]), int(t["TableSizeBytes"])

    assert described() == (0, 0)
    ddb.batch_write_item(RequestItems={table: [_put(f"k{n}", v={"S": "x" * n}) for n in range(10)]})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k1"}, "v": {"S": "longer value"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "k2"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "new"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "abc"}},
    )
    ddb.transact_write_items(
        TransactItems=[{"Delete": {"TableName": table, "Key": {"pk": {"S": "k3"}}}}]
    )
    count, size = described()
    items = ddb.scan(TableName=table)["Items"]
    assert count == len(items) == 9
    expected = sum(len(name) + len(value["S"]) for item in items for name, value in item.items())
    assert size == expected


def test_a_key_of_the_wrong_type_cancels_with_a_reason_for_that_item(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("fine")}},
                {"Put": {"TableName": table, "Item": {"pk": {"N": "7"}}}},
                {"Put": {"TableName": table, "Item": {"pk": {"N": "8"}}}},
            ]
        )
    response = excinfo.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    reasons = response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValidationError", "None"]
    assert "Type mismatch for key" in reasons[1]["Message"]
    assert _count(ddb, table) == 0


def test_transaction_limits_token_length_and_aggregate_size(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(
            ClientRequestToken="t" * 37,
            TransactItems=[{"Put": {"TableName": table, "Item": _item("a")}}],
        )
    assert "at 'clientRequestToken' failed to satisfy constraint" in str(excinfo.value)
    big = "x" * 100_000
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item(f"k{i}", v={"S": big})}}
                for i in range(45)
            ]
        )
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "size cannot exceed 4 MB" in excinfo.value.response["Error"]["Message"]
    assert _count(ddb, table) == 0


def test_a_non_string_attribute_name_is_a_serialization_error(ddb: Any, table: str) -> None:
    raw = boto3.client(
        "dynamodb",
        endpoint_url=ddb.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, parameter_validation=False),
    )
    with pytest.raises(ClientError) as excinfo:
        raw.put_item(
            TableName=table,
            Item=_item("a"),
            ConditionExpression="attribute_exists(#n)",
            ExpressionAttributeNames={"#n": 7},
        )
    assert excinfo.value.response["Error"]["Code"] == "SerializationException"
