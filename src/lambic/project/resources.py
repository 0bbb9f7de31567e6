"""Declared resources: what an app says it owns, read and checked once for both sides.

`.lambic/config.json` may declare, at the top level or per stage (a stage's `resources`
replaces the top-level one), each entry the AWS create request of its kind:

    "resources": {
      "sqs_queues":        [ {CreateQueue: QueueName, Attributes} ],
      "sns_topics":        [ {CreateTopic: Name, Attributes} + "Subscriptions" ],
      "eventbridge_buses": [ {CreateEventBus: Name} ],
      "dynamodb_tables":   [ {CreateTable: TableName, KeySchema, ..., StreamSpecification} ],
      "s3_buckets":        [ {"Bucket": name, "Website": {...}, "CORSConfiguration": {...},
                              "PublicRead": true} ],
      "kinesis_streams":   [ {CreateStream: StreamName, ShardCount | StreamModeDetails}
                              + "RetentionPeriodHours" ]
    }

The same document creates the local resource (`lambic local`) and the AWS one
(`lambic deploy`: the direct deployer, SAM and Terraform). Where a request names
another resource, the name of one declared here may stand for its ARN, and each side
resolves it: a queue's `RedrivePolicy.deadLetterTargetArn`, an SNS subscription's
`Endpoint` for protocol `sqs`. `PublicRead` (Lambic's, default false) makes a bucket's
objects readable by anyone: Block Public Access off and a bucket policy allowing only
`s3:GetObject` on its objects, on AWS and locally alike. `RetentionPeriodHours`
(CloudFormation's name; default 24) is a stream's retention, which Kinesis sets
after creation (Increase/DecreaseStreamRetentionPeriod).

Resources an event handler names (`undeclared`): one declared here is created by
both sides; one named by name but not declared is used as it is, so `lambic local`
creates it empty (a Kinesis stream with one shard) and says once that deploy needs
it to exist (or be declared), and deploy refuses before any change if it does not
exist. A table cannot be created without its key schema, so a stream handler naming
an undeclared table is refused by both. This module only reads and checks; each side
creates its own way.

    >>> parse_resources({"s3_buckets": [{"Bucket": "site"}]}).bucket_names()
    ['site']
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lambic.project.errors import ConfigError

__all__ = [
    "RESOURCE_KINDS",
    "DeclaredResources",
    "ResourceReference",
    "handler_reference",
    "parse_resources",
    "public_read_policy",
    "queue_attributes",
    "redrive_target",
    "stream_settings",
    "undeclared",
    "undeclared_message",
]

#: The kinds `resources` may hold, each a list of AWS create requests.
RESOURCE_KINDS = (
    "dynamodb_tables",
    "eventbridge_buses",
    "kinesis_streams",
    "s3_buckets",
    "sns_topics",
    "sqs_queues",
)

# CreateQueue's attribute names (botocore's QueueAttributeName, settable ones).
_QUEUE_ATTRIBUTES = frozenset(
    {
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "Policy",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
    }
)
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_STREAM_VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
_SUBSCRIPTION_PROTOCOLS = (
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
)
# Kinesis: botocore's StreamName shape; retention bounds (hours) as AWS documents them.
_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
_STREAM_KEYS = frozenset({"StreamName", "ShardCount", "StreamModeDetails", "RetentionPeriodHours"})
_STREAM_MODES = ("PROVISIONED", "ON_DEMAND")
MIN_RETENTION_HOURS, MAX_RETENTION_HOURS = 24, 8760
# Lambic's keys in a bucket entry besides CreateBucket's `Bucket`.
_BUCKET_KEYS = frozenset({"Bucket", "Website", "CORSConfiguration", "PublicRead"})


@dataclass(frozen=True)
class ResourceReference:
    """A resource an event handler names: `kind` is a `RESOURCE_KINDS` key."""

    kind: str
    name: str
    handler: str  # the decorator and function, for messages: "@app.on_sqs_message (on_job)"


@dataclass(frozen=True)
class DeclaredResources:
    """Checked `resources` entries, as written (each an AWS create request)."""

    tables: tuple[Mapping[str, Any], ...] = ()
    buckets: tuple[Mapping[str, Any], ...] = ()
    queues: tuple[Mapping[str, Any], ...] = ()
    topics: tuple[Mapping[str, Any], ...] = ()
    buses: tuple[Mapping[str, Any], ...] = ()
    streams: tuple[Mapping[str, Any], ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.tables or self.buckets or self.queues or self.topics or self.buses or self.streams
        )

    def bucket_names(self) -> list[str]:
        return [str(bucket["Bucket"]) for bucket in self.buckets]

    def names(self, kind: str) -> set[str]:
        """The declared names of one kind (`sqs_queues`, `dynamodb_tables`, ...)."""
        entries, key = self._by_kind()[kind]
        return {str(entry[key]) for entry in entries}

    def table(self, name: str) -> Mapping[str, Any] | None:
        return next((t for t in self.tables if t["TableName"] == name), None)

    def _by_kind(self) -> dict[str, tuple[tuple[Mapping[str, Any], ...], str]]:
        return {
            "dynamodb_tables": (self.tables, "TableName"),
            "s3_buckets": (self.buckets, "Bucket"),
            "sqs_queues": (self.queues, "QueueName"),
            "sns_topics": (self.topics, "Name"),
            "eventbridge_buses": (self.buses, "Name"),
            "kinesis_streams": (self.streams, "StreamName"),
        }

    @staticmethod
    def index_document(bucket: Mapping[str, Any]) -> str | None:
        """A bucket entry's website index document, in either of S3's spellings."""
        website = bucket.get("Website") or {}
        index = website.get("IndexDocument") if isinstance(website, Mapping) else None
        if isinstance(index, Mapping):  # the S3 API's own spelling: {"Suffix": "index.html"}
            index = index.get("Suffix")
        return str(index) if index else None

    @staticmethod
    def public_read(bucket: Mapping[str, Any]) -> bool:
        return bool(bucket.get("PublicRead", False))

    def ordered_queues(self) -> list[Mapping[str, Any]]:
        """Queues with every dead-letter queue before the queues that redrive to it
        (SQS refuses a RedrivePolicy naming a queue that does not exist yet)."""
        ordered: list[Mapping[str, Any]] = []
        placed: set[str] = set()
        names = self.names("sqs_queues")
        while len(ordered) < len(self.queues):
            # One sweep in declared order places every queue whose target exists by then.
            ready = [
                q
                for q in self.queues
                if str(q["QueueName"]) not in placed
                and (redrive_target(q) not in names or redrive_target(q) in placed)
            ]
            if not ready:  # a redrive cycle (AWS refuses it too): keep the declared order
                ready = [q for q in self.queues if str(q["QueueName"]) not in placed]
            ordered += ready
            placed |= {str(q["QueueName"]) for q in ready}
        return ordered


# -- naming helpers both sides use -------------------------------------------------------

_KIND_WORDS = {
    "sqs_queues": "queue",
    "sns_topics": "topic",
    "s3_buckets": "bucket",
    "dynamodb_tables": "table",
    "eventbridge_buses": "event bus",
    "kinesis_streams": "Kinesis stream",
}


# The decorator of each handler kind that names a resource, and the setting naming it.
_HANDLER_RESOURCES = {
    "sqs": ("on_sqs_message", "queue", "sqs_queues"),
    "sns": ("on_sns_message", "topic", "sns_topics"),
    "s3": ("on_s3_event", "bucket", "s3_buckets"),
    "dynamodb": ("on_dynamodb_record", "stream_arn", "dynamodb_tables"),
    "kinesis": ("on_kinesis_record", "stream", "kinesis_streams"),
}


def handler_reference(
    kind: str, source: Mapping[str, Any], function: str
) -> ResourceReference | None:
    """The resource a handler names *by name* (None: by ARN, or names none).

    `source` is the handler's event-source settings (the manifest's `event_source`,
    or the registry object's attributes on the deploy side).

    >>> handler_reference("sqs", {"queue": "jobs"}, "work")
    ResourceReference(kind='sqs_queues', name='jobs', handler='@app.on_sqs_message (work)')
    """
    known = _HANDLER_RESOURCES.get(kind)
    if known is None:
        return None
    decorator, setting, resource_kind = known
    name = source.get(setting)
    if not name or str(name).startswith("arn:"):
        return None
    return ResourceReference(resource_kind, str(name), f"@app.{decorator} ({function})")


def undeclared(
    references: Iterable[ResourceReference | None], declared: DeclaredResources
) -> list[ResourceReference]:
    """The references naming a resource `declared` lacks, each once, in order."""
    found: list[ResourceReference] = []
    for reference in references:
        if reference is None or reference.name in declared.names(reference.kind):
            continue
        if all((r.kind, r.name) != (reference.kind, reference.name) for r in found):
            found.append(reference)
    return found


def undeclared_message(
    reference: ResourceReference, config_name: str = ".lambic/config.json"
) -> str:
    """The one sentence both sides print for a handler's undeclared resource.

    `lambic local` prints it as a warning after creating the resource; `lambic deploy`
    raises it when the resource does not exist on AWS. `config_name` is the project's
    config file as the user knows it (`ProjectPaths.config_name`).
    """
    word = _KIND_WORDS[reference.kind]
    if reference.kind == "dynamodb_tables":
        return (
            f"{reference.handler} reads {word} {reference.name!r}, which is not declared under "
            f"resources.{reference.kind} in {config_name}; declare it there (with its "
            "StreamSpecification), or give the stream's full ARN"
        )
    return (
        f"{reference.handler} names {word} {reference.name!r}, which is not declared under "
        f"resources.{reference.kind} in {config_name}: `lambic deploy` needs it to "
        "exist in the account already; declare it there to have deploy create it"
    )


def stream_settings(stream: Mapping[str, Any]) -> tuple[str, int | None, int]:
    """A checked stream entry's mode, shard count (None: on-demand) and retention hours.

    >>> stream_settings({"StreamName": "clicks", "ShardCount": 2})
    ('PROVISIONED', 2, 24)
    """
    details = stream.get("StreamModeDetails") or {}
    mode = str(details.get("StreamMode", "PROVISIONED"))
    count = stream.get("ShardCount")
    hours = int(stream.get("RetentionPeriodHours", MIN_RETENTION_HOURS))
    return mode, int(count) if count is not None else None, hours


def redrive_target(queue: Mapping[str, Any]) -> str | None:
    """The dead-letter queue a queue entry redrives to (a declared name or an ARN)."""
    policy = _redrive_policy((queue.get("Attributes") or {}).get("RedrivePolicy"))
    target = policy.get("deadLetterTargetArn") if policy else None
    return str(target) if target else None


def queue_attributes(queue: Mapping[str, Any], arn_of: Callable[[str], str]) -> dict[str, str]:
    """A queue entry's Attributes as CreateQueue takes them: strings, a declared
    dead-letter queue's name replaced by `arn_of(name)`.

    >>> q = {"QueueName": "jobs", "Attributes": {"RedrivePolicy":
    ...      {"deadLetterTargetArn": "dlq", "maxReceiveCount": 3}}}
    >>> queue_attributes(q, lambda n: "arn:aws:sqs:us-east-1:1:" + n)["RedrivePolicy"]
    '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": 3}'
    """
    attributes = {str(k): v for k, v in (queue.get("Attributes") or {}).items()}
    policy = _redrive_policy(attributes.get("RedrivePolicy"))
    if policy is not None:
        target = str(policy["deadLetterTargetArn"])
        if not target.startswith("arn:"):
            policy["deadLetterTargetArn"] = arn_of(target)
        attributes["RedrivePolicy"] = json.dumps(policy)
    return {k: str(v) for k, v in attributes.items()}


def public_read_policy(bucket: str) -> dict[str, Any]:
    """The bucket policy of a `PublicRead` bucket: anyone may GetObject, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadGetObject",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def _redrive_policy(value: object) -> dict[str, Any] | None:
    """RedrivePolicy as AWS takes it (a JSON string) or as an object, decoded."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return dict(value) if isinstance(value, Mapping) else None


# -- checking ------------------------------------------------------------------------------


def parse_resources(section: object, where: str = "resources") -> DeclaredResources:
    """Check one `resources` object; a `ConfigError` names the bad key by its JSON path."""
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where} must be an object with lists of {', '.join(RESOURCE_KINDS)}")
    unknown = sorted(set(section) - set(RESOURCE_KINDS))
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]} is not a resource kind; use one of {', '.join(RESOURCE_KINDS)}"
        )
    tables = _entries(section, "dynamodb_tables", where, "TableName")
    for index, table in enumerate(tables):
        _check_table(table, f"{where}.dynamodb_tables[{index}]")
    buckets = _entries(section, "s3_buckets", where, "Bucket")
    for index, bucket in enumerate(buckets):
        _check_bucket(bucket, f"{where}.s3_buckets[{index}]")
    queues = _entries(section, "sqs_queues", where, "QueueName")
    for index, queue in enumerate(queues):
        _check_queue(queue, f"{where}.sqs_queues[{index}]", queues)
    topics = _entries(section, "sns_topics", where, "Name")
    queue_names = {str(q["QueueName"]) for q in queues}
    for index, topic in enumerate(topics):
        _check_topic(topic, f"{where}.sns_topics[{index}]", queue_names)
    buses = _entries(section, "eventbridge_buses", where, "Name")
    for index, bus in enumerate(buses):
        path = f"{where}.eventbridge_buses[{index}]"
        if not _BUS_NAME.match(str(bus["Name"])) or bus["Name"] == "default":
            raise ConfigError(
                f'{path}.Name must be 1-256 letters, digits and . - _ / and not "default" '
                "(the default bus always exists)"
            )
    streams = _entries(section, "kinesis_streams", where, "StreamName")
    for index, stream in enumerate(streams):
        _check_stream(stream, f"{where}.kinesis_streams[{index}]")
    return DeclaredResources(
        tuple(tables), tuple(buckets), tuple(queues), tuple(topics), tuple(buses), tuple(streams)
    )


def _entries(
    section: Mapping[str, Any], kind: str, where: str, name_key: str
) -> list[Mapping[str, Any]]:
    entries = section.get(kind) or []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}.{kind} must be a list")
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}.{kind}[{index}] must be an object")
        name = entry.get(name_key)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.{kind}[{index}].{name_key} must be a non-empty string")
        if name in seen:
            raise ConfigError(f"{where}.{kind}[{index}].{name_key} {name!r} is declared twice")
        seen.add(name)
    return list(entries)


def _check_table(table: Mapping[str, Any], path: str) -> None:
    for key in ("KeySchema", "AttributeDefinitions"):
        if not isinstance(table.get(key), list) or not table[key]:
            raise ConfigError(f"{path}.{key} must be a non-empty list, as in a CreateTable request")
    stream = table.get("StreamSpecification")
    if stream is None:
        return
    if not isinstance(stream, Mapping):
        raise ConfigError(f"{path}.StreamSpecification must be an object")
    enabled = stream.get("StreamEnabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{path}.StreamSpecification.StreamEnabled must be true or false")
    if enabled and stream.get("StreamViewType") not in _STREAM_VIEWS:
        raise ConfigError(
            f"{path}.StreamSpecification.StreamViewType must be one of {', '.join(_STREAM_VIEWS)}"
        )


def _check_stream(stream: Mapping[str, Any], path: str) -> None:
    unknown = sorted(set(stream) - _STREAM_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}.{unknown[0]} is not a stream setting; use {', '.join(sorted(_STREAM_KEYS))}"
        )
    name = str(stream["StreamName"])
    if not _STREAM_NAME.match(name):
        raise ConfigError(f"{path}.StreamName {name!r} must be 1-128 letters, digits, _ . and -")
    details = stream.get("StreamModeDetails", {"StreamMode": "PROVISIONED"})
    mode = details.get("StreamMode") if isinstance(details, Mapping) else None
    if mode not in _STREAM_MODES:
        raise ConfigError(
            f'{path}.StreamModeDetails must be {{"StreamMode": "ON_DEMAND"}} or '
            '{"StreamMode": "PROVISIONED"}'
        )
    count = stream.get("ShardCount")
    if mode == "PROVISIONED" and (type(count) is not int or count < 1):
        raise ConfigError(
            f"{path}.ShardCount must be a whole number of shards (1 or more) for a provisioned "
            'stream; or give StreamModeDetails {"StreamMode": "ON_DEMAND"} for on-demand'
        )
    if mode == "ON_DEMAND" and count is not None:
        raise ConfigError(
            f"{path}.ShardCount is for provisioned streams; an ON_DEMAND stream scales its own "
            "shards, so remove ShardCount"
        )
    hours = stream.get("RetentionPeriodHours", MIN_RETENTION_HOURS)
    if type(hours) is not int or not MIN_RETENTION_HOURS <= hours <= MAX_RETENTION_HOURS:
        raise ConfigError(
            f"{path}.RetentionPeriodHours must be a whole number of hours from "
            f"{MIN_RETENTION_HOURS} to {MAX_RETENTION_HOURS}"
        )


def _check_bucket(bucket: Mapping[str, Any], path: str) -> None:
    unknown = sorted(set(bucket) - _BUCKET_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}.{unknown[0]} is not a bucket setting; use {', '.join(sorted(_BUCKET_KEYS))}"
        )
    if "PublicRead" in bucket and not isinstance(bucket["PublicRead"], bool):
        raise ConfigError(f"{path}.PublicRead must be true or false")
    website = bucket.get("Website")
    if website is not None and (
        not isinstance(website, Mapping) or not DeclaredResources.index_document(bucket)
    ):
        raise ConfigError(
            f'{path}.Website must be an object with an IndexDocument, e.g. {{"IndexDocument": '
            '"index.html"}'
        )
    cors = bucket.get("CORSConfiguration")
    if cors is None:
        return
    rules = cors.get("CORSRules") if isinstance(cors, Mapping) else None
    if not isinstance(rules, list) or not rules:
        raise ConfigError(
            f"{path}.CORSConfiguration.CORSRules must be a non-empty list, as in PutBucketCors"
        )
    for index, rule in enumerate(rules):
        where = f"{path}.CORSConfiguration.CORSRules[{index}]"
        if not isinstance(rule, Mapping):
            raise ConfigError(f"{where} must be an object")
        for key in ("AllowedMethods", "AllowedOrigins"):
            if not isinstance(rule.get(key), list) or not rule[key]:
                raise ConfigError(f"{where}.{key} must be a non-empty list")


def _check_queue(queue: Mapping[str, Any], path: str, queues: list[Mapping[str, Any]]) -> None:
    name = str(queue["QueueName"])
    attributes = queue.get("Attributes") or {}
    if not isinstance(attributes, Mapping):
        raise ConfigError(f"{path}.Attributes must be an object of strings")
    for key, value in attributes.items():
        if key not in _QUEUE_ATTRIBUTES:
            raise ConfigError(f"{path}.Attributes.{key} is not an SQS queue attribute")
        if key != "RedrivePolicy" and not isinstance(value, str):
            raise ConfigError(
                f"{path}.Attributes.{key} must be a string (SQS attribute values are strings), "
                f"got {json.dumps(value)}"
            )
    fifo = attributes.get("FifoQueue") == "true"
    base = name.removesuffix(".fifo") if fifo else name
    if not _QUEUE_NAME.match(base) or (name.endswith(".fifo") and not fifo):
        raise ConfigError(
            f"{path}.QueueName {name!r} must be 1-80 letters, digits, - and _, and end in .fifo "
            'exactly when Attributes.FifoQueue is "true"'
        )
    if "RedrivePolicy" not in attributes:
        return
    where = f"{path}.Attributes.RedrivePolicy"
    policy = _redrive_policy(attributes["RedrivePolicy"])
    if policy is None or not policy.get("deadLetterTargetArn"):
        raise ConfigError(
            f'{where} must be {{"deadLetterTargetArn": "<queue name or ARN>", '
            '"maxReceiveCount": N}'
        )
    count = policy.get("maxReceiveCount")
    try:
        valid_count = 1 <= int(str(count)) <= 1000
    except ValueError:
        valid_count = False
    if not valid_count:
        raise ConfigError(f"{where}.maxReceiveCount must be a number from 1 to 1000")
    target = str(policy["deadLetterTargetArn"])
    if target.startswith("arn:"):
        return
    dlq = next((q for q in queues if q["QueueName"] == target), None)
    if dlq is None:
        raise ConfigError(
            f"{where}.deadLetterTargetArn {target!r} is not a queue declared in "
            "resources.sqs_queues; declare it there or give its ARN"
        )
    if target == name:
        raise ConfigError(f"{where}.deadLetterTargetArn must name another queue")
    if ((dlq.get("Attributes") or {}).get("FifoQueue") == "true") != fifo:
        # AWS: "The dead-letter queue of a FIFO queue must also be a FIFO queue" (and
        # a standard queue's must be standard).
        raise ConfigError(
            f"{where}.deadLetterTargetArn {target!r} must be a "
            f"{'FIFO' if fifo else 'standard'} queue, like {name!r}"
        )


def _check_topic(topic: Mapping[str, Any], path: str, queues: set[str]) -> None:
    name = str(topic["Name"])
    fifo = (topic.get("Attributes") or {}).get("FifoTopic") == "true"
    base = name.removesuffix(".fifo") if fifo else name
    if not _TOPIC_NAME.match(base):
        raise ConfigError(
            f"{path}.Name {name!r} must be 1-256 letters, digits, - and _ (plus .fifo for a "
            "FIFO topic)"
        )
    attributes = topic.get("Attributes") or {}
    if not isinstance(attributes, Mapping) or not all(
        isinstance(v, str) for v in attributes.values()
    ):
        raise ConfigError(f"{path}.Attributes must be an object of strings, as in CreateTopic")
    subscriptions = topic.get("Subscriptions") or []
    if not isinstance(subscriptions, list):
        raise ConfigError(f"{path}.Subscriptions must be a list")
    for index, subscription in enumerate(subscriptions):
        where = f"{path}.Subscriptions[{index}]"
        if not isinstance(subscription, Mapping):
            raise ConfigError(f"{where} must be an object with Protocol and Endpoint")
        protocol = subscription.get("Protocol")
        if protocol not in _SUBSCRIPTION_PROTOCOLS:
            raise ConfigError(
                f"{where}.Protocol must be one of {', '.join(_SUBSCRIPTION_PROTOCOLS)}"
            )
        endpoint = subscription.get("Endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise ConfigError(f"{where}.Endpoint must be a non-empty string")
        if protocol == "sqs" and not endpoint.startswith("arn:") and endpoint not in queues:
            raise ConfigError(
                f"{where}.Endpoint {endpoint!r} is not a queue declared in resources.sqs_queues; "
                "declare it there or give its ARN"
            )
        extra = subscription.get("Attributes") or {}
        if not isinstance(extra, Mapping) or not all(isinstance(v, str) for v in extra.values()):
            raise ConfigError(f"{where}.Attributes must be an object of strings, as in Subscribe")
