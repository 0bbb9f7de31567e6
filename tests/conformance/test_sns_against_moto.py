"""The same boto3 SNS → SQS scenario against Lambic and against moto, compared.

Normalised: message ids, subscription ids, timestamps, signatures, hosts and ports.
Where moto differs from AWS's documented behaviour the test says so and asserts AWS's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from lambic.services import sns as sns_service
from lambic.services import sqs as sqs_service
from lambic.services.server import EdgeServer

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _clients(url: str) -> tuple[Any, Any]:
    options: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "config": Config(retries={"max_attempts": 0}),
    }
    return boto3.client("sns", **options), boto3.client("sqs", **options)


@pytest.fixture
def lambic_url() -> Iterator[str]:
    sqs = sqs_service.create_service(None)
    edge = EdgeServer({"sqs": sqs, "sns": sns_service.create_service(None, sqs=sqs)}).start()
    yield edge.url
    edge.stop()


@pytest.fixture
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _scenario(sns: Any, sqs: Any) -> list[Any]:
    seen: list[Any] = []
    topic = sns.create_topic(Name="conf")["TopicArn"]
    seen.append(topic.rsplit(":", 1)[1])
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    seen.append({k: attributes[k] for k in ("DisplayName", "SubscriptionsPending")})
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sub_attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    seen.append(
        {k: sub_attributes[k] for k in ("Protocol", "RawMessageDelivery", "PendingConfirmation")}
    )
    sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="Hi",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "greeting"},
            "n": {"DataType": "Number", "StringValue": "7"},
        },
    )
    sns.publish(TopicArn=topic, Message="no subject")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    ]
    for envelope in sorted(bodies, key=lambda b: str(b["Message"])):
        seen.append(sorted(envelope))
        seen.append(
            (
                envelope["Type"],
                envelope["Message"],
                envelope.get("Subject"),
                envelope.get("MessageAttributes"),
            )
        )
    try:
        sns.get_topic_attributes(TopicArn=topic + "-missing")
    except ClientError as error:
        seen.append(
            (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"])
        )
    seen.append(len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]))
    return seen


def test_where_moto_differs_from_aws_lambic_follows_aws(lambic_url: str) -> None:
    sns, sqs = _clients(lambic_url)
    topic = sns.create_topic(Name="aws")["TopicArn"]
    queue = sqs.create_queue(QueueName="aws")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    # AWS: "By default, SignatureVersion is set to 1"; moto 5.2 writes "2".
    sns.publish(TopicArn=topic, Message="x")
    body = sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]
    assert json.loads(body)["SignatureVersion"] == "1"
    # AWS rejects an empty message ("Invalid parameter: Empty message"); moto accepts it.
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=topic, Message="")
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"


def test_sns_to_sqs_scenario_matches_moto(lambic_url: str, moto_url: str) -> None:
    ours = _scenario(*_clients(lambic_url))
    theirs = _scenario(*_clients(moto_url))
    normalise = re.compile(r"https?://[^/\"']+")
    assert [_UUID.sub("<id>", normalise.sub("<url>", str(x))) for x in ours] == [
        _UUID.sub("<id>", normalise.sub("<url>", str(x))) for x in theirs
    ]
