"""Typed event objects read real Lambda payloads (fixtures copied under tests/fixtures)."""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from lambic.app import events as lambic_events
from lambic.app.events import (
    CloudWatchEvent,
    DynamoDBEvent,
    KinesisEvent,
    LambdaFunctionEvent,
    S3Event,
    SNSEvent,
    SQSEvent,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lambda-events" / "events"
CONTEXT = object()


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8-sig"))
    return data


def test_s3_event_exposes_bucket_and_url_decoded_key() -> None:
    event = S3Event(load("aws-lambda-go/s3-event.json"), CONTEXT)
    assert event.bucket == "sourcebucket"
    assert event.key == "Happy Face.jpg"
    assert event.version_id is not None
    assert event.context is CONTEXT


def test_s3_event_decodes_plus_as_space_as_chalice_does() -> None:
    payload = load("aws-lambda-dotnet/s3-event.json")
    payload["Records"] = payload["Records"][1:]
    assert S3Event(payload, None).key == "New File.jpg"


def test_s3_event_reads_removal_records_without_size() -> None:
    event = S3Event(load("powertools-python/s3EventDeleteObject.json"), None)
    assert event.event_name == "ObjectRemoved:Delete"
    assert event.size is None and event.etag is None
    assert event.sequencer == "0C0F6F405D6ED209E1"


def test_to_dict_returns_the_raw_payload_unchanged() -> None:
    payload = load("powertools-python/s3Event.json")
    assert S3Event(payload, None).to_dict() is payload


def test_sqs_event_iterates_records_with_their_fields() -> None:
    event = SQSEvent(load("powertools-python/sqsEvent.json"), CONTEXT)
    records = list(event)
    assert len(event) == 2
    assert [r.body for r in records] == ["Test message.", '{"message": "foo1"}']
    first = records[0]
    assert first.message_id == "059f36b4-87a3-44ab-83d2-661975830a7d"
    assert first.receipt_handle.startswith("AQEB")
    assert first.message_attributes["testAttr"]["dataType"] == "Number"
    assert first.attributes["ApproximateReceiveCount"] == "1"
    assert first.queue_name == "my-queue"
    assert first.aws_region == "us-east-2"
    assert first.context is CONTEXT


def test_sqs_record_accepts_an_empty_body() -> None:
    (record,) = SQSEvent(load("aws-lambda-java-libs/sqs_event_nobody.json"), None)
    assert record.body == ""


def test_sns_event_exposes_message_subject_and_attributes() -> None:
    event = SNSEvent(load("powertools-python/snsEvent.json"), None)
    assert event.message == "Hello from SNS!"
    assert event.subject == "TestInvoke"
    assert event.message_attributes["Test"] == {"Type": "String", "Value": "TestString"}
    assert event.topic_arn == "arn:aws:sns:us-east-2:123456789012:sns-lambda"


def test_sns_event_subject_is_none_when_aws_sends_null() -> None:
    payload = load("aws-lambda-go/sns-event.json")
    payload["Records"][0]["Sns"]["Subject"] = None
    assert SNSEvent(payload, None).subject is None


def test_cloudwatch_event_maps_hyphenated_fields() -> None:
    event = CloudWatchEvent(load("aws-lambda-dotnet/scheduled-event.json"), None)
    assert event.detail_type == "Scheduled Event"
    assert event.source == "aws.events"
    assert event.resources == ["arn:aws:events:us-east-1:123456789012:rule/my-schedule"]
    assert event.detail == {}
    assert event.event_id == "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c"
    assert event.version == "0"


def test_cloudwatch_event_without_version_defaults_to_zero() -> None:
    event = CloudWatchEvent(
        load("aws-lambda-rust-runtime/example-eventbridge-event-obj.json"), None
    )
    assert event.version == "0"
    assert event.detail["state"] == "pending"


def test_dynamodb_records_expose_images_and_table_name() -> None:
    event = DynamoDBEvent(load("aws-lambda-go/dynamodb-event.json"), None)
    records = list(event)
    first = records[0]
    assert first.event_name == "INSERT"
    assert first.table_name == "Example-Table"
    assert first.keys == {"val": {"S": "data"}, "key": {"S": "binary"}}
    assert first.new_image["asdf1"] == {"B": "AAEqQQ=="}
    assert first.old_image is None
    assert first.timestamp == datetime(2016, 12, 2, 1, 27)
    assert first.user_identity == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert first.size_bytes == 54


def test_dynamodb_timestamp_accepts_milliseconds() -> None:
    records = list(DynamoDBEvent(load("aws-lambda-dotnet/dynamodb-with-ms-event.json"), None))
    years = {r.timestamp.year for r in records if r.timestamp is not None}
    assert years and all(1990 < y < 2100 for y in years)


def test_dynamodb_table_name_is_empty_for_a_non_arn_source() -> None:
    (first, _) = DynamoDBEvent(load("powertools-python/dynamoStreamEvent.json"), None)
    assert first.table_name == ""


def test_kinesis_records_decode_base64_data() -> None:
    records = list(KinesisEvent(load("powertools-python/kinesisStreamEvent.json"), None))
    assert [r.data for r in records] == [b"Hello, this is a test.", b"This is only a test."]
    assert records[0].partition_key == "1"
    assert records[0].timestamp == datetime(2018, 12, 17, 22, 10, 50, 987000)


def test_lambda_function_event_keeps_event_and_context() -> None:
    event = LambdaFunctionEvent({"a": 1}, CONTEXT)
    assert event.event == {"a": 1} == event.to_dict()
    assert event.context is CONTEXT


# Chalice's own event classes (a dev dependency) read the same payloads; every
# attribute Chalice exposes must have the same value on ours, so ported handlers
# behave identically.
CHALICE_ATTRIBUTES: list[tuple[str, str, list[str]]] = [
    ("S3Event", "aws-lambda-go/s3-event.json", ["bucket", "key"]),
    ("S3Event", "aws-lambda-dotnet/s3-event.json", ["bucket", "key"]),
    ("SNSEvent", "powertools-python/snsEvent.json", ["message", "subject", "message_attributes"]),
    (
        "CloudWatchEvent",
        "powertools-python/eventBridgeEvent.json",
        [
            "version",
            "account",
            "region",
            "detail",
            "detail_type",
            "source",
            "time",
            "event_id",
            "resources",
        ],
    ),
]
CHALICE_RECORDS: list[tuple[str, str, list[str]]] = [
    ("SQSEvent", "powertools-python/sqsEvent.json", ["body", "receipt_handle"]),
    (
        "KinesisEvent",
        "powertools-python/kinesisStreamEvent.json",
        ["data", "sequence_number", "partition_key", "schema_version", "timestamp"],
    ),
    (
        "DynamoDBEvent",
        "aws-lambda-go/dynamodb-event.json",
        [
            "timestamp",
            "keys",
            "new_image",
            "old_image",
            "sequence_number",
            "size_bytes",
            "stream_view_type",
            "aws_region",
            "event_id",
            "event_name",
            "event_source_arn",
            "table_name",
        ],
    ),
]


@pytest.mark.parametrize(("class_name", "fixture", "attributes"), CHALICE_ATTRIBUTES)
def test_event_attributes_equal_chalices(
    class_name: str, fixture: str, attributes: list[str]
) -> None:
    chalice_app = pytest.importorskip("chalice.app")
    payload = load(fixture)
    ours = getattr(lambic_events, class_name)(payload, None)
    theirs = getattr(chalice_app, class_name)(payload, None)
    for name in attributes:
        assert getattr(ours, name) == getattr(theirs, name), name


@pytest.mark.parametrize(("class_name", "fixture", "attributes"), CHALICE_RECORDS)
def test_record_attributes_equal_chalices(
    class_name: str, fixture: str, attributes: list[str]
) -> None:
    chalice_app = pytest.importorskip("chalice.app")
    payload = load(fixture)
    ours = list(getattr(lambic_events, class_name)(payload, None))
    with warnings.catch_warnings():
        # Chalice calls datetime.utcfromtimestamp, deprecated on newer Pythons.
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = list(getattr(chalice_app, class_name)(payload, None))
    assert len(ours) == len(theirs)
    for mine, chalice_record in zip(ours, theirs, strict=True):
        for name in attributes:
            assert getattr(mine, name) == getattr(chalice_record, name), name
