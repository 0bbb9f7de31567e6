"""DynamoDB Streams through the edge, the in-process listener hook, and durability."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic._cloud_process import free_port
from lambic.services.dynamodb import DynamoDBService, create_service
from lambic.services.server import EdgeServer
from tests._support.clients import aws_client


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[DynamoDBService, str]]:
    service = create_service(None)
    edge = EdgeServer({"dynamodb": service}).start()
    yield service, edge.url
    edge.stop()
    service.close()


def _create(ddb: Any, view_type: str) -> str:
    name = "s-" + uuid.uuid4().hex[:10]
    table = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )["TableDescription"]
    return str(table["LatestStreamArn"])


def _records(streams: Any, arn: str, kind: str = "TRIM_HORIZON", **extra: Any) -> Any:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra
    )["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)


def test_insert_modify_remove_records_with_both_images(served: tuple[Any, str]) -> None:
    _, url = served
    ddb, streams = aws_client("dynamodb", url), aws_client("dynamodbstreams", url)
    arn = _create(ddb, "NEW_AND_OLD_IMAGES")
    table = arn.split("/")[1]
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})  # no change
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    records = _records(streams, arn)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    modify = records[1]["dynamodb"]
    assert modify["Keys"] == {"pk": {"S": "a"}}
    assert modify["OldImage"]["v"] == {"N": "1"}
    assert modify["NewImage"]["v"] == {"N": "2"}
    assert modify["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert modify["SizeBytes"] > 0
    assert "NewImage" not in records[2]["dynamodb"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert records[0]["eventSource"] == "aws:dynamodb"


def test_keys_only_stream_has_no_images(served: tuple[Any, str]) -> None:
    _, url = served
    ddb, streams = aws_client("dynamodb", url), aws_client("dynamodbstreams", url)
    arn = _create(ddb, "KEYS_ONLY")
    ddb.put_item(TableName=arn.split("/")[1], Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    (record,) = _records(streams, arn)["Records"]
    assert set(record["dynamodb"]) == {
        "ApproximateCreationDateTime",
        "Keys",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }


def test_iterator_types_position_the_reader(served: tuple[Any, str]) -> None:
    _, url = served
    ddb, streams = aws_client("dynamodb", url), aws_client("dynamodbstreams", url)
    arn = _create(ddb, "NEW_IMAGE")
    table = arn.split("/")[1]
    for key in "abc":
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    records = _records(streams, arn)["Records"]
    second = records[1]["dynamodb"]["SequenceNumber"]
    at = _records(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=second)["Records"]
    after = _records(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=second)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in at] == ["b", "c"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after] == ["c"]
    latest = _records(streams, arn, "LATEST")
    assert latest["Records"] == []
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}})
    follow = streams.get_records(ShardIterator=latest["NextShardIterator"])["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in follow] == ["d"]


def test_list_streams_and_describe(served: tuple[Any, str]) -> None:
    _, url = served
    ddb, streams = aws_client("dynamodb", url), aws_client("dynamodbstreams", url)
    arn = _create(ddb, "OLD_IMAGE")
    table = arn.split("/")[1]
    listed = streams.list_streams(TableName=table)["Streams"]
    assert [s["StreamArn"] for s in listed] == [arn]
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert description["StreamStatus"] == "ENABLED"
    assert description["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    with pytest.raises(ClientError) as excinfo:
        streams.describe_stream(StreamArn=arn + "x")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_listener_receives_records_after_commit(served: tuple[Any, str]) -> None:
    service, url = served
    ddb = aws_client("dynamodb", url)
    arn = _create(ddb, "NEW_IMAGE")
    received: list[dict[str, Any]] = []
    service.engine.add_listener(received.append)
    try:
        ddb.batch_write_item(
            RequestItems={
                arn.split("/")[1]: [
                    {"PutRequest": {"Item": {"pk": {"S": "x"}}}},
                    {"PutRequest": {"Item": {"pk": {"S": "y"}}}},
                ]
            }
        )
    finally:
        service.engine.remove_listener(received.append)
    mine = [r for r in received if r["eventSourceARN"] == arn]
    assert [r["dynamodb"]["NewImage"]["pk"]["S"] for r in mine] == ["x", "y"]


_SERVE = """
import sys
from pathlib import Path
from lambic.services.dynamodb import create_service
from lambic.services.server import serve
serve({"dynamodb": create_service(Path(sys.argv[1]))}, host="127.0.0.1", port=int(sys.argv[2]))
"""


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(tmp_path), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        ddb = aws_client("dynamodb", url)
        deadline = time.monotonic() + 15
        while True:
            try:
                ddb.list_tables()
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        arn = _create(ddb, "NEW_IMAGE")
        table = arn.split("/")[1]
        for n in range(20):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    service = create_service(tmp_path)
    edge = EdgeServer({"dynamodb": service}).start()
    try:
        ddb = aws_client("dynamodb", edge.url)
        assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 20
        streams = aws_client("dynamodbstreams", edge.url)
        assert len(_records(streams, arn)["Records"]) == 20
    finally:
        edge.stop()
        service.close()


def test_expired_ttl_items_are_deleted_with_a_service_identity_record() -> None:
    service = create_service(None, ttl_sweep_seconds=0.05)
    edge = EdgeServer({"dynamodb": service}).start()
    try:
        ddb, streams = aws_client("dynamodb", edge.url), aws_client("dynamodbstreams", edge.url)
        arn = _create(ddb, "OLD_IMAGE")
        table = arn.split("/")[1]
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
        )
        now = int(time.time())
        ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "exp": {"N": str(now - 10)}})
        ddb.put_item(TableName=table, Item={"pk": {"S": "new"}, "exp": {"N": str(now + 3600)}})
        ancient = str(now - 6 * 365 * 24 * 3600)  # AWS skips TTLs over five years old
        ddb.put_item(TableName=table, Item={"pk": {"S": "ancient"}, "exp": {"N": ancient}})
        ddb.put_item(TableName=table, Item={"pk": {"S": "text"}, "exp": {"S": "0"}})
        deadline = time.monotonic() + 5
        while "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "old"}}):
            assert time.monotonic() < deadline, "expired item was not deleted"
            time.sleep(0.05)
        remaining = sorted(i["pk"]["S"] for i in ddb.scan(TableName=table)["Items"])
        assert remaining == ["ancient", "new", "text"]
        records = _records(streams, arn)["Records"]
        (removal,) = [r for r in records if r["eventName"] == "REMOVE"]
        assert removal["dynamodb"]["Keys"] == {"pk": {"S": "old"}}
        assert removal["userIdentity"] == {
            "Type": "Service",
            "PrincipalId": "dynamodb.amazonaws.com",
        }
    finally:
        edge.stop()
        service.close()


def test_disabling_and_re_enabling_a_stream_gives_a_new_arn(served: tuple[Any, str]) -> None:
    _, url = served
    ddb, streams = aws_client("dynamodb", url), aws_client("dynamodbstreams", url)
    first = _create(ddb, "KEYS_ONLY")
    table = first.split("/")[1]
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    described = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in described
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in old["Shards"][0]["SequenceNumberRange"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})  # no stream: no record
    time.sleep(0.002)  # stream labels have millisecond resolution
    second = ddb.update_table(
        TableName=table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    assert second != first
    assert {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]} == {
        first,
        second,
    }
    assert len(_records(streams, first)["Records"]) == 1
    assert _records(streams, second)["Records"] == []
