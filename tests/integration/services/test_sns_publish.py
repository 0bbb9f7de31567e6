"""SNS Publish through the edge with boto3, delivered to SQS, Lambda listeners and HTTP."""

from __future__ import annotations

import json
import queue
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import sns as sns_service
from lambic.services import sqs as sqs_service
from lambic.services.sns import LambdaDelivery, SnsService


class Clients:
    def __init__(self, sns: Any, sqs: Any, service: SnsService) -> None:
        self.sns = sns
        self.sqs = sqs
        self.service = service

    def queue(self, name: str, attributes: dict[str, str] | None = None) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes or {})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def bodies(self, url: str) -> list[str]:
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [m["Body"] for m in messages.get("Messages", [])]


@pytest.fixture
def c(start_edge: Any, make_client: Any) -> Clients:
    sqs = sqs_service.create_service(None)
    sns = sns_service.create_service(None, sqs=sqs)
    edge = start_edge({"sqs": sqs, "sns": sns})
    return Clients(make_client("sns", edge.url), make_client("sqs", edge.url), sns)


def _code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_publish_delivers_aws_envelope_to_sqs(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    sub = c.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    message_id = c.sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="Greeting",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "greeting"},
            "n": {"DataType": "Number", "StringValue": "3"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    )["MessageId"]
    [body] = c.bodies(url)
    envelope = json.loads(body)
    assert list(envelope) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic
    assert envelope["Message"] == "hello"
    assert envelope["SignatureVersion"] == "1"
    assert len(envelope["Timestamp"]) == 24 and envelope["Timestamp"].endswith("Z")
    assert envelope["UnsubscribeURL"].endswith(f"SubscriptionArn={sub}")
    assert envelope["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "greeting"},
        "n": {"Type": "Number", "Value": "3"},
        "raw": {"Type": "Binary", "Value": "AQI="},
    }


def test_subject_is_omitted_from_the_envelope_when_not_given(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    c.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    c.sns.publish(TopicArn=topic, Message="plain")
    envelope = json.loads(c.bodies(url)[0])
    assert "Subject" not in envelope
    assert "MessageAttributes" not in envelope


def test_unsubscribe_url_unsubscribes_with_a_plain_get(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    c.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    c.sns.publish(TopicArn=topic, Message="x")
    envelope = json.loads(c.bodies(url)[0])
    with urllib.request.urlopen(envelope["UnsubscribeURL"], timeout=5) as response:
        assert response.status == 200
    assert c.sns.list_subscriptions()["Subscriptions"] == []


def test_raw_delivery_sends_the_bare_message_with_sqs_attributes(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    c.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    c.sns.publish(
        TopicArn=topic,
        Message="raw body",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "k"}},
    )
    messages = c.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert messages[0]["Body"] == "raw body"
    assert messages[0]["MessageAttributes"] == {"kind": {"StringValue": "k", "DataType": "String"}}


def test_filter_policy_on_attributes_selects_subscribers(c: Clients) -> None:
    topic = c.sns.create_topic(Name="orders")["TopicArn"]
    big_url, big_arn = c.queue("big")
    eu_url, eu_arn = c.queue("eu")
    c.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=big_arn,
        Attributes={"FilterPolicy": json.dumps({"amount": [{"numeric": [">=", 100]}]})},
    )
    c.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=eu_arn,
        Attributes={"FilterPolicy": json.dumps({"region": [{"prefix": "eu-"}]})},
    )
    for amount, region in [(50, "eu-west"), (150, "us-east"), (500, "eu-central")]:
        c.sns.publish(
            TopicArn=topic,
            Message=f"{amount}-{region}",
            MessageAttributes={
                "amount": {"DataType": "Number", "StringValue": str(amount)},
                "region": {"DataType": "String", "StringValue": region},
            },
        )
    big = sorted(json.loads(b)["Message"] for b in c.bodies(big_url))
    eu = sorted(json.loads(b)["Message"] for b in c.bodies(eu_url))
    assert big == ["150-us-east", "500-eu-central"]
    assert eu == ["50-eu-west", "500-eu-central"]


def test_filter_policy_on_the_message_body(c: Clients) -> None:
    topic = c.sns.create_topic(Name="orders")["TopicArn"]
    url, arn = c.queue("paid")
    c.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps({"order": {"status": ["paid"]}}),
            "RawMessageDelivery": "true",
        },
    )
    c.sns.publish(TopicArn=topic, Message=json.dumps({"order": {"status": "paid", "id": 1}}))
    c.sns.publish(TopicArn=topic, Message=json.dumps({"order": {"status": "open", "id": 2}}))
    c.sns.publish(TopicArn=topic, Message="not json")
    assert [json.loads(b)["order"]["id"] for b in c.bodies(url)] == [1]


def test_message_structure_json_picks_the_per_protocol_message(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    c.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    c.sns.publish(
        TopicArn=topic,
        MessageStructure="json",
        Message=json.dumps({"default": "for everyone", "sqs": "for queues"}),
    )
    assert json.loads(c.bodies(url)[0])["Message"] == "for queues"
    for bad in ("not json", json.dumps({"sqs": "no default"})):
        with pytest.raises(ClientError) as caught:
            c.sns.publish(TopicArn=topic, MessageStructure="json", Message=bad)
        assert _code(caught.value) == "InvalidParameter"


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"Message": ""}, "InvalidParameter"),
        ({"Message": "x" * 262145}, "InvalidParameter"),
        ({"Message": "x", "Subject": "line\nbreak"}, "InvalidParameter"),
        ({"Message": "x", "Subject": "s" * 100}, "InvalidParameter"),
        (
            {
                "Message": "x",
                "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "z"}},
            },
            "ParameterValueInvalid",
        ),
        (
            {"Message": "x", "MessageAttributes": {"a": {"DataType": "Blob", "StringValue": "z"}}},
            "ParameterValueInvalid",
        ),
        ({"Message": "x", "MessageDeduplicationId": "d"}, "InvalidParameter"),
    ],
)
def test_bad_publishes_are_rejected_and_deliver_nothing(
    c: Clients, arguments: dict[str, Any], code: str
) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    c.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    with pytest.raises(ClientError) as caught:
        c.sns.publish(TopicArn=topic, **arguments)
    assert _code(caught.value) == code
    assert c.bodies(url) == []


def test_message_of_exactly_256_kib_is_accepted(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    assert c.sns.publish(TopicArn=topic, Message="x" * 262144)["MessageId"]


def test_fifo_topic_to_fifo_queue_keeps_order_and_deduplicates(c: Clients) -> None:
    topic = c.sns.create_topic(
        Name="orders.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    url, arn = c.queue("orders.fifo", {"FifoQueue": "true"})
    c.sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    first = c.sns.publish(TopicArn=topic, Message="one", MessageGroupId="g")
    again = c.sns.publish(TopicArn=topic, Message="one", MessageGroupId="g")
    c.sns.publish(TopicArn=topic, Message="two", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"]
    assert first["SequenceNumber"]
    assert c.bodies(url) == ["one", "two"]
    with pytest.raises(ClientError) as caught:
        c.sns.publish(TopicArn=topic, Message="no group")
    assert _code(caught.value) == "InvalidParameter"


def test_publish_batch_reports_each_entry(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    c.sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    result = c.sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "first"},
            {"Id": "b", "Message": ""},
            {
                "Id": "c",
                "Message": "third",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["a", "c"]
    assert result["Failed"] == [
        {
            "Id": "b",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: Empty message",
            "SenderFault": True,
        }
    ]
    assert sorted(c.bodies(url)) == ["first", "third"]
    with pytest.raises(ClientError) as caught:
        c.sns.publish_batch(
            TopicArn=topic,
            PublishBatchRequestEntries=[{"Id": "a", "Message": "1"}, {"Id": "a", "Message": "2"}],
        )
    assert _code(caught.value) == "BatchEntryIdsNotDistinct"
    with pytest.raises(ClientError) as caught:
        c.sns.publish_batch(
            TopicArn=topic,
            PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"} for i in range(11)],
        )
    assert _code(caught.value) == "TooManyEntriesInBatchRequest"


def test_lambda_subscriptions_reach_registered_listeners_with_the_lambda_event(c: Clients) -> None:
    heard: list[LambdaDelivery] = []
    c.service.engine.add_lambda_listener(heard.append)
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    function = "arn:aws:lambda:us-east-1:000000000000:function:app-dev-on_news"
    sub = c.sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)["SubscriptionArn"]
    c.sns.publish(
        TopicArn=topic,
        Message="hi",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    [delivery] = heard
    assert delivery.function_arn == function
    record = delivery.event["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == sub
    assert record["Sns"]["Message"] == "hi"
    assert record["Sns"]["Subject"] is None
    assert record["Sns"]["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}


class _Recorder(BaseHTTPRequestHandler):
    received: queue.Queue[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.put((dict(self.headers.items()), self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_endpoint() -> Iterator[tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]]:
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_http_subscription_is_confirmed_then_receives_notifications(
    c: Clients, http_endpoint: tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]
) -> None:
    endpoint, received = http_endpoint
    topic = c.sns.create_topic(Name="hooks")["TopicArn"]
    answer = c.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
    assert answer["SubscriptionArn"] == "pending confirmation"
    headers, body = received.get(timeout=5)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    confirmation = json.loads(body)
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == topic
    # Nothing is delivered while the subscription is pending.
    c.sns.publish(TopicArn=topic, Message="too early")
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=5) as response:
        assert response.status == 200
    [subscription] = c.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subscription["SubscriptionArn"].startswith(topic + ":")
    c.sns.publish(TopicArn=topic, Message="on time", Subject="S")
    headers, body = received.get(timeout=5)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == subscription["SubscriptionArn"]
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["Content-Type"] == "text/plain; charset=UTF-8"
    notification = json.loads(body)
    assert (notification["Message"], notification["Subject"]) == ("on time", "S")
    assert received.empty()
    c.sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    headers, body = received.get(timeout=5)
    assert headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
    assert json.loads(body)["Type"] == "UnsubscribeConfirmation"


def test_confirm_subscription_with_a_wrong_token_is_rejected(
    c: Clients, http_endpoint: tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]
) -> None:
    endpoint, received = http_endpoint
    topic = c.sns.create_topic(Name="hooks")["TopicArn"]
    c.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
    token = json.loads(received.get(timeout=5)[1])["Token"]
    with pytest.raises(ClientError) as caught:
        c.sns.confirm_subscription(TopicArn=topic, Token="wrong")
    assert _code(caught.value) == "InvalidParameter"
    arn = c.sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"]
    attributes = c.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"


def test_a_fifo_queue_cannot_subscribe_to_a_standard_topic(c: Clients) -> None:
    topic = c.sns.create_topic(Name="plain")["TopicArn"]
    _, arn = c.queue("orders.fifo", {"FifoQueue": "true"})
    with pytest.raises(ClientError) as caught:
        c.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    assert _code(caught.value) == "InvalidParameter"


def test_publish_accepts_target_arn_for_a_topic(c: Clients) -> None:
    topic = c.sns.create_topic(Name="news")["TopicArn"]
    url, arn = c.queue("inbox")
    c.sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    c.sns.publish(TargetArn=topic, Message="by target")
    assert c.bodies(url) == ["by target"]
