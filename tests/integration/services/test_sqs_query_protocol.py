"""SQS's query protocol as older SDKs speak it: form POSTs in, XML out, over a real socket.

The requests are shaped like botocore's before SQS moved to JSON (botocore < 1.31):
`Action`/`Version` plus flattened members (`Attribute.1.Name`,
`MessageAttribute.1.Value.DataType`, `SendMessageBatchRequestEntry.1.Id`).
"""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest

from lambic.services.sqs import create_service

NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)


@pytest.fixture
def endpoint(start_edge: Any) -> str:
    return str(start_edge({"sqs": create_service(None)}).url)


def _call(url: str, fields: list[tuple[str, str]]) -> tuple[int, ET.Element]:
    body = urlencode([*fields, ("Version", "2012-11-05")]).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": _AUTH,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, ET.fromstring(response.read())
    except urllib.error.HTTPError as error:
        return error.code, ET.fromstring(error.read())


def _text(root: ET.Element, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None, path
    return found.text or ""


def _create(endpoint: str, name: str, *attributes: tuple[str, str]) -> str:
    fields = [("Action", "CreateQueue"), ("QueueName", name)]
    for i, (key, value) in enumerate(attributes, 1):
        fields += [(f"Attribute.{i}.Name", key), (f"Attribute.{i}.Value", value)]
    status, root = _call(endpoint, fields)
    assert status == 200
    return _text(root, "q:CreateQueueResult/q:QueueUrl")


def test_create_send_receive_delete_round_trip_in_xml(endpoint: str) -> None:
    url = _create(endpoint, "legacy", ("VisibilityTimeout", "40"))
    assert url == f"{endpoint}/000000000000/legacy"
    status, root = _call(
        endpoint,
        [
            ("Action", "SendMessage"),
            ("QueueUrl", url),
            ("MessageBody", "line1\r\nline2 <&>"),
            ("MessageAttribute.1.Name", "colour"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.1.Value.StringValue", "blue"),
        ],
    )
    assert status == 200
    message_id = _text(root, "q:SendMessageResult/q:MessageId")
    md5_attributes = _text(root, "q:SendMessageResult/q:MD5OfMessageAttributes")
    assert root.find("q:ResponseMetadata/q:RequestId", NS) is not None

    status, root = _call(
        endpoint,
        [
            ("Action", "ReceiveMessage"),
            ("QueueUrl", url),
            ("AttributeName.1", "All"),
            ("MessageAttributeName.1", "All"),
        ],
    )
    message = root.find("q:ReceiveMessageResult/q:Message", NS)
    assert message is not None
    assert _text(message, "q:MessageId") == message_id
    assert _text(message, "q:Body") == "line1\r\nline2 <&>"
    assert _text(message, "q:MD5OfMessageAttributes") == md5_attributes
    names = {_text(a, "q:Name"): _text(a, "q:Value") for a in message.findall("q:Attribute", NS)}
    assert names["ApproximateReceiveCount"] == "1"
    attribute = message.find("q:MessageAttribute", NS)
    assert attribute is not None
    assert _text(attribute, "q:Name") == "colour"
    assert _text(attribute, "q:Value/q:StringValue") == "blue"
    assert _text(attribute, "q:Value/q:DataType") == "String"

    handle = _text(message, "q:ReceiptHandle")
    status, root = _call(
        endpoint, [("Action", "DeleteMessage"), ("QueueUrl", url), ("ReceiptHandle", handle)]
    )
    assert status == 200
    assert root.tag == f"{{{NS['q']}}}DeleteMessageResponse"


def test_errors_use_the_legacy_codes_in_an_error_response(endpoint: str) -> None:
    status, root = _call(endpoint, [("Action", "GetQueueUrl"), ("QueueName", "missing")])
    assert status == 400
    assert root.tag == f"{{{NS['q']}}}ErrorResponse"
    assert _text(root, "q:Error/q:Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert _text(root, "q:Error/q:Type") == "Sender"
    assert root.find("q:RequestId", NS) is not None


def test_unknown_action_is_invalid_action(endpoint: str) -> None:
    status, root = _call(endpoint, [("Action", "FlyToTheMoon")])
    assert status == 400
    assert _text(root, "q:Error/q:Code") == "InvalidAction"


def test_posting_to_the_queue_url_addresses_that_queue(endpoint: str) -> None:
    url = _create(endpoint, "by-path")
    status, _ = _call(url, [("Action", "SendMessage"), ("MessageBody", "x")])
    assert status == 200
    status, root = _call(url, [("Action", "GetQueueAttributes"), ("AttributeName.1", "All")])
    attributes = {
        _text(a, "q:Name"): _text(a, "q:Value")
        for a in root.findall("q:GetQueueAttributesResult/q:Attribute", NS)
    }
    assert attributes["ApproximateNumberOfMessages"] == "1"


def test_batches_and_list_queues_in_xml(endpoint: str) -> None:
    url = _create(endpoint, "batchy")
    status, root = _call(
        endpoint,
        [
            ("Action", "SendMessageBatch"),
            ("QueueUrl", url),
            ("SendMessageBatchRequestEntry.1.Id", "ok"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "fine"),
            ("SendMessageBatchRequestEntry.2.Id", "bad"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "\x00"),
        ],
    )
    assert status == 200
    result = root.find("q:SendMessageBatchResult", NS)
    assert result is not None
    assert _text(result, "q:SendMessageBatchResultEntry/q:Id") == "ok"
    assert _text(result, "q:BatchResultErrorEntry/q:Id") == "bad"
    assert _text(result, "q:BatchResultErrorEntry/q:SenderFault") == "true"
    assert _text(result, "q:BatchResultErrorEntry/q:Code") == "InvalidMessageContents"
    status, root = _call(endpoint, [("Action", "ListQueues"), ("QueueNamePrefix", "bat")])
    urls = [e.text for e in root.findall("q:ListQueuesResult/q:QueueUrl", NS)]
    assert urls == [url]


def test_tags_use_flattened_key_value_members(endpoint: str) -> None:
    url = _create(endpoint, "tagged")
    _call(
        endpoint,
        [("Action", "TagQueue"), ("QueueUrl", url), ("Tag.1.Key", "env"), ("Tag.1.Value", "dev")],
    )
    status, root = _call(endpoint, [("Action", "ListQueueTags"), ("QueueUrl", url)])
    assert status == 200
    tag = root.find("q:ListQueueTagsResult/q:Tag", NS)
    assert tag is not None
    assert (_text(tag, "q:Key"), _text(tag, "q:Value")) == ("env", "dev")
