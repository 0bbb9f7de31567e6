"""Resources event handlers name but the config does not declare: checked before a deploy.

The rule (`lambic.project.resources`): a declared resource is created by the deploy;
an undeclared one named by name must already exist in the account. `lambic local`
creates it and prints the same sentence this raises, so the two sides never disagree
silently. The checks are read-only and run before the first change, so a missing
queue refuses the deploy instead of failing it halfway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from lambic.deploy.aws import AWSSession, error_code
from lambic.deploy.errors import ConfigError
from lambic.project.resources import (
    DeclaredResources,
    ResourceReference,
    undeclared,
    undeclared_message,
)

# Answers meaning "there is no such resource".
_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NotFound", "404"}
_MISSING |= {"NoSuchBucket", "ResourceNotFoundException"}


def _queue(aws: AWSSession, name: str) -> Any:
    return aws.client("sqs").get_queue_url(QueueName=name)


def _topic(aws: AWSSession, name: str) -> Any:
    arn = f"arn:aws:sns:{aws.region}:{aws.account_id}:{name}"
    return aws.client("sns").get_topic_attributes(TopicArn=arn)


def _bucket(aws: AWSSession, name: str) -> Any:
    return aws.client("s3").head_bucket(Bucket=name)


def _stream(aws: AWSSession, name: str) -> Any:
    return aws.client("kinesis").describe_stream_summary(StreamName=name)


_EXISTS: dict[str, Callable[[AWSSession, str], Any]] = {
    "sqs_queues": _queue,
    "sns_topics": _topic,
    "s3_buckets": _bucket,
    "kinesis_streams": _stream,
}


def check_references(
    aws: AWSSession,
    references: Iterable[ResourceReference | None],
    declared: DeclaredResources,
    config_name: str = ".lambic/config.json",
) -> None:
    """Refuse (`ConfigError`) if a handler names an undeclared resource AWS lacks."""
    for reference in undeclared(references, declared):
        exists = _EXISTS.get(reference.kind)
        if exists is None:  # tables: refused when the graph is built
            continue
        try:
            exists(aws, reference.name)
        except Exception as exc:
            code = error_code(exc)
            if code in _MISSING or code.endswith("NotFound"):
                raise ConfigError(undeclared_message(reference, config_name)) from exc
            raise
