"""Declared resources, created locally: `lambic local` makes what the config declares.

The declarations are read and checked by `lambic.project.resources` (the deployer
reads the same ones). `lambic local` creates what is missing when it starts, in one
pass through boto3 clients on its own edge port (one client per service declared,
no process spawned), and leaves existing data alone so it survives restarts:

    tables    CreateTable when missing
    buckets   CreateBucket when missing; CORS and the PublicRead policy set each start
    queues    dead-letter queues first; CreateQueue when missing, else the attributes set
    topics    CreateTopic (idempotent) and each subscription (Subscribe is idempotent)
    buses     CreateEventBus when missing

A declared name standing for an ARN (a dead-letter queue, an SQS subscription's
endpoint) becomes the local ARN, as the deployer makes it the AWS one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.project.resources import DeclaredResources, public_read_policy, queue_attributes

Client = Callable[[str], Any]


def local_queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:{name}"


def create_declared(resources: DeclaredResources, client: Client) -> list[str]:
    """Create the missing declared resources through boto3-shaped clients; names created.

    `client(service)` returns a client for "dynamodb", "s3", "sqs", "sns" or "events".
    """
    created: list[str] = []
    if resources.tables:
        created += _tables(resources, client("dynamodb"))
    if resources.buckets:
        created += _buckets(resources, client("s3"))
    if resources.queues:
        created += _queues(resources, client("sqs"))
    if resources.topics:
        created += _topics(resources, client("sns"))
    if resources.buses:
        created += _buses(resources, client("events"))
    return created


def _tables(resources: DeclaredResources, dynamodb: Any) -> list[str]:
    existing = set(dynamodb.list_tables().get("TableNames", []))
    created = []
    for table in resources.tables:
        if table["TableName"] not in existing:
            dynamodb.create_table(**table)
            created.append(f"table {table['TableName']}")
    return created


def _buckets(resources: DeclaredResources, s3: Any) -> list[str]:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    created = []
    for bucket in resources.buckets:
        name = str(bucket["Bucket"])
        if name not in existing:
            s3.create_bucket(Bucket=name)
            created.append(f"bucket {name}")
        # Settings follow the config on every start, as a redeploy applies them.
        if bucket.get("CORSConfiguration"):
            s3.put_bucket_cors(Bucket=name, CORSConfiguration=bucket["CORSConfiguration"])
        if DeclaredResources.public_read(bucket):
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
        elif name in existing:
            _drop_public_policy(s3, name)
    return created


def _drop_public_policy(s3: Any, name: str) -> None:
    """A bucket no longer `PublicRead` loses the policy Lambic gave it (and only that)."""
    try:
        current = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except Exception:  # NoSuchBucketPolicy: nothing to undo
        return
    if current == public_read_policy(name):
        s3.delete_bucket_policy(Bucket=name)


def _queues(resources: DeclaredResources, sqs: Any) -> list[str]:
    existing = {url.rsplit("/", 1)[-1] for url in sqs.list_queues().get("QueueUrls", [])}
    created = []
    for queue in resources.ordered_queues():
        name = str(queue["QueueName"])
        attributes = queue_attributes(queue, local_queue_arn)
        if name not in existing:
            sqs.create_queue(QueueName=name, Attributes=attributes)
            created.append(f"queue {name}")
        else:
            # FifoQueue cannot change; the rest follows the config (a DLQ added later).
            settable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
            if settable:
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
                sqs.set_queue_attributes(QueueUrl=url, Attributes=settable)
    return created


def _topics(resources: DeclaredResources, sns: Any) -> list[str]:
    existing = {t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics().get("Topics", [])}
    created = []
    for topic in resources.topics:
        name = str(topic["Name"])
        attributes = {str(k): str(v) for k, v in (topic.get("Attributes") or {}).items()}
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        if name not in existing:
            created.append(f"topic {name}")
        for subscription in topic.get("Subscriptions") or []:
            endpoint = str(subscription["Endpoint"])
            if subscription["Protocol"] == "sqs" and not endpoint.startswith("arn:"):
                endpoint = local_queue_arn(endpoint)
            sns.subscribe(
                TopicArn=arn,
                Protocol=subscription["Protocol"],
                Endpoint=endpoint,
                Attributes=dict(subscription.get("Attributes") or {}),
            )
    return created


def _buses(resources: DeclaredResources, events: Any) -> list[str]:
    existing = {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}
    created = []
    for bus in resources.buses:
        if bus["Name"] not in existing:
            events.create_event_bus(Name=bus["Name"])
            created.append(f"event bus {bus['Name']}")
    return created
