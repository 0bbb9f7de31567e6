"""Every event handler in app.py, live: the wiring from local services to functions.

One adapter per kind of handler connects it the way AWS connects the deployed
resource, so the handler sees the same event with the same delivery semantics:

    schedule.py     @app.schedule           Scheduler fire -> async invoke
    eventbridge.py  @app.on_cw_event        EventBridge bus -> pattern match -> async invoke
    s3.py           @app.on_s3_event        S3 commit -> matched rules -> async invoke
    sns.py          @app.on_sns_message     SNS publish -> lambda subscription -> async invoke
    sqs.py          @app.on_sqs_message     SQS queue <- mapping pollers -> sync invoke
    streams.py      @app.on_dynamodb_record stream log <- stream mapping -> sync invoke
    kinesis.py      @app.on_kinesis_record  Kinesis shards <- stream mapping -> sync invoke

"Async invoke" is `base.accept()`: the event is committed to the durable
`AsyncEventQueue` before the producer returns (S3's before the PutObject response), and
the function's worker runs it with Lambda's retries. `composer.create_event_sources`
builds the adapters a manifest needs from the services' engines (`Engines`) and
`EventSources` starts and stops them together. An event source this runtime cannot
feed (a kind it does not know, or a service not running) is a startup error, never
silently ignored (`UnsupportedEventSourceError`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from lambic.runtime.event_sources.base import (
    SUPPORTED_KINDS,
    Account,
    EventSource,
    UnsupportedEventSourceError,
    accept,
    check_supported,
)
from lambic.runtime.event_sources.composer import Engines, EventSources, create_event_sources
from lambic.runtime.event_sources.schedule import (
    ScheduleSource,
    schedule_rule_arn,
    scheduled_event,
)

if TYPE_CHECKING:
    from lambic.runtime.event_sources.eventbridge import EventBridgeRules
    from lambic.runtime.event_sources.kinesis import KinesisStreams
    from lambic.runtime.event_sources.s3 import S3Notifications
    from lambic.runtime.event_sources.sns import SnsSubscriptions
    from lambic.runtime.event_sources.sqs import SqsMappings
    from lambic.runtime.event_sources.streams import DynamoDBStreams

# Each imports its service's modules: loaded on first access (PEP 562).
_ADAPTERS = {
    "DynamoDBStreams": "lambic.runtime.event_sources.streams",
    "EventBridgeRules": "lambic.runtime.event_sources.eventbridge",
    "KinesisStreams": "lambic.runtime.event_sources.kinesis",
    "S3Notifications": "lambic.runtime.event_sources.s3",
    "SnsSubscriptions": "lambic.runtime.event_sources.sns",
    "SqsMappings": "lambic.runtime.event_sources.sqs",
}

__all__ = [
    "SUPPORTED_KINDS",
    "Account",
    "DynamoDBStreams",
    "Engines",
    "EventBridgeRules",
    "EventSource",
    "EventSources",
    "KinesisStreams",
    "S3Notifications",
    "ScheduleSource",
    "SnsSubscriptions",
    "SqsMappings",
    "UnsupportedEventSourceError",
    "accept",
    "check_supported",
    "create_event_sources",
    "schedule_rule_arn",
    "scheduled_event",
]


def __getattr__(name: str) -> Any:
    module = _ADAPTERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
