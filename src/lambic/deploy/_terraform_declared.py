"""Declared resources (`.lambic/config.json` `resources`) as Terraform JSON, for
`terraform.py`: `aws_dynamodb_table`, `aws_s3_bucket` (+ website, CORS, public access
block and policy), `aws_sqs_queue` (+ policy), `aws_sns_topic` (+ subscriptions),
`aws_cloudwatch_event_bus` and `aws_kinesis_stream`.
"""

from __future__ import annotations

import json
from typing import Any

from lambic.deploy._terraform_refs import literal, tf_name
from lambic.deploy.declared import (
    BucketResource,
    QueueResource,
    TopicResource,
    sns_queue_policy,
    terraform_stream,
    terraform_table,
)
from lambic.deploy.errors import ConfigError
from lambic.deploy.resources import ResourceGraph
from lambic.project.resources import public_read_policy

__all__ = ["add_declared"]


def add_declared(graph: ResourceGraph, add: Any) -> dict[str, str]:
    """The config's declared resources; returns each bucket's id reference by name."""
    for table in graph.tables:
        add(
            "aws_dynamodb_table",
            tf_name(table.name),
            terraform_table(json.loads(table.definition)),
        )
    references: dict[str, str] = {}
    for bucket in graph.buckets:
        references[bucket.name] = _bucket(bucket, add)
    for queue in graph.queues:
        _queue(queue, add)
    for topic in graph.topics:
        _topic(topic, add)
    for bus in graph.buses:
        add("aws_cloudwatch_event_bus", tf_name(bus.name), {"name": literal(bus.name)})
    for stream in graph.streams:
        body = terraform_stream(stream)
        add("aws_kinesis_stream", tf_name(stream.name), {**body, "name": literal(stream.name)})
    return references


def _bucket(bucket: BucketResource, add: Any) -> str:
    name = tf_name(bucket.name)
    reference = f"${{aws_s3_bucket.{name}.id}}"
    add("aws_s3_bucket", name, {"bucket": literal(bucket.name)})
    if bucket.index_document:
        add(
            "aws_s3_bucket_website_configuration",
            name,
            {"bucket": reference, "index_document": {"suffix": literal(bucket.index_document)}},
        )
    if bucket.cors:
        rules = []
        for rule in json.loads(bucket.cors)["CORSRules"]:
            spec = {
                arg: [literal(v) for v in rule[key]]
                for key, arg in _CORS_LISTS.items()
                if key in rule
            }
            if "MaxAgeSeconds" in rule:
                spec["max_age_seconds"] = rule["MaxAgeSeconds"]
            rules.append(spec)
        add("aws_s3_bucket_cors_configuration", name, {"bucket": reference, "cors_rule": rules})
    if bucket.public_read:
        # Block Public Access off for public policies on this bucket only (ACLs stay
        # blocked); the policy waits for it, as S3 refuses a public policy before.
        add(
            "aws_s3_bucket_public_access_block",
            name,
            {
                "bucket": reference,
                "block_public_acls": True,
                "ignore_public_acls": True,
                "block_public_policy": False,
                "restrict_public_buckets": False,
            },
        )
        add(
            "aws_s3_bucket_policy",
            name,
            {
                "bucket": reference,
                "policy": literal(json.dumps(public_read_policy(bucket.name))),
                "depends_on": [f"aws_s3_bucket_public_access_block.{name}"],
            },
        )
    return reference


_CORS_LISTS = {
    "AllowedHeaders": "allowed_headers",
    "AllowedMethods": "allowed_methods",
    "AllowedOrigins": "allowed_origins",
    "ExposeHeaders": "expose_headers",
}
# CreateQueue attribute → aws_sqs_queue argument (numbers and flags typed).
_QUEUE_ARGUMENTS: dict[str, tuple[str, Any]] = {
    "DelaySeconds": ("delay_seconds", int),
    "MaximumMessageSize": ("max_message_size", int),
    "MessageRetentionPeriod": ("message_retention_seconds", int),
    "ReceiveMessageWaitTimeSeconds": ("receive_wait_time_seconds", int),
    "VisibilityTimeout": ("visibility_timeout_seconds", int),
    "KmsMasterKeyId": ("kms_master_key_id", literal),
    "KmsDataKeyReusePeriodSeconds": ("kms_data_key_reuse_period_seconds", int),
    "SqsManagedSseEnabled": ("sqs_managed_sse_enabled", lambda v: v == "true"),
    "FifoQueue": ("fifo_queue", lambda v: v == "true"),
    "ContentBasedDeduplication": ("content_based_deduplication", lambda v: v == "true"),
    "DeduplicationScope": ("deduplication_scope", literal),
    "FifoThroughputLimit": ("fifo_throughput_limit", literal),
    "Policy": ("policy", literal),
    "RedriveAllowPolicy": ("redrive_allow_policy", literal),
}


def _queue(queue: QueueResource, add: Any) -> None:
    name = tf_name(queue.name)
    body: dict[str, Any] = {"name": literal(queue.name)}
    for key, value in queue.attributes:
        if key == "RedrivePolicy":
            policy = json.loads(value)
            if queue.dead_letter:
                dlq = f"aws_sqs_queue.{tf_name(queue.dead_letter)}.arn"
                count = int(policy["maxReceiveCount"])
                body["redrive_policy"] = (
                    f"${{jsonencode({{deadLetterTargetArn = {dlq}, maxReceiveCount = {count}}})}}"
                )
            else:
                body["redrive_policy"] = literal(value)
            continue
        argument, convert = _QUEUE_ARGUMENTS[key]
        body[argument] = convert(value)
    add("aws_sqs_queue", name, body)
    if queue.sns_sources and "policy" not in body:
        topics = [f"${{aws_sns_topic.{tf_name(t)}.arn}}" for t in queue.sns_sources]
        policy = sns_queue_policy(f"${{aws_sqs_queue.{name}.arn}}", topics)
        add(
            "aws_sqs_queue_policy",
            name,
            {"queue_url": f"${{aws_sqs_queue.{name}.id}}", "policy": json.dumps(policy)},
        )


# CreateTopic / Subscribe attributes → aws_sns_topic / aws_sns_topic_subscription arguments.
_TOPIC_ARGUMENTS: dict[str, tuple[str, Any]] = {
    "DisplayName": ("display_name", literal),
    "KmsMasterKeyId": ("kms_master_key_id", literal),
    "SignatureVersion": ("signature_version", int),
    "TracingConfig": ("tracing_config", literal),
    "FifoTopic": ("fifo_topic", lambda v: v == "true"),
    "ContentBasedDeduplication": ("content_based_deduplication", lambda v: v == "true"),
    "Policy": ("policy", literal),
    "DeliveryPolicy": ("delivery_policy", literal),
    "ArchivePolicy": ("archive_policy", literal),
}
_SUBSCRIPTION_ARGUMENTS: dict[str, tuple[str, Any]] = {
    "RawMessageDelivery": ("raw_message_delivery", lambda v: v == "true"),
    "FilterPolicy": ("filter_policy", literal),
    "FilterPolicyScope": ("filter_policy_scope", literal),
    "RedrivePolicy": ("redrive_policy", literal),
    "DeliveryPolicy": ("delivery_policy", literal),
    "SubscriptionRoleArn": ("subscription_role_arn", literal),
}


def _topic(topic: TopicResource, add: Any) -> None:
    name = tf_name(topic.name)
    body: dict[str, Any] = {"name": literal(topic.name)}
    for key, value in topic.attributes:
        if key not in _TOPIC_ARGUMENTS:
            raise ConfigError(
                f"topic {topic.name!r}: attribute {key} has no aws_sns_topic argument, so "
                "the Terraform output cannot set it; deploy with `lambic deploy` or drop it"
            )
        argument, convert = _TOPIC_ARGUMENTS[key]
        body[argument] = convert(value)
    add("aws_sns_topic", name, body)
    for index, subscription in enumerate(topic.subscriptions):
        endpoint = literal(subscription.endpoint)
        if subscription.queue:
            endpoint = f"${{aws_sqs_queue.{tf_name(subscription.queue)}.arn}}"
        sub: dict[str, Any] = {
            "topic_arn": f"${{aws_sns_topic.{name}.arn}}",
            "protocol": subscription.protocol,
            "endpoint": endpoint,
        }
        for key, value in subscription.attributes:
            if key not in _SUBSCRIPTION_ARGUMENTS:
                raise ConfigError(
                    f"topic {topic.name!r}: subscription attribute {key} has no "
                    "aws_sns_topic_subscription argument; deploy with `lambic deploy` or drop it"
                )
            argument, convert = _SUBSCRIPTION_ARGUMENTS[key]
            sub[argument] = convert(value)
        add("aws_sns_topic_subscription", f"{name}_subscription{index}", sub)
