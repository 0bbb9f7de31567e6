"""The services factory wires SNS to SQS: a publish lands in a subscribed queue."""

from __future__ import annotations

import json
from typing import Any

from lambic.services.factory import create_services


def test_factory_built_sns_delivers_into_factory_built_sqs(
    start_edge: Any, make_client: Any, tmp_path: Any
) -> None:
    services = create_services(tmp_path, names=["sqs", "sns"])
    edge = start_edge(services.by_name())
    sns, sqs = make_client("sns", edge.url), make_client("sqs", edge.url)
    topic = sns.create_topic(Name="wired")["TopicArn"]
    url = sqs.create_queue(QueueName="wired")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    sns.publish(TopicArn=topic, Message="through the factory")
    body = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]["Body"]
    assert json.loads(body)["Message"] == "through the factory"
    assert (tmp_path / "sqs.sqlite3").exists()
    assert (tmp_path / "sns.sqlite3").exists()
