"""A Publish that was acknowledged has reached its SQS subscribers durably (kill -9 safe)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_SERVER = """
import sys, time
from pathlib import Path
from lambic.services.factory import create_services
from lambic.services.server import EdgeServer
edge = EdgeServer(create_services(Path(sys.argv[1]), names=["sqs", "sns"]).by_name()).start()
print(edge.url, flush=True)
while True:
    time.sleep(60)
"""

Start = Callable[[], tuple[subprocess.Popen[str], str]]


@pytest.fixture
def run_server(tmp_path: Path) -> Iterator[Start]:
    processes: list[subprocess.Popen[str]] = []

    def start() -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(tmp_path / "state")],
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://"), "the services did not start"
        return process, url

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_topics_subscriptions_and_delivered_messages_survive_kill_9(
    run_server: Start, make_client: Any
) -> None:
    process, url = run_server()
    sns, sqs = make_client("sns", url), make_client("sqs", url)
    topic = sns.create_topic(Name="durable")["TopicArn"]
    queue = sqs.create_queue(QueueName="durable")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={"FilterPolicy": json.dumps({"keep": ["yes"]})},
    )["SubscriptionArn"]
    sent = sns.publish(
        TopicArn=topic,
        Message="kept",
        MessageAttributes={"keep": {"DataType": "String", "StringValue": "yes"}},
    )
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    _, url = run_server()
    sns, sqs = make_client("sns", url), make_client("sqs", url)
    assert sns.list_topics()["Topics"] == [{"TopicArn": topic}]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"keep": ["yes"]}
    queue = sqs.get_queue_url(QueueName="durable")["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(message["Body"])["MessageId"] == sent["MessageId"]
