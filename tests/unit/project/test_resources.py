"""`resources` in the config: every kind checked when the file is read, errors by JSON path."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from lambic.project.config import parse_config
from lambic.project.errors import ConfigError
from lambic.project.resources import (
    ResourceReference,
    handler_reference,
    parse_resources,
    public_read_policy,
    queue_attributes,
    stream_settings,
    undeclared,
    undeclared_message,
)

TABLE = {
    "TableName": "orders",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}
EVERY_KIND: dict[str, Any] = {
    "dynamodb_tables": [
        {**TABLE, "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
    ],
    "s3_buckets": [
        {"Bucket": "site", "Website": {"IndexDocument": "index.html"}, "PublicRead": True}
    ],
    "sqs_queues": [
        {
            "QueueName": "jobs.fifo",
            "Attributes": {
                "FifoQueue": "true",
                "VisibilityTimeout": "30",
                "RedrivePolicy": {"deadLetterTargetArn": "dlq.fifo", "maxReceiveCount": 5},
            },
        },
        {"QueueName": "dlq.fifo", "Attributes": {"FifoQueue": "true"}},
    ],
    "sns_topics": [
        {
            "Name": "alerts",
            "Attributes": {"DisplayName": "Alerts"},
            "Subscriptions": [{"Protocol": "sqs", "Endpoint": "copy"}],
        }
    ],
    "eventbridge_buses": [{"Name": "orders"}],
    "kinesis_streams": [
        {"StreamName": "clicks", "ShardCount": 2, "RetentionPeriodHours": 168},
        {"StreamName": "audit", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
    ],
}


def test_every_kind_is_read_and_dead_letter_queues_come_first() -> None:
    with_copy = {**EVERY_KIND, "sqs_queues": [*EVERY_KIND["sqs_queues"], {"QueueName": "copy"}]}
    declared = parse_resources(with_copy)
    assert declared.names("sqs_queues") == {"jobs.fifo", "dlq.fifo", "copy"}
    assert declared.names("eventbridge_buses") == {"orders"}
    assert declared.names("kinesis_streams") == {"clicks", "audit"}
    clicks, audit = declared.streams
    assert stream_settings(clicks) == ("PROVISIONED", 2, 168)
    assert stream_settings(audit) == ("ON_DEMAND", None, 24)
    assert [q["QueueName"] for q in declared.ordered_queues()] == ["dlq.fifo", "copy", "jobs.fifo"]
    # A stage's own `resources` is checked like the top level's.
    config = parse_config({"stages": {"prod": {"resources": with_copy}}})
    assert config.resources("prod").names("sns_topics") == {"alerts"}
    assert not config.resources("dev")


def _with(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        **EVERY_KIND,
        "sqs_queues": [*EVERY_KIND["sqs_queues"], {"QueueName": "copy"}],
        kind: [entry],
    }


@pytest.mark.parametrize(
    ("kind", "entry", "message"),
    [
        (
            "sqs_queues",
            {
                "QueueName": "jobs",
                "Attributes": {
                    "RedrivePolicy": {"deadLetterTargetArn": "nope", "maxReceiveCount": 3}
                },
            },
            "resources.sqs_queues[0].Attributes.RedrivePolicy.deadLetterTargetArn 'nope' is not "
            "a queue declared in resources.sqs_queues",
        ),
        (
            "sqs_queues",
            {"QueueName": "jobs", "Attributes": {"VisibilityTimeout": 30}},
            "resources.sqs_queues[0].Attributes.VisibilityTimeout must be a string",
        ),
        (
            "sqs_queues",
            {"QueueName": "jobs", "Attributes": {"Visibility": "30"}},
            "resources.sqs_queues[0].Attributes.Visibility is not an SQS queue attribute",
        ),
        (
            "sqs_queues",
            {"QueueName": "jobs.fifo"},
            "resources.sqs_queues[0].QueueName 'jobs.fifo' must be 1-80 letters",
        ),
        (
            "sqs_queues",
            {"QueueName": "jobs", "Attributes": {"RedrivePolicy": '{"deadLetterTargetArn": "x"}'}},
            "resources.sqs_queues[0].Attributes.RedrivePolicy.maxReceiveCount must be a number",
        ),
        (
            "sns_topics",
            {"Name": "t", "Subscriptions": [{"Protocol": "sqs", "Endpoint": "missing"}]},
            "resources.sns_topics[0].Subscriptions[0].Endpoint 'missing' is not a queue declared",
        ),
        (
            "sns_topics",
            {"Name": "t", "Subscriptions": [{"Protocol": "pigeon", "Endpoint": "x"}]},
            "resources.sns_topics[0].Subscriptions[0].Protocol must be one of",
        ),
        (
            "eventbridge_buses",
            {"Name": "default"},
            "resources.eventbridge_buses[0].Name must be 1-256 letters, digits and . - _ / "
            'and not "default"',
        ),
        (
            "dynamodb_tables",
            {**TABLE, "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "ALL"}},
            "resources.dynamodb_tables[0].StreamSpecification.StreamViewType must be one of",
        ),
        (
            "kinesis_streams",
            {"StreamName": "clicks"},
            "resources.kinesis_streams[0].ShardCount must be a whole number of shards (1 or "
            "more) for a provisioned stream",
        ),
        (
            "kinesis_streams",
            {"StreamName": "clicks", "ShardCount": "2"},
            "resources.kinesis_streams[0].ShardCount must be a whole number of shards",
        ),
        (
            "kinesis_streams",
            {"StreamName": "c", "ShardCount": 1, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
            "resources.kinesis_streams[0].ShardCount is for provisioned streams",
        ),
        (
            "kinesis_streams",
            {"StreamName": "c", "StreamModeDetails": {"StreamMode": "on-demand"}},
            'resources.kinesis_streams[0].StreamModeDetails must be {"StreamMode": "ON_DEMAND"}',
        ),
        (
            "kinesis_streams",
            {"StreamName": "c", "ShardCount": 1, "RetentionPeriodHours": 12},
            "resources.kinesis_streams[0].RetentionPeriodHours must be a whole number of hours "
            "from 24 to 8760",
        ),
        (
            "kinesis_streams",
            {"StreamName": "c/d", "ShardCount": 1},
            "resources.kinesis_streams[0].StreamName 'c/d' must be 1-128 letters, digits, _ . "
            "and -",
        ),
        (
            "kinesis_streams",
            {"StreamName": "c", "ShardCount": 1, "Tags": {"team": "a"}},
            "resources.kinesis_streams[0].Tags is not a stream setting",
        ),
        (
            "s3_buckets",
            {"Bucket": "site", "PublicRead": "yes"},
            "resources.s3_buckets[0].PublicRead must be true or false",
        ),
        (
            "s3_buckets",
            {"Bucket": "site", "Public": True},
            "resources.s3_buckets[0].Public is not a bucket setting",
        ),
        (
            "s3_buckets",
            {"Bucket": "site", "CORSConfiguration": {"CORSRules": [{"AllowedOrigins": ["*"]}]}},
            "resources.s3_buckets[0].CORSConfiguration.CORSRules[0].AllowedMethods must be a "
            "non-empty list",
        ),
    ],
)
def test_a_bad_entry_is_refused_naming_its_json_path(
    kind: str, entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config({"resources": _with(kind, entry)})


def test_a_standard_queue_cannot_redrive_to_a_fifo_queue() -> None:
    queues = [
        {
            "QueueName": "jobs",
            "Attributes": {
                "RedrivePolicy": {"deadLetterTargetArn": "dlq.fifo", "maxReceiveCount": 2}
            },
        },
        {"QueueName": "dlq.fifo", "Attributes": {"FifoQueue": "true"}},
    ]
    with pytest.raises(ConfigError, match=r"must be a standard queue, like 'jobs'"):
        parse_resources({"sqs_queues": queues})


def test_a_name_declared_twice_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"resources.sqs_queues\[1\].QueueName 'a' is declared twice"
    ):
        parse_resources({"sqs_queues": [{"QueueName": "a"}, {"QueueName": "a"}]})


def test_a_declared_dead_letter_queue_name_becomes_the_arn_each_side_gives() -> None:
    queue = EVERY_KIND["sqs_queues"][0]
    attributes = queue_attributes(queue, lambda name: f"arn:aws:sqs:r:1:{name}")
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:r:1:dlq.fifo",
        "maxReceiveCount": 5,
    }
    assert attributes["FifoQueue"] == "true"


def test_the_public_read_policy_grants_get_object_on_the_objects_only() -> None:
    assert public_read_policy("site")["Statement"] == [
        {
            "Sid": "PublicReadGetObject",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site/*",
        }
    ]


def test_handlers_naming_undeclared_resources_by_name_are_found_once() -> None:
    declared = parse_resources({"sqs_queues": [{"QueueName": "jobs"}]})
    references = [
        handler_reference("sqs", {"queue": "jobs"}, "a"),
        handler_reference("sqs", {"queue": "other"}, "b"),
        handler_reference("sqs", {"queue": "other"}, "c"),
        handler_reference("sns", {"topic": "arn:aws:sns:us-east-1:1:t"}, "d"),  # by ARN
        handler_reference("dynamodb", {"stream_arn": "orders"}, "e"),
        handler_reference("schedule", {}, "f"),
        handler_reference("kinesis", {"stream": "clicks"}, "g"),
        handler_reference("kinesis", {"stream": "arn:aws:kinesis:us-east-1:1:stream/x"}, "h"),
    ]
    found = undeclared(references, declared)
    assert found == [
        ResourceReference("sqs_queues", "other", "@app.on_sqs_message (b)"),
        ResourceReference("dynamodb_tables", "orders", "@app.on_dynamodb_record (e)"),
        ResourceReference("kinesis_streams", "clicks", "@app.on_kinesis_record (g)"),
    ]
    assert undeclared_message(found[0]) == (
        "@app.on_sqs_message (b) names queue 'other', which is not declared under "
        "resources.sqs_queues in .lambic/config.json: `lambic deploy` needs it to exist in "
        "the account already; declare it there to have deploy create it"
    )
    assert "declare it there (with its StreamSpecification)" in undeclared_message(found[1])
    assert undeclared_message(found[2]).startswith(
        "@app.on_kinesis_record (g) names Kinesis stream 'clicks', which is not declared under "
        "resources.kinesis_streams in .lambic/config.json: `lambic deploy` needs it"
    )


def test_dead_letter_chains_are_created_from_the_end() -> None:
    def redriving(name: str, target: str) -> dict[str, Any]:
        policy = {"deadLetterTargetArn": target, "maxReceiveCount": 2}
        return {"QueueName": name, "Attributes": {"RedrivePolicy": policy}}

    declared = parse_resources(
        {"sqs_queues": [redriving("a", "b"), redriving("b", "c"), {"QueueName": "c"}]}
    )
    assert [q["QueueName"] for q in declared.ordered_queues()] == ["c", "b", "a"]
