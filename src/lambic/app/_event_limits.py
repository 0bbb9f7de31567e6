"""AWS's limits for event-source settings, checked when a decorator runs (private).

`lambic.app.event_sources` re-exports `EventSourceConfigError` and `S3_EVENT_TYPES`;
the checks mirror what S3's PutBucketNotificationConfiguration and Lambda's
CreateEventSourceMapping would reject, so a bad setting fails at import, locally,
instead of at deploy time. The local S3 service validates notification configurations
against the same `S3_EVENT_TYPES` (services may import `lambic.app`, never the
reverse), so the decorator and the bucket agree on what an event type is.
"""

from __future__ import annotations

from lambic.app.errors import ChaliceError

__all__ = [
    "S3_EVENT_TYPES",
    "SQS_BATCHING_WINDOW_MESSAGE",
    "EventSourceConfigError",
    "check_int",
    "check_sqs_settings",
    "check_stream_settings",
    "check_text",
    "sqs_batching_error",
]


class EventSourceConfigError(ChaliceError, ValueError):
    """An event-handler decorator was given a value AWS would reject."""


#: The event types an S3 notification may subscribe to (botocore's s3 `Event` enum).
S3_EVENT_TYPES = frozenset(
    {
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectAcl:Put",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAnnotation:*",
        "s3:ObjectAnnotation:Put",
        "s3:ObjectAnnotation:Delete",
        "s3:ObjectRetention:Put",
    }
)

# Lambda's CreateEventSourceMapping limits (botocore lambda model and its docs).
_MAX_BATCH = 10000
_MAX_FIFO_BATCH = 10
_MAX_UNWINDOWED_SQS_BATCH = 10
_MAX_WINDOW_SECONDS = 300
_STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")


def check_int(label: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EventSourceConfigError(
            f"{label} must be an integer from {low} to {high}, got {value!r}"
        )
    return value


def check_text(label: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise EventSourceConfigError(f"{label} must be a non-empty string, got {value!r}")
    return value


def check_stream_settings(
    decorator: str, batch_size: int, starting_position: str, window: int
) -> None:
    check_int(f"{decorator}: batch_size", batch_size, 1, _MAX_BATCH)
    check_int(f"{decorator}: maximum_batching_window_in_seconds", window, 0, _MAX_WINDOW_SECONDS)
    if starting_position not in _STARTING_POSITIONS:
        raise EventSourceConfigError(
            f"{decorator}: starting_position must be TRIM_HORIZON or LATEST, "
            f"got {starting_position!r}"
        )


def check_sqs_settings(queue_label: str, batch_size: int, window: int) -> None:
    check_int("on_sqs_message: maximum_batching_window_in_seconds", window, 0, 300)
    fifo = queue_label.endswith(".fifo")
    limit = _MAX_FIFO_BATCH if fifo else _MAX_BATCH
    check_int("on_sqs_message: batch_size", batch_size, 1, limit)
    # A batch over 10 without a window is accepted here, as Chalice accepts it; AWS
    # refuses the mapping, so `lambic local` and deploy do (`sqs_batching_error`).


#: Lambda's CreateEventSourceMapping refusal (InvalidParameterValueException) for an
#: SQS batch over 10 without a batching window, word for word.
SQS_BATCHING_WINDOW_MESSAGE = (
    "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
    "greater than 10"
)


def sqs_batching_error(
    function_name: str, queue_label: str, batch_size: int, window: int
) -> str | None:
    """What to tell the user when AWS would refuse this SQS mapping's batching, else None.

    >>> print(sqs_batching_error("work", "jobs", 200, 0))  # doctest: +NORMALIZE_WHITESPACE
    work (on_sqs_message, queue jobs): Maximum batch window in seconds must be greater
    than 0 if maximum batch size is greater than 10; pass
    maximum_batching_window_in_seconds=1 or more, or batch_size=10 or less
    """
    if not queue_label.endswith(".fifo") and batch_size > _MAX_UNWINDOWED_SQS_BATCH and window < 1:
        return (
            f"{function_name} (on_sqs_message, queue {queue_label}): "
            f"{SQS_BATCHING_WINDOW_MESSAGE}; pass maximum_batching_window_in_seconds=1 "
            "or more, or batch_size=10 or less"
        )
    return None
