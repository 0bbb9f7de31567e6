"""An editable sample event for each function, from the test client's generators.

The console's "invoke" box starts with the event the function's own trigger would
send (an S3 record for its bucket, an SQS batch from its queue...), built by
`lambic.app.event_generator.EventGenerator` in the local account and region, so it is
the same shape `lambic generate-event` prints and the test client builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambic.app.event_generator import EventGenerator
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION

__all__ = ["sample_event"]

_GENERATOR = EventGenerator(region=LOCAL_REGION, account_id=LOCAL_ACCOUNT_ID)


def sample_event(
    kind: str, source: Mapping[str, Any] | None, *, rule: str, stage: str
) -> dict[str, Any]:
    """The event a function of `kind` with event-source settings `source` receives.

    `rule` names its schedule rule (as the deployer names it); `stage` is the API
    Gateway stage an API request arrives on.
    """
    source = source or {}
    if kind == "schedule":
        return _GENERATOR.schedule(rule=rule)
    if kind == "s3":
        return _GENERATOR.s3(bucket=str(source.get("bucket", "bucket")), key="example.txt")
    if kind == "sqs":
        queue = source.get("queue") or str(source.get("queue_arn", "queue")).rsplit(":", 1)[-1]
        return _GENERATOR.sqs(bodies=["hello"], queue=str(queue))
    if kind == "sns":
        return _GENERATOR.sns(message="hello", topic=str(source.get("topic", "topic")))
    if kind == "cloudwatch":
        pattern = source.get("event_pattern") or {}
        sources = pattern.get("source") if isinstance(pattern, Mapping) else None
        detail_types = pattern.get("detail-type") if isinstance(pattern, Mapping) else None
        return _GENERATOR.eventbridge(
            source=str(sources[0]) if isinstance(sources, list) and sources else "my.app",
            detail_type=(
                str(detail_types[0])
                if isinstance(detail_types, list) and detail_types
                else "Something happened"
            ),
            detail={},
        )
    if kind == "dynamodb":
        stream = str(source.get("stream_arn", "table"))
        return _GENERATOR.dynamodb(table=stream, event_name="INSERT", new_image={"id": {"S": "1"}})
    if kind == "kinesis":
        stream = str(source.get("stream", "stream")).rsplit("/", 1)[-1]
        return _GENERATOR.kinesis(bodies=[b"hello"], stream=stream)
    if kind == "api":
        return _GENERATOR.rest_api(method="GET", path="/", stage=stage)
    return {}
