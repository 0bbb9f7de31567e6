"""`create_declared` makes every declared kind on the real local services, once.

It calls the services in-process (no SDK); what it made is checked with boto3 over the
edge, as a user's code would see it.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambic.project.config import load_config
from lambic.project.resources import parse_resources
from lambic.runtime.resources import create_declared
from lambic.services import EdgeServer, create_services
from lambic.services.in_process import AwsCallError, InProcessAws

APP = Path(__file__).resolve().parents[2] / "deploy_apps" / "resources"


@pytest.fixture
def edge() -> Iterator[EdgeServer]:
    services = create_services(None)
    server = EdgeServer(services.by_name()).start()
    yield server
    server.stop()


def _client_factory(edge: EdgeServer) -> Any:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=edge.url,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
            config=Config(retries={"max_attempts": 0}),
        )

    return client


def _create(edge: EdgeServer, declared: Any) -> list[str]:
    """`create_declared` on the edge's own loop, as `lambic local` runs it."""
    assert edge.loop is not None
    aws = InProcessAws(edge.app.services, f"127.0.0.1:{edge.port}")
    done = asyncio.run_coroutine_threadsafe(create_declared(declared, aws), edge.loop)
    return done.result(timeout=30)


def _anonymous_get(edge: EdgeServer, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_every_declared_kind_is_created_with_its_settings_and_only_once(
    edge: EdgeServer,
) -> None:
    declared = load_config(APP).resources("dev")
    client = _client_factory(edge)

    created = _create(edge, declared)

    assert created == [
        "table shop-orders",
        "bucket shop-site",
        "bucket shop-audit",
        "queue shop-jobs-dlq",
        "queue shop-alerts-copy",
        "queue shop-jobs",
        "topic shop-alerts",
        "event bus shop-bus",
        "Kinesis stream shop-clicks",
    ]
    # A second start finds everything and creates nothing.
    assert _create(edge, declared) == []

    table = client("dynamodb").describe_table(TableName="shop-orders")["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["LatestStreamArn"].startswith(
        "arn:aws:dynamodb:us-east-1:000000000000:table/shop-orders/stream/"
    )

    sqs = client("sqs")
    jobs = sqs.get_queue_url(QueueName="shop-jobs")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "3"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:shop-jobs-dlq",
        "maxReceiveCount": 1,
    }

    # The topic's declared subscription delivers into the declared queue, raw.
    client("sns").publish(TopicArn="arn:aws:sns:us-east-1:000000000000:shop-alerts", Message="hi")
    copy = sqs.get_queue_url(QueueName="shop-alerts-copy")["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=copy, WaitTimeSeconds=2)["Messages"]
    assert message["Body"] == "hi"

    buses = client("events").list_event_buses()["EventBuses"]
    assert [b["Name"] for b in buses] == ["default", "shop-bus"]

    # The declared shards and retention, not the one shard a handler's stream gets.
    kinesis = client("kinesis")
    clicks = kinesis.describe_stream_summary(StreamName="shop-clicks")["StreamDescriptionSummary"]
    assert (clicks["OpenShardCount"], clicks["RetentionPeriodHours"]) == (2, 48)
    assert clicks["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}

    # PublicRead governs anonymous reads: the site answers, the audit bucket is private.
    s3 = client("s3")
    s3.put_object(Bucket="shop-site", Key="index.html", Body=b"<h1>shop</h1>")
    s3.put_object(Bucket="shop-audit", Key="index.html", Body=b"private")
    assert _anonymous_get(edge, "/shop-site/") == (200, b"<h1>shop</h1>")
    status, body = _anonymous_get(edge, "/shop-audit/index.html")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert s3.get_bucket_cors(Bucket="shop-site")["CORSRules"][0]["MaxAgeSeconds"] == 300


def test_a_bucket_no_longer_public_loses_the_policy_lambic_gave_it(edge: EdgeServer) -> None:
    client = _client_factory(edge)
    config = json.loads((APP / ".lambic" / "config.json").read_text())
    buckets = config["resources"]["s3_buckets"]
    _create(edge, parse_resources({"s3_buckets": buckets}))
    client("s3").put_object(Bucket="shop-site", Key="index.html", Body=b"x")
    assert _anonymous_get(edge, "/shop-site/index.html")[0] == 200
    private = [{**buckets[0], "PublicRead": False}]
    _create(edge, parse_resources({"s3_buckets": private}))
    assert _anonymous_get(edge, "/shop-site/index.html")[0] == 403


def test_a_declaration_the_service_refuses_comes_back_with_its_code(edge: EdgeServer) -> None:
    # A key attribute without its definition: DynamoDB's own ValidationException.
    declared = parse_resources(
        {
            "dynamodb_tables": [
                {
                    "TableName": "broken",
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                }
            ]
        }
    )
    with pytest.raises(AwsCallError) as refused:
        _create(edge, declared)
    assert refused.value.code == "ValidationException"


def _stream(edge: EdgeServer, name: str) -> dict[str, Any]:
    kinesis = _client_factory(edge)("kinesis")
    summary: dict[str, Any] = kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"
    ]
    return summary


def test_a_declared_streams_shards_and_retention_follow_the_config_on_each_start(
    edge: EdgeServer,
) -> None:
    declared = {"StreamName": "clicks", "ShardCount": 2, "RetentionPeriodHours": 48}
    assert _create(edge, parse_resources({"kinesis_streams": [declared]})) == [
        "Kinesis stream clicks"
    ]
    _client_factory(edge)("kinesis").put_record(StreamName="clicks", Data=b"x", PartitionKey="k")

    changed = {"StreamName": "clicks", "ShardCount": 4}  # retention back to the default
    assert _create(edge, parse_resources({"kinesis_streams": [changed]})) == []

    summary = _stream(edge, "clicks")
    assert (summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (4, 24)
    # Resharded, not re-created: the record put before is still in a (closed) parent.
    shards = _client_factory(edge)("kinesis").list_shards(StreamName="clicks")["Shards"]
    assert len(shards) == 6


def test_an_on_demand_stream_is_created_on_demand(edge: EdgeServer) -> None:
    declared = {"StreamName": "events", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}
    _create(edge, parse_resources({"kinesis_streams": [declared]}))
    assert _stream(edge, "events")["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


def test_a_shard_count_kinesis_cannot_reach_in_one_step_comes_back_with_its_code(
    edge: EdgeServer,
) -> None:
    _create(edge, parse_resources({"kinesis_streams": [{"StreamName": "s", "ShardCount": 1}]}))
    with pytest.raises(AwsCallError) as refused:
        _create(edge, parse_resources({"kinesis_streams": [{"StreamName": "s", "ShardCount": 3}]}))
    assert refused.value.code == "LimitExceededException"
    assert "cannot scale up over double your current open shard count" in str(refused.value)
    assert _stream(edge, "s")["OpenShardCount"] == 1
