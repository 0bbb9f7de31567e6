"""The same boto3 DynamoDB scenarios against Lambic and against moto, compared.

Normalised: ResponseMetadata, ConsumedCapacity, timestamps, table ids, stream labels
and event ids. Where moto differs from AWS's documented behaviour, the test says so
and asserts AWS's answer against Lambic alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from lambic.services.dynamodb import create_service
from lambic.services.server import EdgeServer


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


@pytest.fixture(scope="module")
def lambic_url() -> Iterator[str]:
    service = create_service(None)
    edge = EdgeServer({"dynamodb": service}).start()
    yield edge.url
    edge.stop()
    service.close()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _observe(call: Callable[[], Any]) -> Any:
    """The result without volatile parts, or ("error", code) for a ClientError."""
    try:
        result = call()
    except ClientError as exc:
        return ("error", exc.response["Error"]["Code"])
    return _normalise(result)


_VOLATILE = {
    "ResponseMetadata",
    "ConsumedCapacity",
    "CreationDateTime",
    "TableId",
    "LatestStreamLabel",
    "LatestStreamArn",
    "ApproximateCreationDateTime",
    "eventID",
    "SequenceNumber",
    "SizeBytes",
    "NextShardIterator",
}


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _normalise(v)
            for k, v in value.items()
            # moto adds an empty ItemCollectionMetrics that AWS only sends when asked.
            if k not in _VOLATILE and not (k == "ItemCollectionMetrics" and v == {})
        }
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _create(ddb: Any, name: str) -> Any:
    return ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def _items_scenario(ddb: Any) -> list[Any]:
    name = "conf-items"
    seen: list[Any] = []
    _create(ddb, name)
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    seen.append(
        _observe(
            lambda: ddb.put_item(
                TableName=name,
                Item={
                    **key,
                    # moto keeps "1.50" as sent; AWS normalises to "1.5" (asserted in
                    # tests/integration/services/test_dynamodb_items.py), so send it normal.
                    "n": {"N": "1.5"},
                    "m": {"M": {"x": {"L": [{"S": "y"}, {"BOOL": True}]}}},
                    "ss": {"SS": ["b", "a"]},
                    "g": {"S": "grp"},
                },
                ReturnValues="ALL_OLD",
            )
        )
    )
    seen.append(_observe(lambda: ddb.get_item(TableName=name, Key=key, ConsistentRead=True)))
    seen.append(
        _observe(lambda: ddb.get_item(TableName=name, Key=key, ProjectionExpression="m.x[1], n"))
    )
    seen.append(
        _observe(
            lambda: ddb.update_item(
                TableName=name,
                Key=key,
                UpdateExpression="SET n = n + :d, newattr = if_not_exists(newattr, :z) "
                "REMOVE m.x[0] ADD cnt :d",
                ExpressionAttributeValues={":d": {"N": "2"}, ":z": {"S": "init"}},
                ReturnValues="UPDATED_NEW",
            )
        )
    )
    seen.append(
        _observe(
            lambda: ddb.update_item(
                TableName=name,
                Key=key,
                UpdateExpression="SET n = :v",
                ConditionExpression="n > :big",
                ExpressionAttributeValues={":v": {"N": "0"}, ":big": {"N": "100"}},
            )
        )
    )
    seen.append(
        _observe(
            lambda: ddb.put_item(
                TableName=name, Item=key, ConditionExpression="attribute_not_exists(pk)"
            )
        )
    )
    seen.append(_observe(lambda: ddb.get_item(TableName="missing-table", Key=key)))
    seen.append(_observe(lambda: ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})))
    seen.append(
        _observe(lambda: ddb.put_item(TableName=name, Item={"pk": {"N": "1"}, "sk": {"N": "1"}}))
    )
    seen.append(_observe(lambda: ddb.delete_item(TableName=name, Key=key, ReturnValues="ALL_OLD")))
    seen.append(_observe(lambda: ddb.get_item(TableName=name, Key=key)))
    return seen


def _query_scenario(ddb: Any) -> list[Any]:
    name = "conf-query"
    seen: list[Any] = []
    _create(ddb, name)
    ddb.batch_write_item(
        RequestItems={
            name: [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": "p"},
                            "sk": {"N": str(n)},
                            "v": {"N": str(n * 10)},
                            "g": {"S": "even" if n % 2 == 0 else "odd"},
                        }
                    }
                }
                for n in range(-4, 8)
            ]
        }
    )
    values = {":p": {"S": "p"}}
    seen.append(
        _observe(
            lambda: ddb.query(
                TableName=name,
                KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={**values, ":a": {"N": "-2"}, ":b": {"N": "3"}},
            )
        )
    )
    seen.append(
        _observe(
            lambda: ddb.query(
                TableName=name,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues=values,
                ScanIndexForward=False,
                Limit=3,
            )
        )
    )
    seen.append(
        _observe(
            lambda: ddb.query(
                TableName=name,
                KeyConditionExpression="pk = :p AND sk > :z",
                FilterExpression="v >= :t",
                ExpressionAttributeValues={**values, ":z": {"N": "0"}, ":t": {"N": "50"}},
                Select="COUNT",
            )
        )
    )
    seen.append(
        _observe(
            lambda: ddb.query(
                TableName=name,
                IndexName="by-g",
                KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "even"}},
                ProjectionExpression="sk, v",
            )
        )
    )
    seen.append(
        _observe(
            lambda: sorted(
                int(i["sk"]["N"])
                for i in ddb.scan(
                    TableName=name,
                    FilterExpression="v < :t",
                    ExpressionAttributeValues={":t": {"N": "0"}},
                )["Items"]
            )
        )
    )
    seen.append(
        _observe(
            lambda: ddb.query(
                TableName=name,
                KeyConditionExpression="sk = :z",
                ExpressionAttributeValues={":z": {"N": "0"}},
            )
        )
    )
    return seen


def _batch_and_transaction_scenario(ddb: Any) -> list[Any]:
    name = "conf-tx"
    seen: list[Any] = []
    _create(ddb, name)
    key = {"pk": {"S": "acct"}, "sk": {"N": "0"}}
    ddb.put_item(TableName=name, Item={**key, "balance": {"N": "10"}})
    transfer = {
        "Update": {
            "TableName": name,
            "Key": key,
            "UpdateExpression": "SET balance = balance - :amt",
            "ConditionExpression": "balance >= :amt",
            "ExpressionAttributeValues": {":amt": {"N": "6"}},
        }
    }
    log = {"Put": {"TableName": name, "Item": {"pk": {"S": "log"}, "sk": {"N": "1"}}}}
    seen.append(_observe(lambda: ddb.transact_write_items(TransactItems=[transfer, log])))
    try:
        ddb.transact_write_items(TransactItems=[log, transfer])
        seen.append("no error")
    except ClientError as exc:
        seen.append(
            (
                exc.response["Error"]["Code"],
                [r["Code"] for r in exc.response["CancellationReasons"]],
            )
        )
    seen.append(
        _observe(
            lambda: ddb.transact_get_items(
                TransactItems=[
                    {"Get": {"TableName": name, "Key": key}},
                    {"Get": {"TableName": name, "Key": {"pk": {"S": "no"}, "sk": {"N": "0"}}}},
                ]
            )
        )
    )
    got = ddb.batch_get_item(
        RequestItems={name: {"Keys": [key, {"pk": {"S": "log"}, "sk": {"N": "1"}}]}}
    )
    seen.append(sorted(i["pk"]["S"] for i in got["Responses"][name]))
    seen.append(got["UnprocessedKeys"])
    return seen


def _streams_scenario(ddb: Any, streams: Any) -> list[Any]:
    name = "conf-streams"
    arn = _create(ddb, name)["TableDescription"]["LatestStreamArn"]
    key = {"pk": {"S": "s"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"N": "1"}})
    ddb.update_item(
        TableName=name,
        Key=key,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.delete_item(TableName=name, Key=key)
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    shard = description["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [
        description["StreamViewType"],
        description["StreamStatus"],
        [_normalise(r["dynamodb"]) for r in records],
        [r["eventName"] for r in records],
    ]


@pytest.mark.parametrize(
    "scenario", [_items_scenario, _query_scenario, _batch_and_transaction_scenario]
)
def test_scenario_matches_moto(
    scenario: Callable[[Any], list[Any]], lambic_url: str, moto_url: str
) -> None:
    ours = scenario(_client("dynamodb", lambic_url))
    theirs = scenario(_client("dynamodb", moto_url))
    assert ours == theirs


def test_streams_scenario_matches_moto(lambic_url: str, moto_url: str) -> None:
    ours = _streams_scenario(
        _client("dynamodb", lambic_url), _client("dynamodbstreams", lambic_url)
    )
    theirs = _streams_scenario(_client("dynamodb", moto_url), _client("dynamodbstreams", moto_url))
    assert ours == theirs


def _errors_scenario(ddb: Any) -> list[Any]:
    """Bad input whose error code moto and AWS agree on (messages differ in places: the
    integration tests assert AWS's words against Lambic)."""
    name = "conf-errors"
    _create(ddb, name)
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=name, Item=key)
    one = {":x": {"N": "1"}}
    calls: list[Callable[[], Any]] = [
        lambda: _create(ddb, name),
        lambda: ddb.put_item(TableName=name, Item={"pk": {"S": "a"}}),
        lambda: ddb.put_item(TableName=name, Item={"pk": {"N": "1"}, "sk": {"N": "1"}}),
        lambda: ddb.put_item(TableName=name, Item={"pk": {"S": ""}, "sk": {"N": "1"}}),
        lambda: ddb.put_item(TableName=name, Item={**key, "n": {"N": "x"}}),
        lambda: ddb.put_item(TableName=name, Item={**key, "big": {"S": "x" * 420_000}}),
        lambda: ddb.put_item(TableName=name, Item={**key, "s": {"SS": []}}),
        lambda: ddb.put_item(TableName=name, Item=key, ReturnValues="ALL_NEW"),
        lambda: ddb.put_item(
            TableName=name, Item=key, ConditionExpression="attribute_not_exists(pk)"
        ),
        lambda: ddb.get_item(TableName=name, Key={"pk": {"S": "a"}}),
        lambda: ddb.get_item(TableName="conf-missing", Key=key),
        lambda: ddb.describe_table(TableName="conf-missing"),
        lambda: ddb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET sk = :x",
            ExpressionAttributeValues=one,
        ),
        lambda: ddb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET a = :x SET b = :x",
            ExpressionAttributeValues=one,
        ),
        lambda: ddb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET a = :x, a.b = :x",
            ExpressionAttributeValues=one,
        ),
        lambda: ddb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET a = :x",
            ExpressionAttributeValues=one,
            ExpressionAttributeNames={"#unused": "u"},
        ),
        lambda: ddb.query(
            TableName=name,
            KeyConditionExpression="sk = :x",
            ExpressionAttributeValues=one,
        ),
        lambda: ddb.batch_write_item(
            RequestItems={name: [{"PutRequest": {"Item": key}}, {"PutRequest": {"Item": key}}]}
        ),
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": key}},
                {"Delete": {"TableName": name, "Key": key}},
            ]
        ),
    ]
    return [_observe(call) for call in calls] + [_observe(lambda: ddb.scan(TableName=name))]


def test_error_codes_match_moto(lambic_url: str, moto_url: str) -> None:
    ours = _errors_scenario(_client("dynamodb", lambic_url))
    theirs = _errors_scenario(_client("dynamodb", moto_url))
    assert ours == theirs
    assert all(observed[0] == "error" for observed in ours[:-1])


def _random_numbers_scenario(ddb: Any, seed: int) -> list[Any]:
    """Random numeric and string sort keys, random key conditions, pages and directions."""
    import random

    rng = random.Random(seed)
    name = f"conf-random-{seed}"
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
    numbers: set[str] = set()
    while len(numbers) < 60:
        mantissa = rng.choice(["1", "25", "999", "3.14159", "0.5", "12345678901234567890"])
        exponent = rng.randint(-20, 20)
        sign = rng.choice(["", "-"])
        numbers.add(f"{sign}{mantissa}E{exponent}")
    for start in range(0, 60, 25):
        chunk = sorted(numbers)[start : start + 25]
        ddb.batch_write_item(
            RequestItems={
                name: [
                    {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": n}, "raw": {"S": n}}}}
                    for n in chunk
                ]
            }
        )
    seen: list[Any] = []
    pool = sorted(numbers)
    for _ in range(12):
        op = rng.choice(["<", "<=", ">", ">=", "BETWEEN", "="])
        a, b = rng.choice(pool), rng.choice(pool)
        values: dict[str, Any] = {":p": {"S": "p"}, ":a": {"N": a}}
        if op == "BETWEEN":
            low, high = sorted((a, b), key=float)
            values = {":p": {"S": "p"}, ":a": {"N": low}, ":b": {"N": high}}
            condition = "pk = :p AND sk BETWEEN :a AND :b"
        else:
            condition = f"pk = :p AND sk {op} :a"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": rng.choice([True, False]),
            "Limit": rng.randint(1, 15),
        }
        pages: list[list[str]] = []
        while True:
            page = ddb.query(**kwargs)
            pages.append([item["raw"]["S"] for item in page["Items"]])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        seen.append((condition, [x for p in pages for x in p]))
    return seen


@pytest.mark.parametrize("seed", [1, 2])
def test_random_numeric_key_conditions_match_moto(
    seed: int, lambic_url: str, moto_url: str
) -> None:
    ours = _random_numbers_scenario(_client("dynamodb", lambic_url), seed)
    theirs = _random_numbers_scenario(_client("dynamodb", moto_url), seed)
    assert ours == theirs
