"""Sending, receiving, deleting and redriving SQS messages through the edge with boto3."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.sqs import create_service


@pytest.fixture
def sqs(start_edge: Any, make_client: Any) -> Any:
    edge = start_edge({"sqs": create_service(None)})
    return make_client("sqs", edge.url)


@pytest.fixture
def queue(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="jobs")["QueueUrl"])


def _code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


ATTRIBUTES = {
    "city": {"DataType": "String", "StringValue": "Zürich"},
    "count": {"DataType": "Number", "StringValue": "42"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    "kind": {"DataType": "String.custom", "StringValue": "x"},
}


def test_message_attributes_round_trip_with_aws_md5s(sqs: Any, queue: str) -> None:
    sent = sqs.send_message(QueueUrl=queue, MessageBody="hello", MessageAttributes=ATTRIBUTES)
    # Known value: AWS's digest for these four attributes, computed by AWS's algorithm.
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert len(sent["MD5OfMessageAttributes"]) == 32
    received = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert len(received) == 1
    message = received[0]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "hello"
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01\xff"
    assert message["MessageAttributes"]["city"]["StringValue"] == "Zürich"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert set(message["Attributes"]) >= {
        "SenderId",
        "SentTimestamp",
        "ApproximateFirstReceiveTimestamp",
    }


def test_receive_returns_only_the_attributes_asked_for(sqs: Any, queue: str) -> None:
    geo = {
        "geo.city": {"DataType": "String", "StringValue": "Bern"},
        "geo.zip": {"DataType": "Number", "StringValue": "3000"},
        "geography": {"DataType": "String", "StringValue": "no"},
        "count": {"DataType": "Number", "StringValue": "1"},
        "other": {"DataType": "String", "StringValue": "no"},
    }
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=geo)
    message = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["geo.*", "count"], AttributeNames=["SentTimestamp"]
    )["Messages"][0]
    # "prefix.*" matches names starting with "prefix." (the dot included), as on AWS.
    assert set(message["MessageAttributes"]) == {"geo.city", "geo.zip", "count"}
    assert set(message["Attributes"]) == {"SentTimestamp"}
    sqs.send_message(QueueUrl=queue, MessageBody="y", MessageAttributes=ATTRIBUTES)
    bare = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert "MessageAttributes" not in bare
    assert "Attributes" not in bare


@pytest.mark.parametrize(
    ("body", "attributes", "code"),
    [
        ("bad \x00 char", {}, "InvalidMessageContents"),
        ("", {}, "MissingParameter"),
        ("x", {"n": {"DataType": "Number", "StringValue": "abc"}}, "InvalidParameterValue"),
        ("x", {"n": {"DataType": "Float", "StringValue": "1"}}, "InvalidParameterValue"),
        ("x", {"AWS.x": {"DataType": "String", "StringValue": "1"}}, "InvalidParameterValue"),
        (
            "x",
            {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
            "InvalidParameterValue",
        ),
    ],
)
def test_bad_messages_are_rejected_and_not_enqueued(
    sqs: Any, queue: str, body: str, attributes: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=attributes)
    assert _code(caught.value) == code
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_message_size_limit_follows_maximum_message_size(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=url, MessageBody="a" * 1025)
    assert _code(caught.value) == "InvalidParameterValue"
    assert "shorter than 1024 bytes" in caught.value.response["Error"]["Message"]


def test_visibility_timeout_hides_a_message_until_it_expires(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    first = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    again = sqs.receive_message(
        QueueUrl=queue, WaitTimeSeconds=3, AttributeNames=["ApproximateReceiveCount"]
    )["Messages"][0]
    assert again["MessageId"] == first["MessageId"]
    assert again["ReceiptHandle"] != first["ReceiptHandle"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_change_visibility_releases_a_message_and_rejects_one_not_in_flight(
    sqs: Any, queue: str
) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=queue)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=0)
    newer = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"][0]
    with pytest.raises(ClientError) as caught:
        sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=newer["ReceiptHandle"], VisibilityTimeout=10
        )
    assert _code(caught.value) == "AWS.SimpleQueueService.MessageNotInflight"


def test_delete_with_a_malformed_receipt_handle_fails_and_deletes_nothing(
    sqs: Any, queue: str
) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle="not-a-handle")
    message = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    # Deleting an already-deleted message succeeds on AWS.
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_delay_seconds_holds_a_message_back(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=1)
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    started = time.monotonic()
    message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]
    assert message["Body"] == "later"
    assert time.monotonic() - started < 3
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=queue, MessageBody="x", DelaySeconds=901)
    assert _code(caught.value) == "InvalidParameterValue"


def test_long_poll_returns_as_soon_as_a_message_is_sent(
    sqs: Any, queue: str, make_client: Any
) -> None:
    other = make_client("sqs", sqs.meta.endpoint_url)
    timer = threading.Timer(0.5, lambda: other.send_message(QueueUrl=queue, MessageBody="now"))
    started = time.monotonic()
    timer.start()
    try:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)["Messages"]
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert messages[0]["Body"] == "now"
    assert 0.4 < elapsed < 3


def test_long_poll_with_nothing_sent_returns_empty_after_the_wait(sqs: Any, queue: str) -> None:
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
    assert 0.9 < time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"MaxNumberOfMessages": 11}, "MaxNumberOfMessages"),
        ({"WaitTimeSeconds": 21}, "WaitTimeSeconds"),
        ({"VisibilityTimeout": 43201}, "VisibilityTimeout"),
    ],
)
def test_receive_parameters_out_of_range_are_rejected(
    sqs: Any, queue: str, arguments: dict[str, int], parameter: str
) -> None:
    with pytest.raises(ClientError) as caught:
        sqs.receive_message(QueueUrl=queue, **arguments)
    assert _code(caught.value) == "InvalidParameterValue"
    assert parameter in caught.value.response["Error"]["Message"]


def test_send_batch_reports_per_entry_failures(sqs: Any, queue: str) -> None:
    result = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "bad\x01"},
            {"Id": "c", "MessageBody": "three", "DelaySeconds": 0},
        ],
    )
    assert [entry["Id"] for entry in result["Successful"]] == ["a", "c"]
    assert result["Failed"][0]["Id"] == "b"
    assert result["Failed"][0]["SenderFault"] is True
    assert result["Failed"][0]["Code"] == "InvalidMessageContents"
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in messages) == ["one", "three"]


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        (
            [{"Id": str(i), "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        (
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        ([{"Id": "no spaces", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    ],
)
def test_malformed_batches_fail_whole(
    sqs: Any, queue: str, entries: list[dict[str, str]], code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert _code(caught.value) == code
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_delete_and_change_visibility_batches(sqs: Any, queue: str) -> None:
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)]
    )
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 3
    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "keep", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 60},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 60},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["keep"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": f"m{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ],
    )
    assert len(deleted["Successful"]) == 3
    assert deleted["Failed"] == []


def test_message_moves_to_dead_letter_queue_after_max_receive_count(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    source = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sent = sqs.send_message(QueueUrl=source, MessageBody="poison")
    for _ in range(2):
        got = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]
        assert got[0]["MessageId"] == sent["MessageId"]
    # The third receive would exceed maxReceiveCount: AWS moves it instead.
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    dead = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"
    assert dead["Attributes"]["DeadLetterQueueSourceArn"].endswith(":work")


def test_aws_trace_header_is_the_only_settable_system_attribute(sqs: Any, queue: str) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody="traced",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    assert len(sent["MD5OfMessageSystemAttributes"]) == 32
    message = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["AWSTraceHeader"])[
        "Messages"
    ][0]
    assert message["Attributes"] == {"AWSTraceHeader": trace}
    with pytest.raises(ClientError) as caught:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody="x",
            MessageSystemAttributes={"SenderId": {"DataType": "String", "StringValue": "me"}},
        )
    assert _code(caught.value) == "InvalidParameterValue"


def test_a_waiting_long_poll_does_not_hold_up_other_requests(
    sqs: Any, queue: str, make_client: Any
) -> None:
    pollers = [make_client("sqs", sqs.meta.endpoint_url) for _ in range(3)]
    threads = [
        threading.Thread(target=lambda c=c: c.receive_message(QueueUrl=queue, WaitTimeSeconds=3))
        for c in pollers
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    for _ in range(20):
        sqs.get_queue_url(QueueName="jobs")
    elapsed = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=10)
    # Three polls are parked on the edge's event loop; other calls still answer at once.
    assert elapsed < 2
