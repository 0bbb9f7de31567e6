"""EventGenerator: names become the account's ARNs; ARNs pass through; bad names refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lambic.app.event_generator import S3_EVENT_NAMES, EventGenerator

LOCAL = EventGenerator(region="eu-west-1", account_id="000000000000")


def test_names_become_arns_in_the_generators_account_and_region() -> None:
    assert LOCAL.sns(message="m", topic="alerts")["Records"][0]["Sns"]["TopicArn"] == (
        "arn:aws:sns:eu-west-1:000000000000:alerts"
    )
    record = LOCAL.dynamodb(table="Users", keys={"id": {"S": "1"}})["Records"][0]
    assert record["eventSourceARN"].startswith(
        "arn:aws:dynamodb:eu-west-1:000000000000:table/Users/stream/"
    )
    assert LOCAL.s3(bucket="b", key="k")["Records"][0]["awsRegion"] == "eu-west-1"
    assert LOCAL.eventbridge(source="s", detail_type="d", detail={})["account"] == "000000000000"


def test_an_arn_is_used_as_given() -> None:
    arn = "arn:aws:events:us-west-2:111122223333:rule/nightly"
    assert LOCAL.schedule(rule=arn)["resources"] == [arn]
    assert LOCAL.schedule(rule=arn)["account"] == "111122223333"
    table = "arn:aws:dynamodb:us-west-2:111122223333:table/Users"
    keys = {"id": {"S": "1"}}
    record = LOCAL.dynamodb(table=table, keys=keys)["Records"][0]
    assert record["eventSourceARN"].startswith(f"{table}/stream/")
    stream = f"{table}/stream/2020-01-01T00:00:00.000"
    assert LOCAL.dynamodb(table=stream, keys=keys)["Records"][0]["eventSourceARN"] == stream


def test_s3_event_names_are_the_notification_types_without_prefix_or_wildcards() -> None:
    assert "ObjectCreated:Put" in S3_EVENT_NAMES and "ObjectRemoved:Delete" in S3_EVENT_NAMES
    assert not any(name.endswith("*") or name.startswith("s3:") for name in S3_EVENT_NAMES)
    assert (
        LOCAL.s3(bucket="b", key="k", event_name="s3:ObjectCreated:Copy")["Records"][0]["eventName"]
        == "ObjectCreated:Copy"
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: LOCAL.s3(bucket="b", key="k", event_name="ObjectCreated:*"), "unknown S3 event"),
        (lambda: LOCAL.dynamodb(table="t", event_name="PUT", keys={}), "unknown DynamoDB event"),
        (lambda: LOCAL.dynamodb(table="t"), "needs keys="),
    ],
)
def test_rejects_what_aws_never_sends(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
