"""SQS FIFO queues through the edge with boto3: groups, ordering, deduplication."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.sqs import create_service


@pytest.fixture
def sqs(start_edge: Any, make_client: Any) -> Any:
    edge = start_edge({"sqs": create_service(None)})
    return make_client("sqs", edge.url)


@pytest.fixture
def fifo(sqs: Any) -> str:
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    return str(sqs.create_queue(QueueName="orders.fifo", Attributes=attributes)["QueueUrl"])


def _code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_fifo_queue_reports_its_fifo_attributes(sqs: Any, fifo: str) -> None:
    attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"


def test_group_with_a_message_in_flight_blocks_only_that_group(sqs: Any, fifo: str) -> None:
    for group, body in [("a", "a1"), ("a", "a2"), ("b", "b1")]:
        sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=fifo)["Messages"][0]
    assert first["Body"] == "a1"
    # a2 waits behind a1 (in flight); group b is free.
    second = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in second] == ["b1"]
    sqs.delete_message(QueueUrl=fifo, ReceiptHandle=first["ReceiptHandle"])
    third = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in third] == ["a2"]


def test_a_batch_returns_a_groups_messages_in_order(sqs: Any, fifo: str) -> None:
    for i in range(5):
        sqs.send_message(QueueUrl=fifo, MessageBody=f"m{i}", MessageGroupId="g")
    messages = sqs.receive_message(
        QueueUrl=fifo, MaxNumberOfMessages=10, AttributeNames=["SequenceNumber", "MessageGroupId"]
    )["Messages"]
    assert [m["Body"] for m in messages] == [f"m{i}" for i in range(5)]
    sequences = [int(m["Attributes"]["SequenceNumber"]) for m in messages]
    assert sequences == sorted(sequences)
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"g"}


def test_content_based_deduplication_drops_a_repeat_within_five_minutes(
    sqs: Any, fifo: str
) -> None:
    first = sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
    second = sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
    assert second["MessageId"] == first["MessageId"]
    assert second["SequenceNumber"] == first["SequenceNumber"]
    messages = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1


def test_explicit_deduplication_id_wins_over_content(sqs: Any, fifo: str) -> None:
    sqs.send_message(
        QueueUrl=fifo, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    sqs.send_message(
        QueueUrl=fifo, MessageBody="two", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    sqs.send_message(
        QueueUrl=fifo, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d2"
    )
    messages = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["one", "one"]


def test_fifo_sends_need_a_group_and_a_deduplication_source(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="plain.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert _code(caught.value) == "MissingParameter"
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert _code(caught.value) == "InvalidParameterValue"
    with pytest.raises(ClientError) as caught:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageGroupId="g",
            MessageDeduplicationId="d",
            DelaySeconds=5,
        )
    assert _code(caught.value) == "InvalidParameterValue"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_standard_queue_rejects_a_deduplication_id(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="std")["QueueUrl"]
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert _code(caught.value) == "InvalidParameterValue"


def test_fifo_dead_letter_queue_must_be_fifo(sqs: Any, fifo: str) -> None:
    standard = sqs.create_queue(QueueName="std-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with pytest.raises(ClientError) as caught:
        sqs.set_queue_attributes(
            QueueUrl=fifo,
            Attributes={"RedrivePolicy": f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":1}}'},
        )
    assert _code(caught.value) == "InvalidParameterValue"
