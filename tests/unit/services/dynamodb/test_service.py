"""The service answers every request with AWS's shapes: never a 500 for bad input."""

from __future__ import annotations

import asyncio
import json
import random
import zlib
from typing import Any

from lambic.services.base import Headers, ServiceRequest, ServiceResponse
from lambic.services.dynamodb import create_service

_OPERATIONS = [
    "DescribeTable", "ListTables", "UpdateTable", "PutItem", "GetItem", "UpdateItem",
    "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem", "TransactWriteItems",
    "TransactGetItems", "UpdateTimeToLive", "DescribeTimeToLive", "TagResource",
    "UntagResource", "ListTagsOfResource", "DescribeContinuousBackups", "ExecuteStatement",
    "BatchExecuteStatement", "ExecuteTransaction",
]  # fmt: skip
_STREAM_OPERATIONS = ["ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"]
_FIELDS = [
    "TableName", "Item", "Key", "KeyConditionExpression", "FilterExpression",
    "UpdateExpression", "ConditionExpression", "ProjectionExpression",
    "ExpressionAttributeNames", "ExpressionAttributeValues", "Limit", "ExclusiveStartKey",
    "Select", "Segment", "TotalSegments", "RequestItems", "TransactItems", "IndexName",
    "ReturnValues", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexUpdates",
    "StreamSpecification", "Expected", "AttributeUpdates", "KeyConditions", "ScanFilter",
    "StreamArn", "ShardIterator", "ShardId", "ShardIteratorType", "SequenceNumber",
    "TimeToLiveSpecification", "ResourceArn", "Tags", "TagKeys", "ReturnConsumedCapacity",
    "Statement", "Parameters", "Statements", "TransactStatements", "NextToken",
]  # fmt: skip
_JUNK: list[Any] = [
    None, 5, -1, True, "x", "pk = :v", "SET a = :v", ":v", "#a = :v", "junk", [], {}, [1],
    [{}], {"S": 1}, {"N": "x"}, {"a": "x"}, {"pk": {"S": "a"}},
    {"pk": {"S": "a"}, "sk": {"N": "1"}}, {"PutRequest": 1},
]  # fmt: skip


def _call(
    service: Any, loop: asyncio.AbstractEventLoop, target: str, body: bytes
) -> ServiceResponse:
    request = ServiceRequest("POST", "/", "", Headers([("X-Amz-Target", target)]), body)
    response: ServiceResponse = loop.run_until_complete(service.handle(request))
    return response


def test_junk_requests_get_4xx_errors_in_awss_json_shape() -> None:
    service = create_service(None, ttl_sweep_seconds=None)
    loop = asyncio.new_event_loop()
    try:
        create = {
            "TableName": "junk",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        }
        target = "DynamoDB_20120810.CreateTable"
        assert _call(service, loop, target, json.dumps(create).encode()).status == 200
        rng = random.Random(7)
        for _ in range(3000):
            operation = rng.choice(_OPERATIONS + _STREAM_OPERATIONS)
            prefix = (
                "DynamoDBStreams_20120810."
                if operation in _STREAM_OPERATIONS
                else ("DynamoDB_20120810.")
            )
            body: dict[str, Any] = {"TableName": "junk"} if rng.random() < 0.7 else {}
            for _ in range(rng.randint(1, 4)):
                body[rng.choice(_FIELDS)] = rng.choice(_JUNK)
            response = _call(service, loop, prefix + operation, json.dumps(body).encode())
            assert response.status < 500, (operation, body, response.body)
            assert dict(response.headers)["x-amz-crc32"] == str(zlib.crc32(response.body))
            if response.status != 200:
                assert "#" in json.loads(response.body)["__type"]
    finally:
        loop.close()
        service.close()


def _describe_endpoints(headers: list[tuple[str, str]], body: bytes = b"{}") -> Any:
    service = create_service(None, ttl_sweep_seconds=None)
    target = ("X-Amz-Target", "DynamoDB_20120810.DescribeEndpoints")
    request = ServiceRequest("POST", "/", "", Headers([target, *headers]), body)
    try:
        response = asyncio.run(service.handle(request))
    finally:
        service.close()
    assert response.status == 200
    return json.loads(response.body)["Endpoints"]


def test_describe_endpoints_names_the_host_the_client_called() -> None:
    # Only the request's Host counts: a body cannot pose as it.
    endpoints = _describe_endpoints(
        [("Host", "127.0.0.1:4566")], json.dumps({"__called_host": "elsewhere"}).encode()
    )
    assert endpoints == [{"Address": "127.0.0.1:4566", "CachePeriodInMinutes": 1440}]
    (without_host,) = _describe_endpoints([])
    assert without_host["Address"] == "dynamodb.us-east-1.amazonaws.com"


# A fresh interpreter (this worker's other tests have imported every module) with a
# table holding one item; `loaded()`: whether lambic.services.dynamodb.<module> is.
_PROBE_TABLE = """
import asyncio, json, sys
from lambic.services.base import Headers, ServiceRequest
from lambic.services.dynamodb import create_service

service = create_service(None)
def call(op, body):
    headers = Headers([("X-Amz-Target", f"DynamoDB_20120810.{{op}}")])
    request = ServiceRequest("POST", "/", "", headers, json.dumps(body).encode())
    return asyncio.run(service.handle(request))

loaded = lambda: "lambic.services.dynamodb.{module}" in sys.modules
call("CreateTable", {{"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
     "KeySchema": [{{"AttributeName": "pk", "KeyType": "HASH"}}],
     "AttributeDefinitions": [{{"AttributeName": "pk", "AttributeType": "S"}}]}})
call("PutItem", {{"TableName": "orders", "Item": {{"pk": {{"S": "a"}}}}}})
"""


def test_partiql_is_imported_by_the_first_statement_only() -> None:
    # An idle `lambic local` with a table need not hold PartiQL's parser (~0.2 MB).
    # A fresh interpreter: this worker's other tests have imported it.
    import subprocess
    import sys

    probe = (
        _PROBE_TABLE.format(module="partiql")
        + """
before = loaded()
answer = call("ExecuteStatement", {"Statement": 'SELECT * FROM "orders"'})
print(before, loaded(), answer.status, json.loads(answer.body).get("Items"))
service.close()
"""
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False True 200 [{'pk': {'S': 'a'}}]"


def test_batches_and_transactions_are_imported_by_the_first_call_only() -> None:
    # A table created, written and queried (the flagship's) loads neither.
    import subprocess
    import sys

    probe = (
        _PROBE_TABLE.format(module="batches")
        + """
call("Query", {"TableName": "orders", "KeyConditionExpression": "pk = :a",
     "ExpressionAttributeValues": {":a": {"S": "a"}}})
before = loaded()
got = call("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "orders",
     "Key": {"pk": {"S": "a"}}}}]})
print(before, loaded(), got.status, json.loads(got.body)["Responses"])
service.close()
"""
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False True 200 [{'Item': {'pk': {'S': 'a'}}}]"
