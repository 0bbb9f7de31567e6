"""SNS topics and subscriptions management through the edge with boto3 (query protocol)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import sns as sns_service
from lambic.services import sqs as sqs_service


@pytest.fixture
def clients(start_edge: Any, make_client: Any) -> tuple[Any, Any]:
    sqs = sqs_service.create_service(None)
    edge = start_edge({"sqs": sqs, "sns": sns_service.create_service(None, sqs=sqs)})
    return make_client("sns", edge.url), make_client("sqs", edge.url)


@pytest.fixture
def sns(clients: tuple[Any, Any]) -> Any:
    return clients[0]


def _error(error: ClientError) -> tuple[str, int]:
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_topic_is_idempotent_and_listed(sns: Any) -> None:
    arn = sns.create_topic(Name="alerts")["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:000000000000:alerts"
    assert sns.create_topic(Name="alerts")["TopicArn"] == arn
    assert sns.list_topics()["Topics"] == [{"TopicArn": arn}]


def test_create_topic_with_different_attributes_is_rejected(sns: Any) -> None:
    sns.create_topic(Name="alerts", Attributes={"DisplayName": "one"})
    with pytest.raises(ClientError) as caught:
        sns.create_topic(Name="alerts", Attributes={"DisplayName": "two"})
    assert _error(caught.value) == ("InvalidParameter", 400)


@pytest.mark.parametrize(
    ("name", "attributes"),
    [("bad name", {}), ("x" * 257, {}), ("plain.fifo", {}), ("nofifo", {"FifoTopic": "true"})],
)
def test_invalid_topic_names_are_rejected(sns: Any, name: str, attributes: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        sns.create_topic(Name=name, Attributes=attributes)
    assert _error(caught.value) == ("InvalidParameter", 400)
    assert sns.list_topics()["Topics"] == []


def test_list_topics_pages_by_one_hundred(sns: Any) -> None:
    for i in range(105):
        sns.create_topic(Name=f"t{i:03d}")
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 5
    assert "NextToken" not in second


def test_topic_attributes_can_be_read_and_set(sns: Any) -> None:
    arn = sns.create_topic(Name="alerts")["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn
    assert attributes["Owner"] == "000000000000"
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Alerts")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Alerts"
    with pytest.raises(ClientError) as caught:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Bogus", AttributeValue="x")
    assert _error(caught.value) == ("InvalidParameter", 400)


def test_fifo_topic_carries_its_attributes(sns: Any) -> None:
    arn = sns.create_topic(
        Name="orders.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"


def test_missing_topic_answers_not_found_404(sns: Any) -> None:
    missing = "arn:aws:sns:us-east-1:000000000000:missing"
    calls: list[Callable[[], Any]] = [
        lambda: sns.get_topic_attributes(TopicArn=missing),
        lambda: sns.publish(TopicArn=missing, Message="x"),
        lambda: sns.subscribe(TopicArn=missing, Protocol="sqs", Endpoint="arn:aws:sqs:x:y:z"),
        lambda: sns.list_subscriptions_by_topic(TopicArn=missing),
    ]
    for call in calls:
        with pytest.raises(sns.exceptions.NotFoundException) as caught:
            call()
        assert _error(caught.value) == ("NotFound", 404)
        assert caught.value.response["Error"]["Message"] == "Topic does not exist"


def test_delete_topic_removes_it_and_its_subscriptions(sns: Any) -> None:
    arn = sns.create_topic(Name="gone")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q")
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # idempotent, as on AWS
    assert sns.list_topics()["Topics"] == []
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_tags_on_topics(sns: Any) -> None:
    arn = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "dev"), ("team", "a")]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as caught:
        sns.list_tags_for_resource(ResourceArn=arn + "-missing")
    assert _error(caught.value) == ("ResourceNotFound", 404)


def test_subscription_lifecycle_and_attributes(sns: Any) -> None:
    arn = sns.create_topic(Name="alerts")["TopicArn"]
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:q"
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    # Subscribing the same endpoint again returns the same subscription.
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"] == sub
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert listed == [
        {
            "SubscriptionArn": sub,
            "Owner": "000000000000",
            "Protocol": "sqs",
            "Endpoint": queue_arn,
            "TopicArn": arn,
        }
    ]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "false"
    assert attributes["PendingConfirmation"] == "false"
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    policy = json.dumps({"kind": ["a"]})
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert attributes["FilterPolicy"] == policy
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions()["Subscriptions"] == []
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_subscription_attributes(SubscriptionArn=sub)


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("carrier-pigeon", "x"),
        ("sqs", "not-an-arn"),
        ("lambda", "arn:aws:sqs:us-east-1:000000000000:q"),
        ("http", "https://127.0.0.1/x"),
        ("http", "http://example.com/hook"),
    ],
)
def test_bad_subscriptions_are_rejected(sns: Any, protocol: str, endpoint: str) -> None:
    arn = sns.create_topic(Name="alerts")["TopicArn"]
    with pytest.raises(ClientError) as caught:
        sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
    assert _error(caught.value) == ("InvalidParameter", 400)
    assert sns.list_subscriptions()["Subscriptions"] == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RawMessageDelivery", "maybe"),
        ("FilterPolicy", "{not json"),
        ("FilterPolicy", json.dumps({"a": "not-a-list"})),
        ("FilterPolicy", json.dumps({"a": [{"wildcard": "x"}]})),
        ("FilterPolicyScope", "Elsewhere"),
        ("Colour", "blue"),
    ],
)
def test_bad_subscription_attributes_are_rejected_and_change_nothing(
    sns: Any, name: str, value: str
) -> None:
    arn = sns.create_topic(Name="alerts")["TopicArn"]
    sub = sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q"
    )["SubscriptionArn"]
    before = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    with pytest.raises(ClientError) as caught:
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName=name, AttributeValue=value
        )
    assert _error(caught.value) == ("InvalidParameter", 400)
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"] == before


def test_add_and_remove_permission_edit_the_topic_policy(sns: Any) -> None:
    arn = sns.create_topic(Name="shared")["TopicArn"]
    sns.add_permission(
        TopicArn=arn, Label="pub", AWSAccountId=["111122223333"], ActionName=["Publish"]
    )
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    added = [st for st in policy["Statement"] if st["Sid"] == "pub"]
    assert added == [
        {
            "Sid": "pub",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
            "Action": ["SNS:Publish"],
            "Resource": arn,
        }
    ]
    sns.remove_permission(TopicArn=arn, Label="pub")
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert [st["Sid"] for st in policy["Statement"]] == ["__default_statement_ID"]
    with pytest.raises(ClientError) as caught:
        sns.remove_permission(TopicArn=arn, Label="pub")
    assert _error(caught.value) == ("InvalidParameter", 400)


def test_a_fifo_queue_cannot_subscribe_to_a_standard_topic(
    clients: tuple[Any, Any],
) -> None:
    sns, sqs = clients
    topic = sns.create_topic(Name="plain")["TopicArn"]
    url = sqs.create_queue(QueueName="ordered.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    with pytest.raises(ClientError) as caught:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"
    # AWS's own wording repeats its prefix here.
    assert caught.value.response["Error"]["Message"] == (
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
        "subscribed to standard SNS topics"
    )
