"""Executor handlers for declared Kinesis streams (docs/internals.md §4).

A stream is created with its declared shards (or on demand), recorded at once, then
waited on until ACTIVE: Kinesis refuses every change to a stream that is still
CREATING or UPDATING. Later changes are read against the stream as it is (not as it
was recorded, since resharding may also happen outside Lambic) and applied one at a
time, each waited on: the capacity mode (UpdateStreamMode), a provisioned stream's
shard count (UpdateShardCount, UNIFORM_SCALING: Kinesis's own limits, at most double
or half the open shards per call, come back as its error), and the retention
(Increase/DecreaseStreamRetentionPeriod).
"""

from __future__ import annotations

from typing import Any

from lambic.deploy._handlers import StepContext, ignore_missing
from lambic.deploy.declared import StreamResource

#: How long a stream may take to become ACTIVE (AWS: seconds; resharding: minutes).
_WAIT = {"Delay": 2, "MaxAttempts": 300}


def _wait_active(ctx: StepContext, name: str) -> None:
    ctx.aws.client("kinesis").get_waiter("stream_exists").wait(StreamName=name, WaiterConfig=_WAIT)


def _summary(ctx: StepContext, name: str) -> dict[str, Any]:
    """The stream as it is once ACTIVE (a missing one: ResourceNotFoundException, which
    the executor answers by creating it again)."""
    kinesis = ctx.aws.client("kinesis")
    summary: dict[str, Any] = kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"
    ]
    if summary["StreamStatus"] != "ACTIVE":
        _wait_active(ctx, name)
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    return summary


def create_stream(ctx: StepContext, stream: StreamResource) -> dict[str, Any]:
    kinesis = ctx.aws.client("kinesis")
    request: dict[str, Any] = {
        "StreamName": stream.name,
        "StreamModeDetails": {"StreamMode": stream.mode},
    }
    if stream.shard_count is not None:
        request["ShardCount"] = stream.shard_count
    kinesis.create_stream(**request)
    attrs = {"stream": stream.name}
    # Recorded as soon as it exists: a failure setting it up leaves it to the next run.
    ctx.checkpoint(attrs, {"mode": "", "shards": "", "retention": ""})
    return update_stream(ctx, stream, attrs)


def update_stream(
    ctx: StepContext, stream: StreamResource, attrs: dict[str, Any]
) -> dict[str, Any]:
    kinesis = ctx.aws.client("kinesis")
    summary = _summary(ctx, stream.name)
    arn = summary["StreamARN"]
    mode = (summary.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    if mode != stream.mode:
        kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": stream.mode})
        _wait_active(ctx, stream.name)
        summary = _summary(ctx, stream.name)
    if stream.shard_count is not None and summary["OpenShardCount"] != stream.shard_count:
        kinesis.update_shard_count(
            StreamName=stream.name,
            TargetShardCount=stream.shard_count,
            ScalingType="UNIFORM_SCALING",
        )
        _wait_active(ctx, stream.name)
    current = int(summary["RetentionPeriodHours"])
    if stream.retention_hours > current:
        kinesis.increase_stream_retention_period(
            StreamName=stream.name, RetentionPeriodHours=stream.retention_hours
        )
    elif stream.retention_hours < current:
        kinesis.decrease_stream_retention_period(
            StreamName=stream.name, RetentionPeriodHours=stream.retention_hours
        )
    return {**attrs, "arn": arn}


def delete_stream(ctx: StepContext, attrs: dict[str, Any]) -> None:
    kinesis = ctx.aws.client("kinesis")
    # Only `lambic delete --include-data` deletes a stream (its records are data):
    # enhanced fan-out consumers registered on it go with it.
    ignore_missing(
        lambda: kinesis.delete_stream(StreamName=attrs["stream"], EnforceConsumerDeletion=True)
    )
