"""Typed event objects handed to event handlers, as Chalice defines them.

An event-handler decorator turns the raw Lambda payload into one of these before the
middleware chain and the user's function see it; `to_dict()` always returns the raw
payload unchanged, and `context` is the Lambda context object.

    @app.on_s3_event(bucket="photos")
    def resize(event: S3Event) -> None:
        print(event.bucket, event.key)        # key URL-decoded: "my photo.jpg"

    @app.on_sqs_message(queue="jobs", batch_size=10)
    def work(event: SQSEvent) -> dict:
        failed = [r.message_id for r in event if not process(r.body)]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

Attribute names follow Chalice where Chalice has them, so ported apps keep working;
the extra attributes follow the payload's own field names in snake_case.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar
from urllib.parse import unquote_plus

__all__ = [
    "BaseLambdaEvent",
    "CloudWatchEvent",
    "DynamoDBEvent",
    "DynamoDBRecord",
    "KinesisEvent",
    "KinesisRecord",
    "LambdaFunctionEvent",
    "S3Event",
    "SNSEvent",
    "SQSEvent",
    "SQSRecord",
]


def _utc_naive(seconds: float) -> datetime:
    # Chalice returns naive UTC datetimes (utcfromtimestamp); we keep that shape without
    # the deprecated call.
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


class BaseLambdaEvent:
    """A Lambda payload with typed attributes; `to_dict()` is the raw payload."""

    def __init__(self, event_dict: dict[str, Any], context: Any) -> None:
        self._event_dict: dict[str, Any] = event_dict
        self.context: Any = context
        self._extract_attributes(event_dict)

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        """Read the typed attributes off the payload (each subclass its own)."""

    def to_dict(self) -> dict[str, Any]:
        """The payload exactly as Lambda delivered it."""
        return self._event_dict

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._event_dict!r})"


_Record = TypeVar("_Record", bound=BaseLambdaEvent)


class _RecordBatch(BaseLambdaEvent, Generic[_Record]):
    """A batch (SQS, Kinesis, DynamoDB streams): iterate it for its typed records."""

    _record_type: type[_Record]

    def __iter__(self) -> Iterator[_Record]:
        for record in self._event_dict["Records"]:
            yield self._record_type(record, self.context)

    def __len__(self) -> int:
        return len(self._event_dict["Records"])


class LambdaFunctionEvent(BaseLambdaEvent):
    """What middleware sees for `@app.lambda_function()`: the raw event and context.

    The user's function itself still receives `(event, context)` as on Lambda.
    """

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        self.event: dict[str, Any] = event_dict


class CloudWatchEvent(BaseLambdaEvent):
    """An EventBridge (CloudWatch Events) event, including scheduled events."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        self.version: str = event_dict.get("version", "0")
        self.account: str = event_dict["account"]
        self.region: str = event_dict["region"]
        self.detail: dict[str, Any] = event_dict["detail"]
        self.detail_type: str = event_dict["detail-type"]
        self.source: str = event_dict["source"]
        self.time: str = event_dict["time"]
        self.event_id: str = event_dict["id"]
        self.resources: list[str] = event_dict["resources"]


class SNSEvent(BaseLambdaEvent):
    """An SNS notification (Lambda delivers one record per invocation)."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        record = event_dict["Records"][0]
        sns = record["Sns"]
        self.message: str = sns["Message"]
        self.subject: str | None = sns.get("Subject")
        self.message_attributes: dict[str, Any] = sns.get("MessageAttributes", {})
        self.message_id: str = sns["MessageId"]
        self.topic_arn: str = sns["TopicArn"]
        self.timestamp: str = sns["Timestamp"]
        self.subscription_arn: str = record.get("EventSubscriptionArn", "")


class S3Event(BaseLambdaEvent):
    """An S3 event notification; `key` is URL-decoded (`+` means space) as Chalice does."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        record = event_dict["Records"][0]
        s3 = record["s3"]
        obj = s3["object"]
        self.bucket: str = s3["bucket"]["name"]
        self.key: str = unquote_plus(obj["key"])
        self.event_name: str = record.get("eventName", "")
        self.event_time: str = record.get("eventTime", "")
        self.aws_region: str = record.get("awsRegion", "")
        self.size: int | None = obj.get("size")
        self.etag: str | None = obj.get("eTag")
        self.version_id: str | None = obj.get("versionId")
        self.sequencer: str | None = obj.get("sequencer")


class SQSRecord(BaseLambdaEvent):
    """One SQS message of a batch."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        self.body: str = event_dict["body"]
        self.receipt_handle: str = event_dict["receiptHandle"]
        self.message_id: str = event_dict["messageId"]
        self.attributes: dict[str, str] = event_dict.get("attributes", {})
        self.message_attributes: dict[str, Any] = event_dict.get("messageAttributes", {})
        self.md5_of_body: str = event_dict.get("md5OfBody", "")
        self.event_source_arn: str = event_dict.get("eventSourceARN", "")
        self.aws_region: str = event_dict.get("awsRegion", "")

    @property
    def queue_name(self) -> str:
        """The queue's name, the last part of `eventSourceARN`."""
        return self.event_source_arn.rsplit(":", 1)[-1]


class SQSEvent(_RecordBatch[SQSRecord]):
    """A batch of SQS messages; iterate it for `SQSRecord`s.

    The handler may return `{"batchItemFailures": [{"itemIdentifier": message_id}]}`
    to report a partial failure; the return value is passed through unchanged.
    """

    _record_type = SQSRecord


class KinesisRecord(BaseLambdaEvent):
    """One Kinesis record; `data` is the base64-decoded payload bytes."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        kinesis = event_dict["kinesis"]
        self.data: bytes = base64.b64decode(kinesis["data"])
        self.sequence_number: str = kinesis["sequenceNumber"]
        self.partition_key: str = kinesis["partitionKey"]
        self.schema_version: str = kinesis["kinesisSchemaVersion"]
        self.timestamp: datetime = _utc_naive(kinesis["approximateArrivalTimestamp"])
        self.event_id: str = event_dict.get("eventID", "")
        self.event_source_arn: str = event_dict.get("eventSourceARN", "")
        self.aws_region: str = event_dict.get("awsRegion", "")


class KinesisEvent(_RecordBatch[KinesisRecord]):
    """A batch of Kinesis records; iterate it for `KinesisRecord`s."""

    _record_type = KinesisRecord


class DynamoDBRecord(BaseLambdaEvent):
    """One DynamoDB stream record; images stay in DynamoDB's typed JSON ({"S": "x"})."""

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        dynamodb = event_dict["dynamodb"]
        created = dynamodb.get("ApproximateCreationDateTime")
        if created is not None and created > 1e11:
            # Some producers (and AWS for Kinesis-delivered records) send milliseconds.
            created = created / 1000.0
        self.timestamp: datetime | None = None if created is None else _utc_naive(created)
        self.keys: Any = dynamodb.get("Keys")
        self.new_image: Any = dynamodb.get("NewImage")
        self.old_image: Any = dynamodb.get("OldImage")
        self.sequence_number: str = dynamodb["SequenceNumber"]
        self.size_bytes: int = dynamodb["SizeBytes"]
        self.stream_view_type: str = dynamodb["StreamViewType"]
        self.aws_region: str = event_dict["awsRegion"]
        self.event_id: str = event_dict["eventID"]
        self.event_name: str = event_dict["eventName"]
        self.event_source_arn: str = event_dict["eventSourceARN"]
        self.user_identity: dict[str, str] | None = event_dict.get("userIdentity")

    @property
    def table_name(self) -> str:
        """The table's name from `eventSourceARN` (`...:table/Users/stream/...` -> Users)."""
        parts = self.event_source_arn.split(":", 5)
        if len(parts) != 6:
            return ""
        name_parts = parts[5].split("/")
        return name_parts[1] if len(name_parts) >= 2 else ""


class DynamoDBEvent(_RecordBatch[DynamoDBRecord]):
    """A batch of DynamoDB stream records; iterate it for `DynamoDBRecord`s."""

    _record_type = DynamoDBRecord
