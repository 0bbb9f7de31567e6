"""Kinesis streams with unchanged boto3 over a real edge: lifecycle, listing and paging,
tags, retention, and AWS's errors."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import create_services
from lambic.services.server import EdgeServer

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"


@pytest.fixture
def kinesis(start_edge: Callable[..., EdgeServer], make_client: Callable[..., Any]) -> Any:
    edge = start_edge(create_services(None, names=["kinesis"]).by_name())
    return make_client("kinesis", edge.url)


def _error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error: dict[str, Any] = caught.value.response["Error"]
    error["Status"] = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error


def test_create_describe_and_delete_a_provisioned_and_an_on_demand_stream(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="orders", ShardCount=3)
    kinesis.create_stream(StreamName="clicks", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    kinesis.get_waiter("stream_exists").wait(StreamName="orders")  # ACTIVE at once

    orders = kinesis.describe_stream(StreamName="orders")["StreamDescription"]
    assert orders["StreamStatus"] == "ACTIVE"
    assert orders["StreamARN"] == ARN + "orders"
    assert orders["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert orders["RetentionPeriodHours"] == 24
    assert orders["HasMoreShards"] is False
    assert [s["ShardId"] for s in orders["Shards"]] == [
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000002",
    ]
    assert orders["Shards"][0]["HashKeyRange"]["StartingHashKey"] == "0"
    assert orders["Shards"][-1]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)
    summary = kinesis.describe_stream_summary(StreamARN=ARN + "clicks")
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 4
    assert summary["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"

    error = _error(kinesis.create_stream, StreamName="orders", ShardCount=1)
    assert error["Code"] == "ResourceInUseException"
    assert error["Message"] == "Stream orders under account 000000000000 already exists."

    kinesis.delete_stream(StreamARN=ARN + "orders")
    error = _error(kinesis.describe_stream, StreamName="orders")
    assert (error["Code"], error["Status"]) == ("ResourceNotFoundException", 400)
    assert error["Message"] == "Stream orders under account 000000000000 not found."
    assert kinesis.list_streams()["StreamNames"] == ["clicks"]


def test_list_streams_pages_with_next_token_and_exclusive_start_name(kinesis: Any) -> None:
    for name in ("c", "a", "e", "b", "d"):
        kinesis.create_stream(StreamName=name, ShardCount=1)
    first = kinesis.list_streams(Limit=2)
    assert first["StreamNames"] == ["a", "b"]
    assert first["HasMoreStreams"] is True
    assert [s["StreamARN"] for s in first["StreamSummaries"]] == [ARN + "a", ARN + "b"]
    assert first["StreamSummaries"][0]["StreamStatus"] == "ACTIVE"
    second = kinesis.list_streams(Limit=2, NextToken=first["NextToken"])
    assert second["StreamNames"] == ["c", "d"]
    assert kinesis.list_streams(ExclusiveStartStreamName="c")["StreamNames"] == ["d", "e"]
    pages = kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2})
    assert [n for page in pages for n in page["StreamNames"]] == ["a", "b", "c", "d", "e"]


def test_describe_stream_and_list_shards_page_through_shards(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="wide", ShardCount=5)
    page = kinesis.describe_stream(StreamName="wide", Limit=2)["StreamDescription"]
    assert [s["ShardId"][-1] for s in page["Shards"]] == ["0", "1"]
    assert page["HasMoreShards"] is True
    rest = kinesis.describe_stream(
        StreamName="wide", ExclusiveStartShardId=page["Shards"][-1]["ShardId"]
    )["StreamDescription"]
    assert [s["ShardId"][-1] for s in rest["Shards"]] == ["2", "3", "4"]
    assert rest["HasMoreShards"] is False

    listed = kinesis.list_shards(StreamName="wide", MaxResults=3)
    assert len(listed["Shards"]) == 3
    more = kinesis.list_shards(NextToken=listed["NextToken"])
    assert [s["ShardId"][-1] for s in more["Shards"]] == ["3", "4"]
    assert "NextToken" not in more
    after = kinesis.list_shards(StreamName="wide", ExclusiveStartShardId="shardId-000000000003")
    assert [s["ShardId"] for s in after["Shards"]] == ["shardId-000000000004"]
    filtered = kinesis.list_shards(
        StreamName="wide", ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000002"}
    )
    assert len(filtered["Shards"]) == 2

    error = _error(kinesis.list_shards, StreamName="wide", NextToken=listed["NextToken"])
    assert error["Code"] == "InvalidArgumentException"
    assert error["Message"] == "NextToken and StreamName cannot be provided together."


def test_tags_through_both_apis(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="tagged", ShardCount=1)
    kinesis.add_tags_to_stream(StreamName="tagged", Tags={"team": "web", "env": "dev"})
    kinesis.tag_resource(ResourceARN=ARN + "tagged", Tags={"cost": "42"})
    listed = kinesis.list_tags_for_stream(StreamName="tagged")
    assert listed["Tags"] == [
        {"Key": "cost", "Value": "42"},
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "web"},
    ]
    assert listed["HasMoreTags"] is False
    page = kinesis.list_tags_for_stream(StreamName="tagged", Limit=1, ExclusiveStartTagKey="cost")
    assert (page["Tags"], page["HasMoreTags"]) == ([{"Key": "env", "Value": "dev"}], True)
    kinesis.remove_tags_from_stream(StreamName="tagged", TagKeys=["env"])
    kinesis.untag_resource(ResourceARN=ARN + "tagged", TagKeys=["cost"])
    assert kinesis.list_tags_for_resource(ResourceARN=ARN + "tagged")["Tags"] == [
        {"Key": "team", "Value": "web"}
    ]
    error = _error(
        kinesis.add_tags_to_stream,
        StreamName="tagged",
        Tags={f"k{i}": "v" for i in range(50)},
    )
    assert error["Code"] == "InvalidArgumentException"
    assert "cannot have more than 50 tags" in error["Message"]


def test_retention_can_grow_and_shrink_within_aws_bounds(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="kept", ShardCount=1)
    kinesis.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=48)
    summary = kinesis.describe_stream_summary(StreamName="kept")["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 48
    error = _error(
        kinesis.increase_stream_retention_period, StreamName="kept", RetentionPeriodHours=30
    )
    assert error["Code"] == "InvalidArgumentException"
    assert error["Message"] == (
        "Requested retention period (30 hours) for stream kept can not be shorter than "
        "existing retention period (48 hours). Use DecreaseRetentionPeriod API."
    )
    error = _error(
        kinesis.decrease_stream_retention_period, StreamName="kept", RetentionPeriodHours=12
    )
    assert "Minimum allowed retention period is 24 hours" in error["Message"]
    error = _error(
        kinesis.increase_stream_retention_period, StreamName="kept", RetentionPeriodHours=9000
    )
    assert "Maximum allowed retention period is 8760 hours" in error["Message"]
    kinesis.decrease_stream_retention_period(StreamARN=ARN + "kept", RetentionPeriodHours=24)
    summary = kinesis.describe_stream_summary(StreamName="kept")["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 24


def test_shape_errors_are_validation_exceptions_in_aws_words(kinesis: Any) -> None:
    error = _error(kinesis.create_stream, StreamName="bad name!", ShardCount=1)
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )
    error = _error(kinesis.describe_stream, StreamName="x" * 129)
    assert error["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 128" in error["Message"]


def test_operations_not_served_answer_not_implemented(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=1)
    error = _error(kinesis.register_stream_consumer, StreamARN=ARN + "s", ConsumerName="fan-out")
    assert (error["Code"], error["Status"]) == ("NotImplemented", 501)
    assert "does not serve RegisterStreamConsumer" in error["Message"]


def test_an_operation_without_output_answers_an_empty_body(
    start_edge: Callable[..., EdgeServer],
) -> None:
    # Kinesis answers CreateStream, MergeShards, tags... with 200 and no body (not "{}").
    edge = start_edge(create_services(None, names=["kinesis"]).by_name())

    def call(target: str, body: dict[str, Any]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=5)
        try:
            conn.request(
                "POST",
                "/",
                json.dumps(body),
                {
                    "X-Amz-Target": f"Kinesis_20131202.{target}",
                    "Content-Type": "application/x-amz-json-1.1",
                    "Authorization": "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/kinesis/"
                    "aws4_request, SignedHeaders=host, Signature=x",
                },
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    assert call("CreateStream", {"StreamName": "raw", "ShardCount": 1}) == (200, b"")
    assert call("AddTagsToStream", {"StreamName": "raw", "Tags": {"a": "b"}}) == (200, b"")
    status, body = call("ListStreams", {})
    assert status == 200 and json.loads(body)["StreamNames"] == ["raw"]
    # A member of the wrong JSON type: the deserializer's SerializationException, "Message".
    status, body = call("DeleteStream", {"StreamName": True})
    assert (status, json.loads(body)) == (
        400,
        {
            "__type": "SerializationException",
            "Message": "class java.lang.Boolean can not be converted to an String",
        },
    )


def test_list_shards_without_a_stream_or_a_token_and_a_create_past_the_quota(
    kinesis: Any,
) -> None:
    error = _error(kinesis.list_shards)
    assert (error["Code"], error["Message"]) == (
        "InvalidArgumentException",
        "Either NextToken or StreamName should be provided.",
    )
    error = _error(kinesis.create_stream, StreamName="huge", ShardCount=100000)
    assert error["Code"] == "LimitExceededException"
    assert error["Message"] == (
        "This request would exceed the shard limit for the account 000000000000 in "
        "us-east-1. Current shard count for the account: 0. Limit: 500. Number of additional "
        "shards that would have resulted from this request: 100000. Refer to the AWS Service "
        "Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) "
        "for current limits and how to request higher limits."
    )
