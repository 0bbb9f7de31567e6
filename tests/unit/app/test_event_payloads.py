"""Event payload builders: AWS's exact field values and formats."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambic.app.event_payloads import (
    create_dynamodb_record,
    create_eventbridge_event,
    create_kinesis_record,
    create_s3_event,
    create_s3_record,
    create_scheduled_event,
    create_sns_event,
    create_sns_record,
    create_sqs_record,
    encode_s3_key,
    format_iso_ms,
    format_iso_seconds,
    region_from_arn,
    sqs_message_attributes_md5,
)

WHEN = datetime(2026, 11, 25, 9, 5, 28, 123456, tzinfo=timezone.utc)
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:jobs"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:alerts"
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"


def test_timestamps_use_aws_formats() -> None:
    assert format_iso_ms(WHEN) == "2026-11-25T09:05:28.123Z"
    assert format_iso_seconds(WHEN) == "2026-11-25T09:05:28Z"
    assert format_iso_ms(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("my cat.jpg", "my+cat.jpg"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("year=2026/x+y.csv", "year%3D2026/x%2By.csv"),
        ("café.png", "caf%C3%A9.png"),
        ("a-b_c.d~e", "a-b_c.d~e"),
    ],
)
def test_s3_keys_are_url_encoded_with_plus_for_space(key: str, encoded: str) -> None:
    assert encode_s3_key(key) == encoded


def test_s3_record_has_aws_fields_in_aws_order() -> None:
    record = create_s3_record(
        bucket="photos",
        key="in/my cat.jpg",
        size=3,
        etag="abc",
        region="eu-west-1",
        event_time=WHEN,
        request_id="C3D13FE58DE4C810",
        host_id="host",
        configuration_id="cfg",
        sequencer="0055AED6DCD90281E5",
        source_ip="10.0.0.1",
    )
    assert record == {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "eu-west-1",
        "eventTime": "2026-11-25T09:05:28.123Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDALAMBICLOCALUSER01"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "host"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "cfg",
            "bucket": {
                "name": "photos",
                "ownerIdentity": {"principalId": "A1LAMBICLOCALOWNER"},
                "arn": "arn:aws:s3:::photos",
            },
            "object": {
                "key": "in/my+cat.jpg",
                "size": 3,
                "eTag": "abc",
                "sequencer": "0055AED6DCD90281E5",
            },
        },
    }
    assert list(record)[:3] == ["eventVersion", "eventSource", "awsRegion"]


def test_s3_record_strips_the_s3_prefix_and_drops_size_for_removals() -> None:
    record = create_s3_record(bucket="b", key="k", event_name="s3:ObjectRemoved:Delete")
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert set(record["s3"]["object"]) == {"key", "sequencer"}
    versioned = create_s3_record(bucket="b", key="k", version_id="v1")
    assert versioned["s3"]["object"]["versionId"] == "v1"
    assert versioned["s3"]["object"]["eTag"] == hashlib.md5(b"").hexdigest()


def test_s3_defaults_are_realistic_ids() -> None:
    record = create_s3_record(bucket="b", key="k")
    request_id = record["responseElements"]["x-amz-request-id"]
    assert len(request_id) == 16 and request_id == request_id.upper()
    assert len(record["s3"]["object"]["sequencer"]) == 18
    assert create_s3_event([record]) == {"Records": [record]}


def test_sqs_record_matches_lambda_shape_and_md5s() -> None:
    record = create_sqs_record(
        body="hello",
        queue_arn=QUEUE_ARN,
        message_id="m-1",
        receipt_handle="rh",
        sent_timestamp_ms=1700000000000,
        first_receive_timestamp_ms=1700000000005,
        receive_count=2,
    )
    assert record == {
        "messageId": "m-1",
        "receiptHandle": "rh",
        "body": "hello",
        "attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDALAMBICLOCALUSER01",
            "ApproximateFirstReceiveTimestamp": "1700000000005",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(b"hello").hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "eu-west-1",
    }


def test_sqs_message_attributes_use_lambda_camel_case_form() -> None:
    record = create_sqs_record(
        body="x",
        queue_arn=QUEUE_ARN,
        message_attributes={
            "Name": {"DataType": "String", "StringValue": "Ann"},
            "Age": {"DataType": "Number", "StringValue": "42"},
            "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        extra_attributes={"MessageGroupId": "g1"},
    )
    assert record["messageAttributes"] == {
        "Name": {
            "stringValue": "Ann",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "Age": {
            "stringValue": "42",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Number",
        },
        "Blob": {
            "binaryValue": "AAE=",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert record["attributes"]["MessageGroupId"] == "g1"
    assert len(record["md5OfMessageAttributes"]) == 32


def test_sqs_attribute_md5_matches_what_the_sqs_api_reports() -> None:
    attributes: dict[str, dict[str, Any]] = {
        "Name": {"DataType": "String", "StringValue": "Ann"},
        "Age": {"DataType": "Number.int", "StringValue": "42"},
        "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    with mock_aws():
        sqs = boto3.client(
            "sqs",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        url = sqs.create_queue(QueueName="md5")["QueueUrl"]
        sent = sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attributes)
    assert sqs_message_attributes_md5(attributes) == sent["MD5OfMessageAttributes"]
    # base64 text is accepted for binary values as well as bytes
    as_text = dict(attributes, Blob={"DataType": "Binary", "BinaryValue": "AAH/"})
    assert sqs_message_attributes_md5(as_text) == sent["MD5OfMessageAttributes"]


def test_sns_record_has_lambda_shape_and_null_subject_by_default() -> None:
    record = create_sns_record(
        message="hi",
        topic_arn=TOPIC_ARN,
        message_id="mid",
        timestamp=WHEN,
        subscription_arn=f"{TOPIC_ARN}:sub",
        message_attributes={
            "kind": {"DataType": "String", "StringValue": "alert"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x01"},
        },
    )
    assert list(record) == ["EventSource", "EventVersion", "EventSubscriptionArn", "Sns"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["Subject"] is None
    assert sns["Timestamp"] == "2026-11-25T09:05:28.123Z"
    assert sns["SignatureVersion"] == "1"
    assert len(base64.b64decode(sns["Signature"])) == 256
    assert sns["SigningCertUrl"].startswith("https://sns.eu-west-1.amazonaws.com/")
    assert sns["UnsubscribeUrl"].endswith(f"SubscriptionArn={TOPIC_ARN}:sub")
    assert sns["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "alert"},
        "raw": {"Type": "Binary", "Value": "AQ=="},
    }
    assert create_sns_event(record) == {"Records": [record]}


def test_eventbridge_event_uses_string_version_and_second_precision() -> None:
    event = create_eventbridge_event(
        source="my.app",
        detail_type="Order Placed",
        detail={"id": 1},
        resources=["r"],
        region="eu-west-1",
        time=WHEN,
        event_id="e1",
    )
    assert event == {
        "version": "0",
        "id": "e1",
        "detail-type": "Order Placed",
        "source": "my.app",
        "account": "123456789012",
        "time": "2026-11-25T09:05:28Z",
        "region": "eu-west-1",
        "resources": ["r"],
        "detail": {"id": 1},
    }


def test_scheduled_event_takes_region_and_account_from_the_rule_arn() -> None:
    rule = "arn:aws:events:ap-south-1:210987654321:rule/nightly"
    event = create_scheduled_event(rule_arn=rule, time=WHEN)
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["detail"] == {}
    assert event["resources"] == [rule]
    assert (event["region"], event["account"]) == ("ap-south-1", "210987654321")


def test_dynamodb_record_includes_images_per_stream_view_type() -> None:
    keys = {"id": {"S": "1"}}
    new = {"id": {"S": "1"}, "name": {"S": "Ann"}, "n": {"N": "123"}}
    old = {"id": {"S": "1"}, "name": {"S": "Bob"}}
    both = create_dynamodb_record(
        event_name="MODIFY",
        keys=keys,
        new_image=new,
        old_image=old,
        stream_arn=STREAM_ARN,
        created=WHEN,
        event_id="ev",
        sequence_number="100",
    )
    assert list(both) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert both["eventVersion"] == "1.1" and both["eventSource"] == "aws:dynamodb"
    assert both["awsRegion"] == "eu-west-1"
    assert both["dynamodb"]["ApproximateCreationDateTime"] == 1795597528.0
    assert both["dynamodb"]["NewImage"] == new and both["dynamodb"]["OldImage"] == old
    assert both["dynamodb"]["SizeBytes"] > 0
    keys_only = create_dynamodb_record(
        event_name="INSERT",
        keys=keys,
        new_image=new,
        stream_arn=STREAM_ARN,
        stream_view_type="KEYS_ONLY",
    )
    assert "NewImage" not in keys_only["dynamodb"] and "OldImage" not in keys_only["dynamodb"]
    new_only = create_dynamodb_record(
        event_name="MODIFY",
        keys=keys,
        new_image=new,
        old_image=old,
        stream_arn=STREAM_ARN,
        stream_view_type="NEW_IMAGE",
    )
    assert "NewImage" in new_only["dynamodb"] and "OldImage" not in new_only["dynamodb"]


def test_dynamodb_size_follows_item_size_rules() -> None:
    record = create_dynamodb_record(
        event_name="INSERT",
        keys={"id": {"S": "abc"}},
        stream_arn=STREAM_ARN,
        stream_view_type="KEYS_ONLY",
    )
    assert record["dynamodb"]["SizeBytes"] == len("id") + len("abc")


def test_dynamodb_ttl_deletions_carry_the_service_identity() -> None:
    identity = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    record = create_dynamodb_record(
        event_name="REMOVE",
        keys={"id": {"S": "1"}},
        old_image={"id": {"S": "1"}},
        stream_arn=STREAM_ARN,
        user_identity=identity,
    )
    assert record["userIdentity"] == identity


def test_dynamodb_record_rejects_unknown_event_names_and_views() -> None:
    with pytest.raises(ValueError, match="INSERT, MODIFY or REMOVE"):
        create_dynamodb_record(event_name="UPDATE", keys={}, stream_arn=STREAM_ARN)
    with pytest.raises(ValueError, match="KEYS_ONLY"):
        create_dynamodb_record(
            event_name="INSERT", keys={}, stream_arn=STREAM_ARN, stream_view_type="ALL"
        )


def test_kinesis_record_encodes_data_and_names_the_shard() -> None:
    arn = "arn:aws:kinesis:us-west-2:123456789012:stream/clicks"
    record = create_kinesis_record(
        data=b"hello", stream_arn=arn, partition_key="p", sequence_number="49", arrival_time=WHEN
    )
    assert record["kinesis"] == {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "p",
        "sequenceNumber": "49",
        "data": "aGVsbG8=",
        "approximateArrivalTimestamp": 1795597528.123,
    }
    assert record["eventID"] == "shardId-000000000000:49"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["invokeIdentityArn"] == "arn:aws:iam::123456789012:role/lambda-role"
    assert record["awsRegion"] == "us-west-2"
    first, second = (
        int(create_kinesis_record(data=b"", stream_arn=arn)["kinesis"]["sequenceNumber"])
        for _ in range(2)
    )
    assert len(str(first)) == 56 and second > first


def test_region_from_arn_falls_back_for_non_arns() -> None:
    assert region_from_arn(QUEUE_ARN) == "eu-west-1"
    assert region_from_arn("jobs") == "us-east-1"


def test_payloads_are_json_serialisable() -> None:
    record = create_sqs_record(body="x", queue_arn=QUEUE_ARN)
    assert json.loads(json.dumps(record)) == record
