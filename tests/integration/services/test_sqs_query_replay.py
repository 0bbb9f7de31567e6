"""Replays the exact form bodies old botocore (1.29, query protocol) sent, over a socket.

Fixtures: tests/fixtures/sqs-query/ (see ORIGIN.md). Each answer must be the query
protocol's XML with the members old botocore's parser reads.
"""

from __future__ import annotations

import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from lambic.services.sqs import create_service

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sqs-query"
NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
_AUTH = (
    "AWS4-HMAC-SHA256 Credential=t/20230101/us-east-1/sqs/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, Signature=0"
)


@pytest.fixture
def replay(start_edge: Any) -> Any:
    edge = start_edge({"sqs": create_service(None)})

    def send(action: str) -> ET.Element:
        body = (FIXTURES / f"{action}.form").read_text().strip()
        body = body.replace("{endpoint}", quote(edge.url, safe=""))
        request = urllib.request.Request(
            edge.url + "/",
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Authorization": _AUTH,
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            root = ET.fromstring(response.read())
        assert root.tag == f"{{{NS['q']}}}{action}Response"
        assert root.findtext("q:ResponseMetadata/q:RequestId", namespaces=NS)
        return root

    return send


def _attributes(element: ET.Element, path: str) -> dict[str, str]:
    return {
        a.findtext("q:Name", namespaces=NS) or "": a.findtext("q:Value", namespaces=NS) or ""
        for a in element.findall(path, NS)
    }


def test_old_botocore_session_replays_end_to_end(replay: Any) -> None:
    url = replay("CreateQueue").findtext("q:CreateQueueResult/q:QueueUrl", namespaces=NS)
    assert url is not None and url.endswith("/000000000000/legacy")
    replay("SetQueueAttributes")
    got = _attributes(replay("GetQueueAttributes"), "q:GetQueueAttributesResult/q:Attribute")
    assert got == {"VisibilityTimeout": "20", "MaximumMessageSize": "2048"}

    sent = replay("SendMessage").find("q:SendMessageResult", NS)
    assert sent is not None
    assert sent.findtext("q:MD5OfMessageBody", namespaces=NS) == "5d41402abc4b2a76b9719d911017c592"
    assert sent.findtext("q:MD5OfMessageAttributes", namespaces=NS)
    assert sent.findtext("q:MD5OfMessageSystemAttributes", namespaces=NS)

    batch = replay("SendMessageBatch").find("q:SendMessageBatchResult", NS)
    assert batch is not None
    ids = [
        e.findtext("q:Id", namespaces=NS)
        for e in batch.findall("q:SendMessageBatchResultEntry", NS)
    ]
    assert ids == ["one", "two"]

    messages = replay("ReceiveMessage").findall("q:ReceiveMessageResult/q:Message", NS)
    assert sorted(m.findtext("q:Body", namespaces=NS) or "" for m in messages) == [
        "1",
        "2",
        "hello",
    ]
    hello = next(m for m in messages if m.findtext("q:Body", namespaces=NS) == "hello")
    assert _attributes(hello, "q:Attribute")["AWSTraceHeader"] == "Root=1-abc"
    binary = {
        a.findtext("q:Name", namespaces=NS): a.findtext("q:Value/q:BinaryValue", namespaces=NS)
        for a in hello.findall("q:MessageAttribute", NS)
    }
    assert binary["b"] == "AP8="

    replay("TagQueue")
    replay("UntagQueue")
    tags = replay("ListQueueTags").findall("q:ListQueueTagsResult/q:Tag", NS)
    assert [
        (t.findtext("q:Key", namespaces=NS), t.findtext("q:Value", namespaces=NS)) for t in tags
    ] == [("env", "dev")]
    listed = replay("ListQueues").findall("q:ListQueuesResult/q:QueueUrl", NS)
    assert [e.text for e in listed] == [url]
    assert replay("GetQueueUrl").findtext("q:GetQueueUrlResult/q:QueueUrl", namespaces=NS) == url
