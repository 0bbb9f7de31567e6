"""Declared resources, created locally: `lambic local` makes what the config declares.

The declarations are read and checked by `lambic.project.resources` (the deployer
reads the same ones). `lambic local` creates what is missing when it starts, in one
pass of in-process calls to its own services (`services.in_process`: the requests an
SDK would send, handed to each service without a socket, so no boto3 is imported on
the way to the first answer), and leaves existing data alone so it survives restarts:

    tables    CreateTable when missing
    buckets   CreateBucket when missing; CORS and the PublicRead policy set each start
    queues    dead-letter queues first; CreateQueue when missing, else the attributes set
    topics    CreateTopic (idempotent) and each subscription (Subscribe is idempotent)
    buses     CreateEventBus when missing
    streams   CreateStream when missing (with the declared shards or on-demand); the
              retention and a provisioned stream's shard count follow the config on
              each start (Increase/DecreaseStreamRetentionPeriod, UpdateShardCount,
              within Kinesis's limits); the mode stays as created

A declared name standing for an ARN (a dead-letter queue, an SQS subscription's
endpoint) becomes the local ARN, as the deployer makes it the AWS one.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.project.resources import (
    DeclaredResources,
    public_read_policy,
    queue_attributes,
    stream_settings,
)
from lambic.services.in_process import AwsCallError, InProcessAws

#: S3's XML namespace (CORSConfiguration documents).
_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
#: A CORS rule's list fields (boto3's shape) and the XML element each item becomes.
_CORS_LISTS = (
    ("AllowedHeaders", "AllowedHeader"),
    ("AllowedMethods", "AllowedMethod"),
    ("AllowedOrigins", "AllowedOrigin"),
    ("ExposeHeaders", "ExposeHeader"),
)


def local_queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:{name}"


async def create_declared(resources: DeclaredResources, aws: InProcessAws) -> list[str]:
    """Create the missing declared resources through `aws`; the names created.

    A service's refusal (a bad key schema, a queue name AWS would not take) comes back
    as `AwsCallError` with its code and message.
    """
    created: list[str] = []
    if resources.tables:
        created += await _tables(resources, aws)
    if resources.buckets:
        created += await _buckets(resources, aws)
    if resources.queues:
        created += await _queues(resources, aws)
    if resources.topics:
        created += await _topics(resources, aws)
    if resources.buses:
        created += await _buses(resources, aws)
    if resources.streams:
        created += await _streams(resources, aws)
    return created


async def _tables(resources: DeclaredResources, aws: InProcessAws) -> list[str]:
    existing = set((await aws.json("dynamodb", "ListTables", {})).get("TableNames", []))
    created = []
    for table in resources.tables:
        if table["TableName"] not in existing:
            await aws.json("dynamodb", "CreateTable", table)
            created.append(f"table {table['TableName']}")
    return created


def cors_document(configuration: Mapping[str, Any]) -> bytes:
    """A `CORSConfiguration` as boto3 takes it (`{"CORSRules": [...]}`), in S3's XML."""
    root = ElementTree.Element("CORSConfiguration", xmlns=_S3_NS)
    for rule in configuration.get("CORSRules") or []:
        element = ElementTree.SubElement(root, "CORSRule")
        if rule.get("ID"):
            ElementTree.SubElement(element, "ID").text = str(rule["ID"])
        for field, tag in _CORS_LISTS:
            for item in rule.get(field) or []:
                ElementTree.SubElement(element, tag).text = str(item)
        if rule.get("MaxAgeSeconds") is not None:
            ElementTree.SubElement(element, "MaxAgeSeconds").text = str(rule["MaxAgeSeconds"])
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


async def _buckets(resources: DeclaredResources, aws: InProcessAws) -> list[str]:
    listing = await aws.s3("GET", "")
    root = ElementTree.fromstring(listing.body)
    existing = {e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Name"}
    created = []
    for bucket in resources.buckets:
        name = str(bucket["Bucket"])
        if name not in existing:
            await aws.s3("PUT", name)
            created.append(f"bucket {name}")
        # Settings follow the config on every start, as a redeploy applies them.
        if bucket.get("CORSConfiguration"):
            await aws.s3(
                "PUT", name, query={"cors": ""}, body=cors_document(bucket["CORSConfiguration"])
            )
        if DeclaredResources.public_read(bucket):
            policy = json.dumps(public_read_policy(name)).encode("utf-8")
            await aws.s3("PUT", name, query={"policy": ""}, body=policy)
        elif name in existing:
            await _drop_public_policy(aws, name)
    return created


async def _drop_public_policy(aws: InProcessAws, name: str) -> None:
    """A bucket no longer `PublicRead` loses the policy Lambic gave it (and only that)."""
    try:
        current = json.loads((await aws.s3("GET", name, query={"policy": ""})).body)
    except (AwsCallError, ValueError):  # NoSuchBucketPolicy: nothing to undo
        return
    if current == public_read_policy(name):
        await aws.s3("DELETE", name, query={"policy": ""})


async def _queues(resources: DeclaredResources, aws: InProcessAws) -> list[str]:
    urls = (await aws.json("sqs", "ListQueues", {})).get("QueueUrls", [])
    existing = {url.rsplit("/", 1)[-1] for url in urls}
    created = []
    for queue in resources.ordered_queues():
        name = str(queue["QueueName"])
        attributes = queue_attributes(queue, local_queue_arn)
        if name not in existing:
            await aws.json("sqs", "CreateQueue", {"QueueName": name, "Attributes": attributes})
            created.append(f"queue {name}")
        else:
            # FifoQueue cannot change; the rest follows the config (a DLQ added later).
            settable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
            if settable:
                url = (await aws.json("sqs", "GetQueueUrl", {"QueueName": name}))["QueueUrl"]
                await aws.json(
                    "sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": settable}
                )
    return created


def _query_map(prefix: str, values: Mapping[str, Any]) -> dict[str, str]:
    """A map parameter in the query protocol: `Attributes.entry.1.key` / `.value`."""
    params = {}
    for number, (key, value) in enumerate(values.items(), start=1):
        params[f"{prefix}.entry.{number}.key"] = str(key)
        params[f"{prefix}.entry.{number}.value"] = str(value)
    return params


async def _topic_names(aws: InProcessAws) -> set[str]:
    names: set[str] = set()
    token = ""
    while True:
        root = await aws.query("sns", "ListTopics", {"NextToken": token} if token else {})
        names.update(
            arn.rsplit(":", 1)[-1] for arn in (e.text or "" for e in root.iter("TopicArn"))
        )
        token = root.findtext(".//NextToken") or ""
        if not token:
            return names


async def _topics(resources: DeclaredResources, aws: InProcessAws) -> list[str]:
    existing = await _topic_names(aws)
    created = []
    for topic in resources.topics:
        name = str(topic["Name"])
        attributes = {str(k): str(v) for k, v in (topic.get("Attributes") or {}).items()}
        answer = await aws.query(
            "sns", "CreateTopic", {"Name": name, **_query_map("Attributes", attributes)}
        )
        arn = answer.findtext(".//TopicArn") or ""
        if name not in existing:
            created.append(f"topic {name}")
        for subscription in topic.get("Subscriptions") or []:
            endpoint = str(subscription["Endpoint"])
            if subscription["Protocol"] == "sqs" and not endpoint.startswith("arn:"):
                endpoint = local_queue_arn(endpoint)
            params = {"TopicArn": arn, "Protocol": str(subscription["Protocol"])}
            params["Endpoint"] = endpoint
            params.update(_query_map("Attributes", subscription.get("Attributes") or {}))
            await aws.query("sns", "Subscribe", params)
    return created


async def _buses(resources: DeclaredResources, aws: InProcessAws) -> list[str]:
    answer = await aws.json("events", "ListEventBuses", {})
    existing = {b["Name"] for b in answer.get("EventBuses", [])}
    created = []
    for bus in resources.buses:
        if bus["Name"] not in existing:
            await aws.json("events", "CreateEventBus", {"Name": bus["Name"]})
            created.append(f"event bus {bus['Name']}")
    return created


async def _stream_names(aws: InProcessAws) -> set[str]:
    names: set[str] = set()
    request: dict[str, Any] = {}
    while True:
        page = await aws.json("kinesis", "ListStreams", request)
        names.update(page.get("StreamNames", []))
        if not page.get("HasMoreStreams") or not page.get("StreamNames"):
            return names
        request = {"ExclusiveStartStreamName": page["StreamNames"][-1]}


async def _streams(resources: DeclaredResources, aws: InProcessAws) -> list[str]:
    existing = await _stream_names(aws)
    created = []
    for stream in resources.streams:
        name = str(stream["StreamName"])
        mode, shards, hours = stream_settings(stream)
        if name not in existing:
            request: dict[str, Any] = {
                "StreamName": name,
                "StreamModeDetails": {"StreamMode": mode},
            }
            if shards is not None:
                request["ShardCount"] = shards
            await aws.json("kinesis", "CreateStream", request)
            created.append(f"Kinesis stream {name}")
        summary = (await aws.json("kinesis", "DescribeStreamSummary", {"StreamName": name}))[
            "StreamDescriptionSummary"
        ]
        current = int(summary["RetentionPeriodHours"])
        if hours != current:
            change = "Increase" if hours > current else "Decrease"
            await aws.json(
                "kinesis",
                f"{change}StreamRetentionPeriod",
                {"StreamName": name, "RetentionPeriodHours": hours},
            )
        provisioned = summary["StreamModeDetails"]["StreamMode"] == "PROVISIONED"
        if shards is not None and provisioned and int(summary["OpenShardCount"]) != shards:
            await aws.json(
                "kinesis",
                "UpdateShardCount",
                {"StreamName": name, "TargetShardCount": shards, "ScalingType": "UNIFORM_SCALING"},
            )
    return created
