"""Declared resources (`resources` in `.lambic/config.json`): what the app owns on AWS.

docs/internals.md §4: each entry is its kind's AWS create request (checked by
`lambic.project.resources`). They become `TableResource`, `BucketResource`,
`QueueResource`, `TopicResource`, `BusResource` and `StreamResource` in the graph;
SAM maps them onto `AWS::DynamoDB::Table`, `AWS::S3::Bucket` (+
`AWS::S3::BucketPolicy`), `AWS::SQS::Queue` (+ `AWS::SQS::QueuePolicy`),
`AWS::SNS::Topic` (+ `AWS::SNS::Subscription`), `AWS::Events::EventBus` and
`AWS::Kinesis::Stream`; Terraform onto the matching `aws_*` resources; `lambic deploy`
creates them before the functions.

A queue that a declared topic delivers to (an `sqs` subscription) gets a queue policy
letting that topic send to it, as SNS needs on AWS (`sns_queue_policy`), unless the
entry sets its own `Policy`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambic.project.resources import (
    DeclaredResources,
    queue_attributes,
    redrive_target,
    stream_settings,
)


@dataclass(frozen=True)
class TableResource:
    name: str
    definition: str  # canonical JSON of the CreateTable request


@dataclass(frozen=True)
class BucketResource:
    name: str
    index_document: str | None
    cors: str | None = None  # canonical JSON of the CORSConfiguration
    public_read: bool = False


@dataclass(frozen=True)
class QueueResource:
    name: str
    #: The CreateQueue attributes as declared (a dead-letter queue still by name).
    attributes: tuple[tuple[str, str], ...]
    dead_letter: str | None  # a declared queue's name, resolved to its ARN by each side
    #: Declared topics with an `sqs` subscription to this queue (its policy allows them).
    sns_sources: tuple[str, ...] = ()

    @property
    def fifo(self) -> bool:
        return dict(self.attributes).get("FifoQueue") == "true"


@dataclass(frozen=True)
class SubscriptionSpec:
    protocol: str
    endpoint: str  # a declared queue's name (protocol sqs) or as given
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def queue(self) -> str | None:
        """The declared queue this subscription delivers to, if any."""
        if self.protocol == "sqs" and not self.endpoint.startswith("arn:"):
            return self.endpoint
        return None


@dataclass(frozen=True)
class TopicResource:
    name: str
    attributes: tuple[tuple[str, str], ...]
    subscriptions: tuple[SubscriptionSpec, ...] = ()


@dataclass(frozen=True)
class BusResource:
    name: str


@dataclass(frozen=True)
class StreamResource:
    """A Kinesis stream: `shard_count` None for an on-demand one."""

    name: str
    mode: str  # "PROVISIONED" | "ON_DEMAND"
    shard_count: int | None
    retention_hours: int


def declared_tables(declared: DeclaredResources) -> tuple[TableResource, ...]:
    """The declared tables (already checked by `lambic.project.resources`)."""
    return tuple(
        TableResource(
            str(entry["TableName"]), json.dumps(entry, sort_keys=True, separators=(",", ":"))
        )
        for entry in declared.tables
    )


def declared_buckets(declared: DeclaredResources) -> tuple[BucketResource, ...]:
    """The declared buckets with their website, CORS and public-read settings."""
    return tuple(
        BucketResource(
            str(entry["Bucket"]),
            DeclaredResources.index_document(entry),
            _canonical(entry["CORSConfiguration"]) if entry.get("CORSConfiguration") else None,
            DeclaredResources.public_read(entry),
        )
        for entry in declared.buckets
    )


def declared_topics(declared: DeclaredResources) -> tuple[TopicResource, ...]:
    return tuple(
        TopicResource(
            str(entry["Name"]),
            tuple(sorted((str(k), str(v)) for k, v in (entry.get("Attributes") or {}).items())),
            tuple(
                SubscriptionSpec(
                    str(sub["Protocol"]),
                    str(sub["Endpoint"]),
                    tuple(
                        sorted((str(k), str(v)) for k, v in (sub.get("Attributes") or {}).items())
                    ),
                )
                for sub in entry.get("Subscriptions") or []
            ),
        )
        for entry in declared.topics
    )


def declared_queues(declared: DeclaredResources) -> tuple[QueueResource, ...]:
    """The declared queues, every dead-letter queue before the queues using it."""
    topics = declared_topics(declared)
    queues = []
    for entry in declared.ordered_queues():
        name = str(entry["QueueName"])
        # Resolved to a placeholder here; each side resolves the name to its own ARN.
        attributes = queue_attributes(entry, lambda dlq: dlq)
        target = redrive_target(entry)
        queues.append(
            QueueResource(
                name,
                tuple(sorted(attributes.items())),
                target if target and not target.startswith("arn:") else None,
                tuple(t.name for t in topics if any(s.queue == name for s in t.subscriptions)),
            )
        )
    return tuple(queues)


def declared_buses(declared: DeclaredResources) -> tuple[BusResource, ...]:
    return tuple(BusResource(str(entry["Name"])) for entry in declared.buses)


def declared_streams(declared: DeclaredResources) -> tuple[StreamResource, ...]:
    return tuple(
        StreamResource(str(entry["StreamName"]), *stream_settings(entry))
        for entry in declared.streams
    )


def cfn_stream_properties(stream: StreamResource) -> dict[str, Any]:
    """`AWS::Kinesis::Stream` properties (a ShardCount only for a provisioned stream)."""
    properties: dict[str, Any] = {
        "Name": stream.name,
        "StreamModeDetails": {"StreamMode": stream.mode},
        "RetentionPeriodHours": stream.retention_hours,
    }
    if stream.shard_count is not None:
        properties["ShardCount"] = stream.shard_count
    return properties


def terraform_stream(stream: StreamResource) -> dict[str, Any]:
    """`aws_kinesis_stream` arguments (`shard_count` only for a provisioned stream)."""
    body: dict[str, Any] = {
        "name": stream.name,
        "retention_period": stream.retention_hours,
        "stream_mode_details": {"stream_mode": stream.mode},
    }
    if stream.shard_count is not None:
        body["shard_count"] = stream.shard_count
    return body


def queue_attributes_with(queue: QueueResource, dead_letter_arn: Any) -> dict[str, Any]:
    """The queue's attributes with its declared dead-letter queue's ARN put in.

    `dead_letter_arn` is the ARN (a string for boto3) or an emitter's reference; the
    RedrivePolicy is returned as an object for SAM/Terraform to encode, and as a JSON
    string when the ARN is a string (SQS's own form).
    """
    attributes: dict[str, Any] = dict(queue.attributes)
    if queue.dead_letter and "RedrivePolicy" in attributes:
        policy = json.loads(attributes["RedrivePolicy"])
        policy["deadLetterTargetArn"] = dead_letter_arn
        attributes["RedrivePolicy"] = (
            json.dumps(policy) if isinstance(dead_letter_arn, str) else policy
        )
    return attributes


def sns_queue_policy(queue_arn: Any, topic_arns: list[Any]) -> dict[str, Any]:
    """Lets the given topics (and only them) send to the queue, as SNS needs on AWS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowDeclaredTopics",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arns}},
            }
        ],
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def cfn_table_properties(definition: dict[str, Any]) -> dict[str, Any]:
    """CreateTable request → `AWS::DynamoDB::Table` properties (the same names, mostly)."""
    same = (
        "TableName",
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "Tags",
        "TableClass",
        "DeletionProtectionEnabled",
    )
    properties = {key: definition[key] for key in same if key in definition}
    stream = definition.get("StreamSpecification")
    if stream and stream.get("StreamEnabled", True) and stream.get("StreamViewType"):
        # CloudFormation has no StreamEnabled: a view type enables the stream.
        properties["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
    sse = definition.get("SSESpecification")
    if sse:
        properties["SSESpecification"] = {
            "SSEEnabled": bool(sse.get("Enabled", False)),
            **{k: sse[k] for k in ("SSEType", "KMSMasterKeyId") if k in sse},
        }
    return properties


def terraform_table(definition: dict[str, Any]) -> dict[str, Any]:
    """CreateTable request → `aws_dynamodb_table` arguments."""
    keys = {k["KeyType"]: k["AttributeName"] for k in definition["KeySchema"]}
    body: dict[str, Any] = {
        "name": definition["TableName"],
        "billing_mode": definition.get("BillingMode", "PROVISIONED"),
        "hash_key": keys["HASH"],
        "attribute": [
            {"name": a["AttributeName"], "type": a["AttributeType"]}
            for a in definition["AttributeDefinitions"]
        ],
    }
    if "RANGE" in keys:
        body["range_key"] = keys["RANGE"]
    throughput = definition.get("ProvisionedThroughput")
    if throughput:
        body["read_capacity"] = throughput["ReadCapacityUnits"]
        body["write_capacity"] = throughput["WriteCapacityUnits"]
    stream = definition.get("StreamSpecification")
    if stream and stream.get("StreamEnabled", True) and stream.get("StreamViewType"):
        body["stream_enabled"] = True
        body["stream_view_type"] = stream["StreamViewType"]
    indexes = []
    for index in definition.get("GlobalSecondaryIndexes", []):
        index_keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
        spec: dict[str, Any] = {
            "name": index["IndexName"],
            "hash_key": index_keys["HASH"],
            "projection_type": index.get("Projection", {}).get("ProjectionType", "ALL"),
        }
        if "RANGE" in index_keys:
            spec["range_key"] = index_keys["RANGE"]
        if index.get("Projection", {}).get("NonKeyAttributes"):
            spec["non_key_attributes"] = index["Projection"]["NonKeyAttributes"]
        indexes.append(spec)
    if indexes:
        body["global_secondary_index"] = indexes
    return body
