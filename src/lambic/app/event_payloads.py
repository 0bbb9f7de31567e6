"""Build Lambda event payloads in AWS's exact shapes: S3, SQS, SNS, EventBridge, streams.

One module builds them for everyone: the test client's `client.events.generate_*`
and the local runtime's event sources (S3 notifications, SQS polling, SNS fan-out,
the scheduler, DynamoDB streams) call these functions, so a handler sees the same
bytes in a unit test, under `lambic local` and on AWS. Key order follows AWS's own
payloads so `json.dumps` output matches too.

    >>> record = create_s3_record(bucket="photos", key="my cat.jpg", size=3)
    >>> record["s3"]["object"]["key"], record["eventName"]
    ('my+cat.jpg', 'ObjectCreated:Put')
    >>> create_scheduled_event(rule_arn="arn:aws:events:us-east-1:123456789012:rule/r")[
    ...     "detail-type"]
    'Scheduled Event'

Every argument but the essentials has a realistic default; pass ids and times to get
deterministic output.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import struct
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote_plus

from lambic.app.proxy_events import SAMPLE_ACCOUNT_ID

__all__ = [
    "DEFAULT_REGION",
    "SAMPLE_ACCOUNT_ID",
    "create_dynamodb_event",
    "create_dynamodb_record",
    "create_eventbridge_event",
    "create_kinesis_event",
    "create_kinesis_record",
    "create_s3_event",
    "create_s3_record",
    "create_scheduled_event",
    "create_sns_event",
    "create_sns_record",
    "create_sqs_event",
    "create_sqs_record",
    "encode_s3_key",
    "format_iso_ms",
    "format_iso_seconds",
    "region_from_arn",
    "sqs_message_attributes_md5",
]

#: The region the local cloud reports unless told otherwise.
DEFAULT_REGION = "us-east-1"

# AWS ids look like these; local ones keep the format so parsers written against
# real events accept ours.
_LOCAL_PRINCIPAL = "AWS:AIDALAMBICLOCALUSER01"
_LOCAL_OWNER = "A1LAMBICLOCALOWNER"
_LOCAL_SENDER = "AIDALAMBICLOCALUSER01"
_sequence = itertools.count(1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return _now()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_iso_ms(moment: datetime | None = None) -> str:
    """`2019-09-03T19:37:27.192Z`: S3 and SNS timestamps (UTC, milliseconds)."""
    moment = _utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_iso_seconds(moment: datetime | None = None) -> str:
    """`2015-10-08T16:53:06Z`: EventBridge timestamps (UTC, whole seconds)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def region_from_arn(arn: str, default: str = DEFAULT_REGION) -> str:
    """The region part of an ARN (`arn:aws:sqs:eu-west-1:...` -> eu-west-1)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[3] else default


def _account_from_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[0] == "arn" and parts[4] else SAMPLE_ACCOUNT_ID


def _upper_hex(length: int) -> str:
    return uuid.uuid4().hex.upper()[:length]


# ---------------------------------------------------------------------------- S3


def encode_s3_key(key: str) -> str:
    """URL-encode an object key the way S3 notifications do (`+` for space, `/` kept)."""
    return quote_plus(key, safe="/")


def create_s3_record(
    *,
    bucket: str,
    key: str,
    event_name: str = "ObjectCreated:Put",
    size: int = 0,
    etag: str | None = None,
    version_id: str | None = None,
    sequencer: str | None = None,
    region: str = DEFAULT_REGION,
    event_time: datetime | None = None,
    principal_id: str = _LOCAL_PRINCIPAL,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    host_id: str | None = None,
    configuration_id: str | None = None,
    owner_id: str = _LOCAL_OWNER,
) -> dict[str, Any]:
    """One S3 event notification record (eventVersion 2.1).

    `event_name` is given without the `s3:` prefix, as AWS sends it
    ("ObjectCreated:Put"); a leading `s3:` is dropped. Removal events carry only the
    key, version id and sequencer, as on AWS.
    """
    event_name = event_name.removeprefix("s3:")
    obj: dict[str, Any] = {"key": encode_s3_key(key)}
    if not event_name.startswith("ObjectRemoved"):
        obj["size"] = size
        obj["eTag"] = etag if etag is not None else hashlib.md5(b"").hexdigest()
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer if sequencer is not None else f"{time.time_ns():018X}"[-18:]
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": format_iso_ms(event_time),
        "eventName": event_name,
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {
            "x-amz-request-id": request_id if request_id is not None else _upper_hex(16),
            "x-amz-id-2": host_id
            if host_id is not None
            else base64.b64encode(uuid.uuid4().bytes * 3).decode("ascii"),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id
            if configuration_id is not None
            else str(uuid.uuid4()),
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": owner_id},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def create_s3_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda payload for S3 records: `{"Records": [...]}`."""
    return {"Records": list(records)}


# ---------------------------------------------------------------------------- SQS


def _is_binary_type(data_type: str) -> bool:
    return data_type.split(".", 1)[0] == "Binary"


def _binary_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else base64.b64decode(value)


def sqs_message_attributes_md5(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """SQS's MD5 of message attributes (the `MD5OfMessageAttributes` algorithm).

    Per attribute, sorted by name: length-prefixed name, length-prefixed data type,
    a transport byte (1 string, 2 binary), length-prefixed value; lengths are 4-byte
    big-endian. `attributes` is in the SendMessage API form
    (`{"DataType": "String", "StringValue": "x"}`).
    """
    digest = hashlib.md5()

    def put(data: bytes) -> None:
        digest.update(struct.pack(">I", len(data)))
        digest.update(data)

    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = str(attribute["DataType"])
        put(name.encode("utf-8"))
        put(data_type.encode("utf-8"))
        if _is_binary_type(data_type):
            digest.update(b"\x02")
            put(_binary_bytes(attribute["BinaryValue"]))
        else:
            digest.update(b"\x01")
            put(str(attribute["StringValue"]).encode("utf-8"))
    return digest.hexdigest()


def _lambda_sqs_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """API-form message attributes -> the camelCase form Lambda delivers."""
    converted: dict[str, Any] = {}
    for name, attribute in attributes.items():
        data_type = str(attribute["DataType"])
        entry: dict[str, Any] = {}
        if _is_binary_type(data_type):
            raw = _binary_bytes(attribute["BinaryValue"])
            entry["binaryValue"] = base64.b64encode(raw).decode("ascii")
        else:
            entry["stringValue"] = str(attribute["StringValue"])
        entry["stringListValues"] = []
        entry["binaryListValues"] = []
        entry["dataType"] = data_type
        converted[name] = entry
    return converted


def create_sqs_record(
    *,
    body: str,
    queue_arn: str,
    message_id: str | None = None,
    receipt_handle: str | None = None,
    sent_timestamp_ms: int | None = None,
    first_receive_timestamp_ms: int | None = None,
    receive_count: int = 1,
    sender_id: str = _LOCAL_SENDER,
    message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    extra_attributes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One SQS message as Lambda's event source mapping delivers it.

    `message_attributes` uses the SendMessage API form; `extra_attributes` adds
    system attributes such as FIFO's MessageGroupId or AWSTraceHeader.
    """
    now_ms = int(time.time() * 1000)
    sent = now_ms if sent_timestamp_ms is None else sent_timestamp_ms
    first = now_ms if first_receive_timestamp_ms is None else first_receive_timestamp_ms
    attributes: dict[str, str] = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(sent),
        "SenderId": sender_id,
        "ApproximateFirstReceiveTimestamp": str(first),
    }
    if extra_attributes:
        attributes.update(extra_attributes)
    record: dict[str, Any] = {
        "messageId": message_id if message_id is not None else str(uuid.uuid4()),
        "receiptHandle": receipt_handle
        if receipt_handle is not None
        else "AQEB" + base64.b64encode(uuid.uuid4().bytes * 4).decode("ascii"),
        "body": body,
        "attributes": attributes,
        "messageAttributes": _lambda_sqs_attributes(message_attributes or {}),
        "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
    }
    if message_attributes:
        record["md5OfMessageAttributes"] = sqs_message_attributes_md5(message_attributes)
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = queue_arn
    record["awsRegion"] = region_from_arn(queue_arn)
    return record


def create_sqs_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda payload for a batch of SQS records."""
    return {"Records": list(records)}


# ---------------------------------------------------------------------------- SNS


def _lambda_sns_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for name, attribute in attributes.items():
        if "DataType" not in attribute and "Type" in attribute:
            # Already in the form Lambda receives (Chalice's test client takes this one).
            converted[name] = {"Type": str(attribute["Type"]), "Value": str(attribute["Value"])}
            continue
        data_type = str(attribute["DataType"])
        if _is_binary_type(data_type):
            value = base64.b64encode(_binary_bytes(attribute["BinaryValue"])).decode("ascii")
        else:
            value = str(attribute["StringValue"])
        converted[name] = {"Type": data_type, "Value": value}
    return converted


def create_sns_record(
    *,
    message: str,
    topic_arn: str,
    subject: str | None = None,
    message_id: str | None = None,
    timestamp: datetime | None = None,
    message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    subscription_arn: str | None = None,
    signing_cert_url: str | None = None,
    unsubscribe_url: str | None = None,
) -> dict[str, Any]:
    """One SNS notification as Lambda receives it (`Subject` is null when not given).

    `message_attributes` uses the Publish API form (`{"DataType", "StringValue"}`) or
    the one Lambda receives (`{"Type", "Value"}`, as Chalice's test client takes it).
    The signature cannot be AWS's own locally; it is a stable base64 value of the
    right length.
    """
    region = region_from_arn(topic_arn)
    if subscription_arn is None:
        subscription_arn = f"{topic_arn}:{uuid.uuid4()}"
    message_id = message_id if message_id is not None else str(uuid.uuid4())
    signed = hashlib.sha256(f"{message_id}\n{message}".encode()).digest()
    signature = base64.b64encode(signed * 8).decode("ascii")
    cert_id = hashlib.md5(region.encode("utf-8")).hexdigest()
    if signing_cert_url is None:
        signing_cert_url = (
            f"https://sns.{region}.amazonaws.com/SimpleNotificationService-{cert_id}.pem"
        )
    if unsubscribe_url is None:
        unsubscribe_url = (
            f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={subscription_arn}"
        )
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": format_iso_ms(timestamp),
            "SignatureVersion": "1",
            "Signature": signature,
            "SigningCertUrl": signing_cert_url,
            "UnsubscribeUrl": unsubscribe_url,
            "MessageAttributes": _lambda_sns_attributes(message_attributes or {}),
        },
    }


def create_sns_event(record: dict[str, Any]) -> dict[str, Any]:
    """The Lambda payload for one SNS notification (SNS delivers one per invoke)."""
    return {"Records": [record]}


# ---------------------------------------------------------------------- EventBridge


def create_eventbridge_event(
    *,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    resources: Sequence[str] = (),
    region: str = DEFAULT_REGION,
    account: str = SAMPLE_ACCOUNT_ID,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An EventBridge event as a rule target receives it (`version` is the string "0")."""
    return {
        "version": "0",
        "id": event_id if event_id is not None else str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": format_iso_seconds(time),
        "region": region,
        "resources": list(resources),
        "detail": dict(detail),
    }


def create_scheduled_event(
    *, rule_arn: str, time: datetime | None = None, event_id: str | None = None
) -> dict[str, Any]:
    """The "Scheduled Event" a schedule rule sends (source aws.events, detail {})."""
    return create_eventbridge_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=[rule_arn],
        region=region_from_arn(rule_arn),
        account=_account_from_arn(rule_arn),
        time=time,
        event_id=event_id,
    )


# ------------------------------------------------------------------------ DynamoDB

_IMAGES_BY_VIEW = {
    "KEYS_ONLY": (False, False),
    "NEW_IMAGE": (True, False),
    "OLD_IMAGE": (False, True),
    "NEW_AND_OLD_IMAGES": (True, True),
}


def _attribute_size(value: Mapping[str, Any]) -> int:
    """DynamoDB's documented item-size rules for one typed value ({"S": "x"})."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(_binary_bytes(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_attribute_size({kind[0]: item}) for item in inner)
    if kind == "L":
        return 3 + sum(1 + _attribute_size(item) for item in inner)
    if kind == "M":
        return 3 + sum(
            1 + len(name.encode("utf-8")) + _attribute_size(item) for name, item in inner.items()
        )
    return 0


def _image_size(image: Mapping[str, Mapping[str, Any]] | None) -> int:
    if not image:
        return 0
    return sum(len(name.encode("utf-8")) + _attribute_size(v) for name, v in image.items())


def create_dynamodb_record(
    *,
    event_name: str,
    keys: Mapping[str, Any],
    stream_arn: str,
    new_image: Mapping[str, Any] | None = None,
    old_image: Mapping[str, Any] | None = None,
    stream_view_type: str = "NEW_AND_OLD_IMAGES",
    sequence_number: str | None = None,
    size_bytes: int | None = None,
    created: datetime | None = None,
    event_id: str | None = None,
    user_identity: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One DynamoDB stream record (eventVersion 1.1) in DynamoDB's typed JSON.

    Images are included as `stream_view_type` says (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE,
    NEW_AND_OLD_IMAGES). `user_identity` marks TTL deletions
    (`{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`).
    """
    if event_name not in ("INSERT", "MODIFY", "REMOVE"):
        raise ValueError(f"event_name must be INSERT, MODIFY or REMOVE, got {event_name!r}")
    if stream_view_type not in _IMAGES_BY_VIEW:
        raise ValueError(
            f"stream_view_type must be one of {', '.join(_IMAGES_BY_VIEW)}, "
            f"got {stream_view_type!r}"
        )
    want_new, want_old = _IMAGES_BY_VIEW[stream_view_type]
    moment = _utc(created)
    dynamodb: dict[str, Any] = {
        # AWS sends whole seconds as a JSON number.
        "ApproximateCreationDateTime": float(int(moment.timestamp())),
        "Keys": dict(keys),
    }
    if want_new and new_image is not None:
        dynamodb["NewImage"] = dict(new_image)
    if want_old and old_image is not None:
        dynamodb["OldImage"] = dict(old_image)
    if sequence_number is None:
        sequence_number = f"{time.time_ns() // 1000:d}{next(_sequence) % 100000:05d}"
    dynamodb["SequenceNumber"] = sequence_number
    if size_bytes is None:
        size_bytes = (
            _image_size(dynamodb["Keys"])
            + _image_size(dynamodb.get("NewImage"))
            + _image_size(dynamodb.get("OldImage"))
        )
    dynamodb["SizeBytes"] = size_bytes
    dynamodb["StreamViewType"] = stream_view_type
    record: dict[str, Any] = {
        "eventID": event_id if event_id is not None else uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region_from_arn(stream_arn),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if user_identity is not None:
        record["userIdentity"] = dict(user_identity)
    return record


def create_dynamodb_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda payload for a batch of DynamoDB stream records."""
    return {"Records": list(records)}


# ------------------------------------------------------------------------- Kinesis


def create_kinesis_record(
    *,
    data: bytes,
    stream_arn: str,
    partition_key: str = "1",
    sequence_number: str | None = None,
    arrival_time: datetime | None = None,
    shard_id: str = "shardId-000000000000",
    invoke_identity_arn: str | None = None,
    encryption_type: str | None = None,
) -> dict[str, Any]:
    """One Kinesis Data Streams record as Lambda delivers it (data base64-encoded)."""
    if sequence_number is None:
        # 56 digits like Kinesis's own, increasing within a process.
        sequence_number = f"49{time.time_ns():020d}{next(_sequence):034d}"
    kinesis: dict[str, Any] = {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": partition_key,
        "sequenceNumber": sequence_number,
        "data": base64.b64encode(data).decode("ascii"),
        "approximateArrivalTimestamp": round(_utc(arrival_time).timestamp(), 3),
    }
    if encryption_type is not None:
        kinesis["encryptionType"] = encryption_type
    if invoke_identity_arn is None:
        invoke_identity_arn = f"arn:aws:iam::{_account_from_arn(stream_arn)}:role/lambda-role"
    return {
        "kinesis": kinesis,
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": region_from_arn(stream_arn),
        "eventSourceARN": stream_arn,
    }


def create_kinesis_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda payload for a batch of Kinesis records."""
    return {"Records": list(records)}
