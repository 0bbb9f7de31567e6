"""Our event payloads have exactly the keys and value types of real AWS events.

Each case builds a payload with `lambic.app.event_payloads` from the same essentials
as a real sample (tests/fixtures/lambda-events/events, see ORIGIN.md there) and
compares the two structurally: the same keys at every level, the same JSON value
types (numbers compare as numbers, whether int or float), the same top-level key
order. Samples that are not faithful AWS payloads (library artefacts, hand-written
oddities) are left out; their notes are in ORIGIN.md.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lambic.app.event_payloads import (
    create_dynamodb_event,
    create_dynamodb_record,
    create_eventbridge_event,
    create_kinesis_event,
    create_kinesis_record,
    create_s3_event,
    create_s3_record,
    create_scheduled_event,
    create_sns_event,
    create_sns_record,
    create_sqs_event,
    create_sqs_record,
)
from lambic.app.events import (
    CloudWatchEvent,
    DynamoDBEvent,
    KinesisEvent,
    S3Event,
    SNSEvent,
    SQSEvent,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lambda-events" / "events"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8-sig"))
    return data


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types, not the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def _s3_like(real: dict[str, Any]) -> dict[str, Any]:
    obj = real["s3"]["object"]
    return create_s3_record(
        bucket=real["s3"]["bucket"]["name"],
        key=obj["key"],
        event_name=real["eventName"],
        size=obj.get("size", 0),
        version_id=obj.get("versionId"),
        region=real["awsRegion"],
    )


def _api_sqs_attributes(lambda_form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    converted: dict[str, dict[str, Any]] = {}
    for name, attribute in lambda_form.items():
        if attribute["dataType"].startswith("Binary"):
            converted[name] = {"DataType": attribute["dataType"], "BinaryValue": b"\x01"}
        else:
            converted[name] = {"DataType": attribute["dataType"], "StringValue": "v"}
    return converted


def _sqs_like(real: dict[str, Any]) -> dict[str, Any]:
    extra = {
        k: v
        for k, v in real["attributes"].items()
        if k
        not in (
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
        )
    }
    return create_sqs_record(
        body=real["body"],
        queue_arn=real["eventSourceARN"],
        message_attributes=_api_sqs_attributes(real["messageAttributes"]),
        extra_attributes=extra,
    )


def _sns_like(real: dict[str, Any]) -> dict[str, Any]:
    sns = real["Sns"]
    attributes = {
        name: (
            {"DataType": a["Type"], "BinaryValue": b"\x01"}
            if a["Type"] == "Binary"
            else {"DataType": a["Type"], "StringValue": a["Value"]}
        )
        for name, a in sns.get("MessageAttributes", {}).items()
    }
    return create_sns_record(
        message=sns["Message"],
        topic_arn=sns["TopicArn"],
        subject=sns["Subject"],
        message_attributes=attributes,
    )


def _ddb_like(real: dict[str, Any]) -> dict[str, Any]:
    dynamodb = real["dynamodb"]
    return create_dynamodb_record(
        event_name=real["eventName"],
        keys=dynamodb["Keys"],
        new_image=dynamodb.get("NewImage"),
        old_image=dynamodb.get("OldImage"),
        stream_arn=real["eventSourceARN"],
        stream_view_type=dynamodb["StreamViewType"],
        user_identity=real.get("userIdentity"),
    )


def _kinesis_like(real: dict[str, Any]) -> dict[str, Any]:
    kinesis = real["kinesis"]
    return create_kinesis_record(
        data=base64.b64decode(kinesis["data"]),
        stream_arn=real["eventSourceARN"],
        partition_key=kinesis["partitionKey"],
        encryption_type=kinesis.get("encryptionType"),
    )


RECORD_CASES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
    ("powertools-python/s3Event.json", _s3_like),
    ("powertools-python/s3EventDeleteObject.json", _s3_like),
    ("aws-lambda-go/s3-event.json", _s3_like),
    ("aws-lambda-dotnet/s3-event.json", _s3_like),
    ("powertools-python/sqsEvent.json", _sqs_like),
    ("aws-lambda-go/sqs-event.json", _sqs_like),
    ("aws-lambda-java-libs/sqs_event_nobody.json", _sqs_like),
    ("powertools-python/snsSqsFifoEvent.json", _sqs_like),
    ("powertools-python/snsEvent.json", _sns_like),
    ("aws-lambda-go/sns-event.json", _sns_like),
    ("powertools-python/dynamoStreamEvent.json", _ddb_like),
    ("aws-lambda-go/dynamodb-event.json", _ddb_like),
    ("aws-lambda-dotnet/dynamodb-with-ms-event.json", _ddb_like),
    ("powertools-python/kinesisStreamEvent.json", _kinesis_like),
    ("aws-lambda-go/kinesis-event.json", _kinesis_like),
    ("aws-lambda-rust-runtime/example-kinesis-event-encrypted.json", _kinesis_like),
]


def _fixture_records(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = load(name)["Records"]
    if name == "powertools-python/sqsEvent.json":
        # Its first record pairs stringValue with binaryValue on one Number attribute,
        # which SQS never sends; the second record is faithful.
        records = records[1:]
    if name == "powertools-python/dynamoStreamEvent.json":
        # Its MODIFY record lacks ApproximateCreationDateTime, which DynamoDB Streams
        # always sets; the INSERT record is faithful.
        records = records[:1]
    if name == "aws-lambda-go/sqs-event.json":
        # Keep the String attribute: the other two carry list values SQS does not
        # implement (AWS reserves them) and mix Binary with stringListValues.
        for record in records:
            record["messageAttributes"] = {
                k: v for k, v in record["messageAttributes"].items() if k == "Attribute1"
            }
            record.pop("md5OfMessageAttributes")
            record["md5OfMessageAttributes"] = "x"
    return records


@pytest.mark.parametrize(("name", "build"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_generated_records_have_the_same_keys_and_types_as_real_ones(
    name: str, build: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    records = _fixture_records(name)
    assert records
    for real in records:
        ours = build(real)
        assert shape(ours) == shape(real), name
        assert sorted(ours) == sorted(real)


@pytest.mark.parametrize(
    "name",
    [
        "aws-lambda-dotnet/scheduled-event.json",
        "aws-lambda-rust-runtime/example-eventbridge-schedule.json",
    ],
)
def test_scheduled_events_match_real_ones(name: str) -> None:
    real = load(name)
    ours = create_scheduled_event(rule_arn=real["resources"][0])
    assert shape(ours) == shape(real)
    assert ours["source"] == real["source"] and ours["detail-type"] == real["detail-type"]
    assert (ours["region"], ours["account"]) == (real["region"], real["account"])


def test_eventbridge_events_match_a_real_one() -> None:
    real = load("powertools-python/eventBridgeEvent.json")
    real.pop("replay-name")  # only present on events replayed from an archive
    ours = create_eventbridge_event(
        source=real["source"],
        detail_type=real["detail-type"],
        detail=real["detail"],
        resources=real["resources"],
        region=real["region"],
        account=real["account"],
    )
    assert shape(ours) == shape(real)
    assert list(ours) == list(real)


def test_our_timestamps_parse_like_real_ones() -> None:
    s3_real = load("powertools-python/s3Event.json")["Records"][0]["eventTime"]
    s3_ours = create_s3_record(bucket="b", key="k")["eventTime"]
    sns_ours = create_sns_record(message="m", topic_arn="arn:aws:sns:us-east-1:1:t")["Sns"][
        "Timestamp"
    ]
    for text in (s3_real, s3_ours, sns_ours):
        assert len(text) == len("2019-09-03T19:37:27.192Z")
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def test_typed_events_read_our_payloads_and_real_ones_alike() -> None:
    # The same event classes accept both: handlers cannot tell a local event from AWS's.
    pairs: list[tuple[type[Any], dict[str, Any], dict[str, Any]]] = [
        (
            S3Event,
            load("powertools-python/s3Event.json"),
            create_s3_event([_s3_like(load("powertools-python/s3Event.json")["Records"][0])]),
        ),
        (
            SQSEvent,
            load("powertools-python/sqsEvent.json"),
            create_sqs_event([create_sqs_record(body="b", queue_arn="arn:aws:sqs:us-east-1:1:q")]),
        ),
        (
            SNSEvent,
            load("powertools-python/snsEvent.json"),
            create_sns_event(create_sns_record(message="m", topic_arn="arn:aws:sns:us-east-1:1:t")),
        ),
        (
            CloudWatchEvent,
            load("powertools-python/eventBridgeEvent.json"),
            create_eventbridge_event(source="s", detail_type="d", detail={}),
        ),
        (
            DynamoDBEvent,
            load("aws-lambda-go/dynamodb-event.json"),
            create_dynamodb_event(
                [
                    create_dynamodb_record(
                        event_name="INSERT",
                        keys={"k": {"S": "1"}},
                        stream_arn="arn:aws:dynamodb:us-east-1:1:table/T/stream/x",
                    )
                ]
            ),
        ),
        (
            KinesisEvent,
            load("aws-lambda-go/kinesis-event.json"),
            create_kinesis_event(
                [
                    create_kinesis_record(
                        data=b"d", stream_arn="arn:aws:kinesis:us-east-1:1:stream/s"
                    )
                ]
            ),
        ),
    ]
    for event_class, real, ours in pairs:
        for payload in (real, ours):
            event = event_class(payload, None)
            if hasattr(event, "__iter__"):
                assert list(event)
            assert event.to_dict() is payload


def test_sqs_partial_batch_response_shape_matches_aws() -> None:
    # What an SQS handler returns is passed through; AWS's documented shape is this.
    for name in (
        "aws-lambda-rust-runtime/example-sqs-batch-response.json",
        "aws-lambda-java-libs/sqs_batch_response.json",
    ):
        real = load(name)
        ours = {"batchItemFailures": [{"itemIdentifier": "id"}]}
        assert shape(ours) == shape(real)
