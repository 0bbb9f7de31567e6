"""Every event source of a real `lambic local` process, driven by unchanged boto3 calls.

One `lambic local --no-reload` subprocess serves tests/apps/event_cloud on free ports;
each test talks to its services port as user code would and reads what the handlers
recorded in `$OUT_DIR/<kind>.jsonl`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import LocalCloudProcess, recorded, wait_until

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "apps" / "event_cloud"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:eventcloud-dev-{}"


def copy_app(root: Path) -> tuple[Path, Path]:
    """The test app in `root/project`, recording into `root/out`."""
    project, out = root / "project", root / "out"
    shutil.copytree(APP, project)
    out.mkdir()
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"]["OUT_DIR"] = str(out)
    config_path.write_text(json.dumps(config))
    return project, out


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloudProcess, Path]]:
    project, out = copy_app(tmp_path_factory.mktemp("event_cloud"))
    local = LocalCloudProcess(project)
    try:
        local.wait_for("Serving eventcloud")
        yield local, out
    finally:
        local.close()


def project_of(out: Path) -> Path:
    return out.parent / "project"


def test_an_upload_invokes_the_s3_handler_with_the_aws_record(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    s3 = local.client("s3")

    put = s3.put_object(Bucket="uploads", Key="photos/my photo.jpg", Body=b"hello")

    events = wait_until(lambda: recorded(out, "s3"), what="the S3 event")
    assert len(events) == 1
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["bucket"]["name"] == "uploads"
    assert record["s3"]["object"]["key"] == "photos/my+photo.jpg"
    assert record["s3"]["object"]["size"] == 5
    assert record["s3"]["object"]["eTag"] == put["ETag"].strip('"')
    assert record["s3"]["configurationId"] == "lambic-uploaded"
    local.wait_for("[event] s3 -> uploaded")


def test_a_failing_s3_event_lands_in_the_function_dead_letter_queue(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    sqs = local.client("sqs")
    dlq = sqs.create_queue(QueueName="uploads-dlq")["QueueUrl"]

    local.client("s3").put_object(Bucket="uploads", Key="poison.bin", Body=b"x")

    def dead_lettered() -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    messages = wait_until(dead_lettered, what="the event in uploads-dlq")
    event = json.loads(messages[0]["Body"])
    assert event["Records"][0]["s3"]["object"]["key"] == "poison.bin"
    # maximum_retry_attempts 0 in config.json: one attempt, then the DLQ.
    poisoned = [
        e for e in recorded(out, "s3") if "poison" in e["Records"][0]["s3"]["object"]["key"]
    ]
    assert len(poisoned) == 1


def test_async_settings_under_the_stage_reach_its_functions(tmp_path: Path) -> None:
    # The same settings as the module's app, but under `stages.dev` instead of the
    # function: Chalice's precedence applies them to every function of the stage. Were
    # they ignored, the default 2 retries would hold the event back for a minute.
    project, out = copy_app(tmp_path)
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    del config["lambda_functions"]
    config["stages"]["dev"] = {"maximum_retry_attempts": 0, "dead_letter_queue": "stage-dlq"}
    config_path.write_text(json.dumps(config))
    local = LocalCloudProcess(project)
    try:
        local.wait_for("Serving eventcloud")
        sqs = local.client("sqs")
        dlq = sqs.create_queue(QueueName="stage-dlq")["QueueUrl"]

        local.client("s3").put_object(Bucket="uploads", Key="poison-stage.bin", Body=b"x")

        def dead_lettered() -> list[dict[str, Any]]:
            answer = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages: list[dict[str, Any]] = answer.get("Messages", [])
            return messages

        messages = wait_until(dead_lettered, timeout=20, what="the event in stage-dlq")
        event = json.loads(messages[0]["Body"])
        assert event["Records"][0]["s3"]["object"]["key"] == "poison-stage.bin"
        assert len(recorded(out, "s3")) == 1
    finally:
        local.close()


def test_sqs_successes_are_deleted_and_failures_retried_then_dead_lettered(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    sqs = local.client("sqs")
    dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=queue,
        Attributes={
            # Longer than a cold start on a loaded machine: a batch still being
            # handled when its messages reappear would run twice, as on AWS.
            "VisibilityTimeout": "3",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )
    bodies = [f"job-{i}" for i in range(6)] + ["poison-a", "poison-b"]

    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )

    dead: list[str] = []

    def all_poison_dead_lettered() -> bool:
        answer = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            dead.append(message["Body"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
        return len(dead) >= 2

    wait_until(all_poison_dead_lettered, timeout=30, what="both poison messages in jobs-dlq")
    assert sorted(dead) == ["poison-a", "poison-b"]
    seen: dict[str, list[str]] = {}
    for record in recorded(out, "sqs"):
        seen.setdefault(record["body"], []).append(record["attributes"]["ApproximateReceiveCount"])
    # Each success ran once and was deleted; each failure was received twice
    # (maxReceiveCount 2) and then moved to the DLQ.
    assert {body: counts for body, counts in seen.items() if "job" in body} == {
        f"job-{i}": ["1"] for i in range(6)
    }
    assert sorted(seen["poison-a"]) == ["1", "2"]
    assert sorted(seen["poison-b"]) == ["1", "2"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
    local.wait_for("[event] sqs:jobs -> jobs")


def test_an_sns_publish_reaches_the_handler_and_filter_policies_apply(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    sns = local.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        ("lambda", FUNCTION_ARN.format("alerted"))
    ]

    sns.publish(
        TopicArn=topic,
        Message="disk full",
        Subject="ops",
        MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}},
    )

    events = wait_until(lambda: recorded(out, "sns"), what="the SNS event")
    record = events[0]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == subscriptions[0]["SubscriptionArn"]
    assert record["Sns"]["TopicArn"] == topic
    assert record["Sns"]["Message"] == "disk full"
    assert record["Sns"]["Subject"] == "ops"
    assert record["Sns"]["MessageAttributes"] == {"color": {"Type": "String", "Value": "red"}}

    sns.set_subscription_attributes(
        SubscriptionArn=subscriptions[0]["SubscriptionArn"],
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"color": ["blue"]}),
    )
    for color in ("red", "blue"):
        sns.publish(
            TopicArn=topic,
            Message=f"{color} alert",
            MessageAttributes={"color": {"DataType": "String", "StringValue": color}},
        )

    wait_until(lambda: len(recorded(out, "sns")) >= 2, what="the blue alert")
    time.sleep(0.5)  # the red one, had it been delivered, was enqueued first
    messages = [e["Records"][0]["Sns"]["Message"] for e in recorded(out, "sns")]
    assert messages == ["disk full", "blue alert"]

    # The terminal shows each delivery exactly once (it used to print it twice).
    def delivery_lines() -> list[str]:
        return [line for line in list(local.lines) if line.startswith("[event] sns -> alerted")]

    wait_until(lambda: len(delivery_lines()) >= 2, what="the delivery lines")
    time.sleep(0.3)
    assert len(delivery_lines()) == 2


def test_the_banner_says_when_each_schedule_fires_next(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, _ = cloud

    line = local.wait_for("  nightly ")

    assert re.fullmatch(r"  nightly +rate\(1 day\) +next \d\d:\d\d:\d\d \(in 8\d{4} s\)", line)
    assert local.lines[local.lines.index(line) - 1] == "Schedules:"


def test_put_events_invokes_only_the_matching_rule_handler(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    events = local.client("events")

    answer = events.put_events(
        Entries=[
            {"Source": "shop.orders", "DetailType": "Order", "Detail": json.dumps({"total": 50})},
            {"Source": "shop.returns", "DetailType": "Order", "Detail": json.dumps({"total": 500})},
            {"Source": "shop.orders", "DetailType": "Order", "Detail": json.dumps({"total": 150})},
        ]
    )

    assert answer["FailedEntryCount"] == 0
    seen = wait_until(lambda: recorded(out, "events"), what="the matching event")
    time.sleep(0.5)  # the non-matching ones would have been enqueued before it
    seen = recorded(out, "events")
    assert [(e["source"], e["detail"]) for e in seen] == [("shop.orders", {"total": 150})]
    assert seen[0]["detail-type"] == "Order"
    assert seen[0]["id"] == answer["Entries"][2]["EventId"]
    assert (seen[0]["account"], seen[0]["region"]) == ("000000000000", "us-east-1")


def test_stream_records_follow_put_update_and_delete_with_images(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    dynamodb = local.client("dynamodb")

    dynamodb.put_item(TableName="orders", Item={"id": {"S": "o-1"}, "n": {"N": "1"}})
    dynamodb.update_item(
        TableName="orders",
        Key={"id": {"S": "o-1"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    dynamodb.delete_item(TableName="orders", Key={"id": {"S": "o-1"}})

    records = wait_until(
        lambda: (r := recorded(out, "stream")) and len(r) >= 3 and r, what="three stream records"
    )
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(r["eventSource"] == "aws:dynamodb" for r in records)
    assert all(":table/orders/stream/" in r["eventSourceARN"] for r in records)
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["NewImage"] == {"id": {"S": "o-1"}, "n": {"N": "1"}}
    assert "OldImage" not in insert
    assert modify["OldImage"]["n"] == {"N": "1"} and modify["NewImage"]["n"] == {"N": "2"}
    assert remove["OldImage"] == {"id": {"S": "o-1"}, "n": {"N": "2"}}
    assert "NewImage" not in remove
    assert all(r["StreamViewType"] == "NEW_AND_OLD_IMAGES" for r in (insert, modify, remove))
    sequences = [int(r["SequenceNumber"]) for r in (insert, modify, remove)]
    assert sequences == sorted(sequences)
    local.wait_for("[event] dynamodb:orders -> order_changed")


def lambic(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambic", *args], capture_output=True, text=True, timeout=60
    )


def test_lambic_logs_shows_the_event_delivery_lines(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    local.client("s3").put_object(Bucket="uploads", Key="logged.txt", Body=b"x")
    local.wait_for("[event] s3 -> uploaded")

    def logged() -> bool:
        result = lambic("logs", "-n", "uploaded", "--project-dir", str(project_of(out)))
        return "[event] s3 -> uploaded" in result.stdout

    wait_until(logged, timeout=20, what="the event line in `lambic logs`")


def test_invoke_schedule_fires_the_scheduled_event_once_now(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    _, out = cloud
    project = str(project_of(out))

    result = lambic("invoke", "-n", "nightly", "--schedule", "--project-dir", project)

    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout.splitlines()[0])
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert event["resources"] == [
        "arn:aws:events:us-east-1:000000000000:rule/eventcloud-dev-nightly-event"
    ]


def test_invoke_schedule_refuses_a_function_that_is_not_a_schedule_handler(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    _, out = cloud

    result = lambic("invoke", "-n", "uploaded", "--schedule", "--project-dir", str(project_of(out)))

    assert result.returncode == 2
    assert "--schedule needs an @app.schedule handler; 'uploaded' is a s3 function" in (
        result.stderr
    )
    assert "Schedule handlers: nightly" in result.stderr


RELOADED = """

@app.on_sns_message(topic="news")
def news(event):
    _record("news", event.to_dict())
"""

OVERLAPPING = """

@app.on_s3_event(bucket="uploads", events=["s3:ObjectCreated:*"], suffix=".txt")
def text_uploaded(event):
    pass
"""


def test_hot_reload_wires_added_handlers_and_unwires_removed_ones(tmp_path: Path) -> None:
    project, out = copy_app(tmp_path)
    local = LocalCloudProcess(project, reload=True)
    try:
        local.wait_for("Serving eventcloud")
        sns = local.client("sns")
        alerts = sns.create_topic(Name="alerts")["TopicArn"]
        source = (project / "app.py").read_text()
        # Remove the alerts handler and add one for a new topic.
        source = source.replace('@app.on_sns_message(topic="alerts")\n', "")
        (project / "app.py").write_text(source + RELOADED)
        local.wait_for("Reloaded after changes to app.py")

        news = sns.create_topic(Name="news")["TopicArn"]
        assert [
            s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=news)["Subscriptions"]
        ] == [FUNCTION_ARN.format("news")]
        assert sns.list_subscriptions_by_topic(TopicArn=alerts)["Subscriptions"] == []
        sns.publish(TopicArn=alerts, Message="nobody listens")
        sns.publish(TopicArn=news, Message="extra")

        events = wait_until(lambda: recorded(out, "news"), what="the news event")
        assert events[0]["Records"][0]["Sns"]["Message"] == "extra"
        assert recorded(out, "sns") == []

        # A reload whose wiring S3 rejects (overlapping rules) keeps the last wiring.
        (project / "app.py").write_text(source + RELOADED + OVERLAPPING)
        local.wait_for("Reloading LiveEventSources failed")
        assert any("overlap" in line for line in local.lines)
        sns.publish(TopicArn=news, Message="still wired")
        wait_until(lambda: len(recorded(out, "news")) == 2, what="the second news event")
    finally:
        local.close()
