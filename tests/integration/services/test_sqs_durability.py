"""An acknowledged SQS write survives `kill -9` of the process serving it."""

from __future__ import annotations

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
from lambic.services.server import EdgeServer
from lambic.services.sqs import create_service
edge = EdgeServer({"sqs": create_service(Path(sys.argv[1]))}).start()
print(edge.url, flush=True)
while True:
    time.sleep(60)
"""


@pytest.fixture
def run_server(tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[str], str]]]:
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
        assert url.startswith("http://"), "the SQS server did not start"
        return process, url

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_sent_messages_and_visibility_survive_kill_9(
    run_server: Callable[[], tuple[subprocess.Popen[str], str]], make_client: Any
) -> None:
    process, url = run_server()
    sqs = make_client("sqs", url)
    queue = sqs.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "600"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=queue, MessageBody="in flight")
    sqs.receive_message(QueueUrl=queue)
    sent = sqs.send_message(QueueUrl=queue, MessageBody="waiting")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    _, url = run_server()
    sqs = make_client("sqs", url)
    queue = sqs.get_queue_url(QueueName="durable")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    # The received message is still invisible: its deadline was persisted.
    assert [(m["MessageId"], m["Body"]) for m in messages] == [(sent["MessageId"], "waiting")]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
    assert attributes["VisibilityTimeout"] == "600"
