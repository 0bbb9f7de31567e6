"""The services meter what AWS bills, driven by unchanged boto3 over the edge port:
S3 requests by pricing class and stored bytes, SQS and SNS requests in 64 KB chunks,
SNS deliveries by protocol, EventBridge custom events; nothing with metering off."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambic.project.metering import Meter
from lambic.services import EdgeServer, create_services


class Cloud:
    def __init__(self, state: Path | None, meter: Meter | None) -> None:
        self.meter = meter
        self.services = create_services(state, meter=meter)
        self.edge = EdgeServer(self.services.by_name()).start()
        self.clients: dict[str, Any] = {}

    def client(self, name: str) -> Any:
        if name not in self.clients:
            self.clients[name] = boto3.client(
                name,
                endpoint_url=self.edge.url,
                region_name="us-east-1",
                aws_access_key_id="t",
                aws_secret_access_key="t",
                config=Config(retries={"max_attempts": 0}),
            )
        return self.clients[name]

    def metered(self, path: Path) -> dict[tuple[str, str, str], float]:
        """Everything metered so far, by (service, resource, metric)."""
        self.stop()
        with sqlite3.connect(path) as conn:
            rows = conn.execute(
                "SELECT service, resource, metric, SUM(quantity) FROM metered GROUP BY 1, 2, 3"
            ).fetchall()
        return {(s, r, m): q for s, r, m, q in rows}

    def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients = {}
        self.edge.stop()
        if self.meter is not None:
            self.meter.close()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    meter = Meter(tmp_path / "logs.sqlite3", sample_interval=0)
    c = Cloud(tmp_path / "state", meter)
    yield c
    c.stop()


def test_s3_requests_are_counted_by_pricing_class_and_storage_sampled(
    cloud: Cloud, tmp_path: Path
) -> None:
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="photos")  # PUT
    for n in range(3):
        s3.put_object(Bucket="photos", Key=f"k{n}", Body=b"x" * 1000)  # PUT
    s3.copy_object(Bucket="photos", Key="copy", CopySource="photos/k0")  # COPY (a PUT)
    s3.list_objects_v2(Bucket="photos")  # LIST
    s3.get_object(Bucket="photos", Key="k1")["Body"].read()  # GET
    s3.head_object(Bucket="photos", Key="k1")  # other
    s3.get_bucket_location(Bucket="photos")  # other
    s3.delete_object(Bucket="photos", Key="k2")  # free
    metered = cloud.metered(tmp_path / "logs.sqlite3")
    assert metered[("s3", "photos", "tier1")] == 6
    assert metered[("s3", "photos", "tier2")] == 3
    # Sampled at close: 3,000 bytes for the (short) time since the first sample.
    assert metered[("s3", "photos", "byte_hours")] > 0


def test_sqs_bills_every_action_and_each_64_kb_chunk(cloud: Cloud, tmp_path: Path) -> None:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]  # 1
    sqs.send_message(QueueUrl=url, MessageBody="small")  # 1
    sqs.send_message(QueueUrl=url, MessageBody="x" * (256 * 1024 - 10))  # 4 chunks
    entries = [{"Id": str(n), "MessageBody": "m" * 1000} for n in range(10)]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)  # 10 KB in one request: 1
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)  # "small": 1
    fifo = sqs.create_queue(
        QueueName="jobs.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]  # fmt: skip
    sqs.send_message(QueueUrl=fifo, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="1")
    metered = cloud.metered(tmp_path / "logs.sqlite3")
    assert metered[("sqs", "jobs", "requests")] == 8
    assert metered[("sqs", "jobs.fifo", "fifo_requests")] == 2


def test_sns_publishes_and_deliveries_by_protocol_and_eventbridge_events(
    cloud: Cloud, tmp_path: Path
) -> None:
    sns, sqs, events = cloud.client("sns"), cloud.client("sqs"), cloud.client("events")
    topic = sns.create_topic(Name="news")["TopicArn"]
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")  # 1 publish, 1 SQS delivery
    sns.publish(TopicArn=topic, Message="y" * (100 * 1024))  # 2 chunks, 2 delivered
    batch = [{"Id": str(n), "Message": "z" * 100} for n in range(3)]
    sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=batch)  # one request
    detail = json.dumps({"n": 1})
    good = {"Source": "app", "DetailType": "t", "Detail": detail}
    bad = {"Source": "app", "DetailType": "t", "Detail": "not json"}
    events.put_events(Entries=[good, good, bad])  # the malformed entry is not billed
    metered = cloud.metered(tmp_path / "logs.sqlite3")
    assert metered[("sns", "news", "publishes")] == 1 + 2 + 1
    assert metered[("sns", "news", "deliveries_sqs")] == 1 + 2 + 3
    assert metered[("events", "default", "events")] == 2


def test_without_a_meter_nothing_is_counted(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path / "state", None)
    try:
        cloud.client("s3").create_bucket(Bucket="quiet")
    finally:
        cloud.stop()
    assert not (tmp_path / "logs.sqlite3").exists()
