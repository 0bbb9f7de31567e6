"""create_services wires the services to each other: SNS delivers into the same SQS."""

from __future__ import annotations

import json

import boto3
from botocore.config import Config

from lambic.services import EdgeServer, create_services


def test_sns_publish_reaches_an_sqs_subscriber_built_by_the_factory() -> None:
    services = create_services(None)
    edge = EdgeServer(services.by_name()).start()
    try:
        kw = {
            "endpoint_url": edge.url,
            "region_name": "us-east-1",
            "aws_access_key_id": "t",
            "aws_secret_access_key": "t",
            "config": Config(retries={"max_attempts": 0}),
        }
        sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
        topic = sns.create_topic(Name="news")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        sns.publish(TopicArn=topic, Message="hello")
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2)["Messages"]
        assert json.loads(messages[0]["Body"])["Message"] == "hello"
        sns.close()
        sqs.close()
    finally:
        edge.stop()
