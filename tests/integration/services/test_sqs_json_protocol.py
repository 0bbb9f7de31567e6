"""SQS's JSON protocol on the wire: malformed requests get AWS's JSON error shapes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import Message
from typing import Any

import pytest

from lambic.services.sqs import create_service


@pytest.fixture
def endpoint(start_edge: Any) -> str:
    return str(start_edge({"sqs": create_service(None)}).url)


def _post(endpoint: str, target: str, body: bytes) -> tuple[int, Message, dict[str, Any]]:
    request = urllib.request.Request(
        endpoint + "/",
        data=body,
        method="POST",
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_errors_carry_type_message_and_the_legacy_code_header(endpoint: str) -> None:
    status, headers, body = _post(
        endpoint, "AmazonSQS.GetQueueUrl", json.dumps({"QueueName": "nope"}).encode()
    )
    assert status == 400
    assert body == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist.",
    }
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("target", "body", "shape"),
    [
        ("AmazonSQS.ListQueues", b"{not json", "SerializationException"),
        ("AmazonSQS.ListQueues", b"[1, 2]", "SerializationException"),
        ("AmazonSQS.FlyToTheMoon", b"{}", "InvalidAction"),
        ("AmazonSQS.CreateQueue", b"{}", "MissingParameter"),
        (
            "AmazonSQS.SendMessageBatch",
            json.dumps({"QueueUrl": "/000000000000/q", "Entries": "x"}).encode(),
            "InvalidParameterValue",
        ),
        (
            "AmazonSQS.ReceiveMessage",
            json.dumps({"QueueUrl": "/000000000000/q", "MaxNumberOfMessages": "ten"}).encode(),
            "InvalidParameterValue",
        ),
        (
            "AmazonSQS.GetQueueAttributes",
            json.dumps({"QueueUrl": "/000000000000/q", "AttributeNames": "All"}).encode(),
            "InvalidParameterValue",
        ),
    ],
)
def test_malformed_requests_are_400s_in_aws_shape(
    endpoint: str, target: str, body: bytes, shape: str
) -> None:
    _post(endpoint, "AmazonSQS.CreateQueue", json.dumps({"QueueName": "q"}).encode())
    status, _, answer = _post(endpoint, target, body)
    assert status == 400
    assert answer["__type"] == f"com.amazonaws.sqs#{shape}"
    assert answer["message"]
