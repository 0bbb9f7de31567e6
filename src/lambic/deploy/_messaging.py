"""Executor handlers for declared queues, topics and event buses (docs/internals.md §4).

Queues are created with their attributes, a declared dead-letter queue's name
replaced by its ARN (the planner orders dead-letter queues first); later attribute
changes are applied with SetQueueAttributes, except `FifoQueue`, which SQS cannot
change (refused with the way out). A queue that declared topics deliver to gets a
policy letting them send, unless it sets its own. Topics are created, their
attributes set, and their subscriptions made and recorded one by one, so a failed
deploy resumes without subscribing twice. Buses are created and deleted by name.
"""

from __future__ import annotations

import json
from typing import Any

from lambic.deploy._handlers import StepContext, ignore_missing
from lambic.deploy.declared import (
    BusResource,
    QueueResource,
    SubscriptionSpec,
    TopicResource,
    queue_attributes_with,
    sns_queue_policy,
)
from lambic.deploy.errors import AWSError


def _arn(ctx: StepContext, service: str, name: str) -> str:
    return f"arn:aws:{service}:{ctx.aws.region}:{ctx.aws.account_id}:{name}"


def queue_attributes(ctx: StepContext, queue: QueueResource) -> dict[str, str]:
    """The queue's attributes as SQS takes them on this account and region."""
    dlq = _arn(ctx, "sqs", queue.dead_letter) if queue.dead_letter else None
    attributes: dict[str, str] = queue_attributes_with(queue, dlq)
    if queue.sns_sources and "Policy" not in attributes:
        topics = [_arn(ctx, "sns", topic) for topic in queue.sns_sources]
        attributes["Policy"] = json.dumps(sns_queue_policy(_arn(ctx, "sqs", queue.name), topics))
    return attributes


def create_queue(ctx: StepContext, queue: QueueResource) -> dict[str, Any]:
    sqs = ctx.aws.client("sqs")
    attributes = queue_attributes(ctx, queue)
    url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
    return {"queue": queue.name, "url": url, "fifo": queue.fifo}


def update_queue(ctx: StepContext, queue: QueueResource, attrs: dict[str, Any]) -> dict[str, Any]:
    if bool(attrs.get("fifo")) != queue.fifo:
        raise AWSError(
            f"queue {queue.name!r} changed FifoQueue, which SQS cannot change; declare a new "
            "queue name (FIFO names end in .fifo) instead"
        )
    attributes = {k: v for k, v in queue_attributes(ctx, queue).items() if k != "FifoQueue"}
    sqs = ctx.aws.client("sqs")
    if attributes:
        sqs.set_queue_attributes(QueueUrl=attrs["url"], Attributes=attributes)
    return attrs


def delete_queue(ctx: StepContext, attrs: dict[str, Any]) -> None:
    sqs = ctx.aws.client("sqs")
    ignore_missing(lambda: sqs.delete_queue(QueueUrl=attrs["url"]))


def create_topic(ctx: StepContext, topic: TopicResource, parts: dict[str, str]) -> dict[str, Any]:
    sns = ctx.aws.client("sns")
    arn = sns.create_topic(Name=topic.name, Attributes=dict(topic.attributes))["TopicArn"]
    attrs: dict[str, Any] = {"topic": topic.name, "arn": arn, "subscriptions": {}}
    ctx.checkpoint(attrs, {**parts, "subscriptions": ""})
    return update_topic(ctx, topic, attrs, frozenset({"subscriptions"}))


def update_topic(
    ctx: StepContext, topic: TopicResource, attrs: dict[str, Any], changed: frozenset[str]
) -> dict[str, Any]:
    sns = ctx.aws.client("sns")
    if "attributes" in changed:
        for name, value in topic.attributes:
            sns.set_topic_attributes(
                TopicArn=attrs["arn"], AttributeName=name, AttributeValue=value
            )
    if "subscriptions" not in changed:
        return attrs
    made: dict[str, str] = dict(attrs.get("subscriptions") or {})
    wanted = {_subscription_key(ctx, s): s for s in topic.subscriptions}
    for key in sorted(set(made) - set(wanted)):
        arn = made.pop(key)
        ignore_missing(lambda: sns.unsubscribe(SubscriptionArn=arn))  # noqa: B023
    for key, spec in wanted.items():
        if key in made:
            continue
        protocol, endpoint = key.split(" ", 1)
        made[key] = sns.subscribe(
            TopicArn=attrs["arn"],
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes=dict(spec.attributes),
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        # Recorded at once: a deploy that fails on the next one does not repeat this.
        attrs = {**attrs, "subscriptions": dict(made)}
        ctx.checkpoint(attrs, {"attributes": "", "subscriptions": ""})
    return {**attrs, "subscriptions": made}


def _subscription_key(ctx: StepContext, spec: SubscriptionSpec) -> str:
    endpoint = _arn(ctx, "sqs", spec.queue) if spec.queue else spec.endpoint
    return f"{spec.protocol} {endpoint}"


def delete_topic(ctx: StepContext, attrs: dict[str, Any]) -> None:
    sns = ctx.aws.client("sns")
    # DeleteTopic removes its subscriptions too.
    ignore_missing(lambda: sns.delete_topic(TopicArn=attrs["arn"]))


def create_bus(ctx: StepContext, bus: BusResource) -> dict[str, Any]:
    arn = ctx.aws.client("events").create_event_bus(Name=bus.name)["EventBusArn"]
    return {"bus": bus.name, "arn": arn}


def delete_bus(ctx: StepContext, attrs: dict[str, Any]) -> None:
    events = ctx.aws.client("events")
    ignore_missing(lambda: events.delete_event_bus(Name=attrs["bus"]))
