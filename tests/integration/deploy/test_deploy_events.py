"""Deploying every event source to moto; removing a handler; resuming a failed deploy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.aws import AWSSession
from lambic.deploy.deployer import delete, deploy
from lambic.deploy.errors import AWSError, ConfigError
from lambic.deploy.records import load_record

from .conftest import CallLog, client

Session = Callable[[], tuple[AWSSession, CallLog]]
OTHER_NOTIFICATION = {
    "Id": "someone-else",
    "QueueArn": "arn:aws:sqs:us-east-1:123456789012:audit",
    "Events": ["s3:ObjectRemoved:*"],
}


@pytest.fixture
def sources(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The bucket, queue, topic and table stream the events app listens to."""
    client("s3").create_bucket(Bucket="uploads")
    audit = client("sqs").create_queue(QueueName="audit")["QueueUrl"]
    client("s3").put_bucket_notification_configuration(
        Bucket="uploads", NotificationConfiguration={"QueueConfigurations": [OTHER_NOTIFICATION]}
    )
    queue = client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    topic = client("sns").create_topic(Name="alerts")["TopicArn"]
    table = client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    stream = table["TableDescription"]["LatestStreamArn"]
    client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    monkeypatch.setenv("ORDERS_STREAM_ARN", stream)
    return {"queue": queue, "audit": audit, "topic": topic, "stream": stream}


def _policy(function: str) -> list[dict[str, object]]:
    statements: list[dict[str, object]] = json.loads(
        client("lambda").get_policy(FunctionName=function)["Policy"]
    )["Statement"]
    return statements


def test_every_event_source_is_wired_with_its_settings(
    copy_app: Callable[[str], Path], sources: dict[str, str]
) -> None:
    deploy(copy_app("events"), "dev")
    lam, events = client("lambda"), client("events")
    names = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])
    assert names == sorted(
        f"events-dev-{n}"
        for n in (
            "every_five",
            "noon",
            "on_upload",
            "on_job",
            "on_alert",
            "on_ec2",
            "on_order",
            "on_click",
            "worker",
        )
    )
    job = lam.get_function(FunctionName="events-dev-on_job")
    assert job["Configuration"]["MemorySize"] == 512
    assert job["Configuration"]["Timeout"] == 120
    assert job["Concurrency"]["ReservedConcurrentExecutions"] == 2
    assert lam.get_function(FunctionName="events-dev-worker")["Configuration"]["Handler"] == (
        "app.worker"
    )

    rule = events.describe_rule(Name="events-dev-every_five")
    assert (rule["ScheduleExpression"], rule["Description"]) == (
        "rate(5 minutes)",
        "every five minutes",
    )
    assert events.describe_rule(Name="events-dev-noon")["ScheduleExpression"] == (
        "cron(0 12 * * ? *)"
    )
    pattern = json.loads(events.describe_rule(Name="events-dev-on_ec2")["EventPattern"])
    assert pattern["source"] == ["aws.ec2"]
    [target] = events.list_targets_by_rule(Rule="events-dev-noon")["Targets"]
    assert target["Arn"].endswith(":function:events-dev-noon")
    assert _policy("events-dev-noon")[0]["Principal"] == {"Service": "events.amazonaws.com"}

    notification = client("s3").get_bucket_notification_configuration(Bucket="uploads")
    [ours] = notification["LambdaFunctionConfigurations"]
    assert ours["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"].lower(): r["Value"] for r in ours["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "in/", "suffix": ".csv"}
    assert notification["QueueConfigurations"][0]["Id"] == "someone-else"
    assert _policy("events-dev-on_upload")[0]["Principal"] == {"Service": "s3.amazonaws.com"}

    mappings = {
        m["FunctionArn"].rsplit(":", 1)[-1]: m
        for m in lam.list_event_source_mappings()["EventSourceMappings"]
    }
    assert mappings["events-dev-on_job"]["BatchSize"] == 5
    assert mappings["events-dev-on_job"]["MaximumBatchingWindowInSeconds"] == 2
    assert mappings["events-dev-on_job"]["EventSourceArn"].endswith(":jobs")
    assert mappings["events-dev-on_order"]["BatchSize"] == 50
    assert mappings["events-dev-on_order"]["EventSourceArn"] == sources["stream"]
    assert mappings["events-dev-on_order"]["StartingPosition"] == "TRIM_HORIZON"
    assert mappings["events-dev-on_click"]["EventSourceArn"] == (
        "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
    )
    assert mappings["events-dev-on_click"]["BatchSize"] == 25

    [subscription] = client("sns").list_subscriptions_by_topic(TopicArn=sources["topic"])[
        "Subscriptions"
    ]
    assert subscription["Protocol"] == "lambda"
    assert subscription["Endpoint"].endswith(":function:events-dev-on_alert")
    assert _policy("events-dev-on_alert")[0]["Principal"] == {"Service": "sns.amazonaws.com"}


def test_first_deploy_prints_a_created_line_per_resource_in_order_then_a_summary(
    copy_app: Callable[[str], Path], sources: dict[str, str]
) -> None:
    project = copy_app("events")
    lines: list[str] = []
    deploy(project, "dev", echo=lines.append)
    functions = ["every_five", "noon", "on_upload", "on_job", "on_alert", "on_ec2"]
    functions += ["on_order", "on_click", "worker"]
    assert lines == [
        "Deploying events (dev) to us-east-1: 18 changes",
        "  created   role events-dev",
        *[f"  created   function events-dev-{name}" for name in functions],
        "  created   schedule rule events-dev-every_five",
        "  created   schedule rule events-dev-noon",
        "  created   S3 notification on bucket uploads -> events-dev-on_upload",
        "  created   SQS mapping jobs -> events-dev-on_job",
        "  created   SNS subscription alerts -> events-dev-on_alert",
        "  created   event rule events-dev-on_ec2",
        "  created   DynamoDB stream mapping orders -> events-dev-on_order",
        "  created   Kinesis stream mapping clicks -> events-dev-on_click",
        "Deployed events (dev): 18 created",
        "  Logs:         lambic logs --stage dev",
    ]
    lines.clear()
    deploy(project, "dev", echo=lines.append)
    assert lines == [
        "No changes: 18 resources up to date in events (dev), us-east-1",
        "  Logs:         lambic logs --stage dev",
    ]


def test_redeploy_is_a_no_op_and_a_removed_handler_is_deleted_with_its_wiring(
    copy_app: Callable[[str], Path], sources: dict[str, str], counted_session: Session
) -> None:
    project = copy_app("events")
    deploy(project, "dev")
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert log.mutating == []

    source = (project / "app.py").read_text()
    start = source.index('@app.on_sns_message(topic="alerts")')
    end = source.index("@app.on_cw_event")
    (project / "app.py").write_text(source[:start] + source[end:])
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert sorted(set(log.mutating)) == [
        "DeleteFunction",
        "RemovePermission",
        "Unsubscribe",
        "UpdateFunctionCode",
    ]
    assert log.mutating.count("UpdateFunctionCode") == 8
    assert (
        client("sns").list_subscriptions_by_topic(TopicArn=sources["topic"])["Subscriptions"] == []
    )
    names = {f["FunctionName"] for f in client("lambda").list_functions()["Functions"]}
    assert "events-dev-on_alert" not in names


def test_changed_batch_size_updates_only_the_mapping(
    copy_app: Callable[[str], Path], sources: dict[str, str], counted_session: Session
) -> None:
    project = copy_app("events")
    deploy(project, "dev")
    source = (project / "app.py").read_text()
    (project / "app.py").write_text(source.replace("batch_size=5,", "batch_size=9,"))
    aws, log = counted_session()
    lines: list[str] = []
    deploy(project, "dev", aws=aws, echo=lines.append)
    assert [op for op in log.mutating if op != "UpdateFunctionCode"] == ["UpdateEventSourceMapping"]
    # app.py changed, so every function's code is updated too (one zip for all).
    assert [line for line in lines if "mapping" in line] == [
        "  updated   SQS mapping jobs -> events-dev-on_job"
    ]
    assert lines[-2] == "Deployed events (dev): 10 updated, 8 unchanged"
    [job] = [
        m
        for m in client("lambda").list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].endswith("on_job")
    ]
    assert job["BatchSize"] == 9


def test_delete_leaves_nothing_of_ours_and_keeps_other_notifications(
    copy_app: Callable[[str], Path], sources: dict[str, str]
) -> None:
    project = copy_app("events")
    deploy(project, "dev")
    delete(project, "dev")
    lam = client("lambda")
    assert lam.list_functions()["Functions"] == []
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    assert client("events").list_rules()["Rules"] == []
    assert client("sns").list_subscriptions()["Subscriptions"] == []
    notification = client("s3").get_bucket_notification_configuration(Bucket="uploads")
    assert notification.get("LambdaFunctionConfigurations", []) == []
    assert notification["QueueConfigurations"][0]["Id"] == "someone-else"
    assert client("iam").list_roles()["Roles"] == []
    # The sources themselves were not ours to delete.
    assert client("sqs").list_queues()["QueueUrls"] == sorted([sources["audit"], sources["queue"]])


def _failing_at(operation: str) -> AWSSession:
    """A session whose first `operation` call fails, as a dropped connection would."""
    aws = AWSSession()

    def fail(service: str, called: str) -> None:
        if called == operation:
            raise AWSError(f"injected failure at {called}")

    aws.observe_calls(fail)
    return aws


def test_an_undeclared_queue_missing_on_aws_refuses_the_deploy_before_any_change(
    copy_app: Callable[[str], Path], sources: dict[str, str], counted_session: Session
) -> None:
    project = copy_app("events")
    client("sqs").delete_queue(QueueUrl=sources["queue"])
    aws, log = counted_session()
    with pytest.raises(ConfigError) as refused:
        deploy(project, "dev", aws=aws)
    # The sentence `lambic local` prints when it creates the queue for the app.
    assert str(refused.value) == (
        "@app.on_sqs_message (on_job) names queue 'jobs', which is not declared under "
        "resources.sqs_queues in .lambic/config.json: `lambic deploy` needs it to exist in "
        "the account already; declare it there to have deploy create it"
    )
    assert log.mutating == []
    assert load_record(project, "dev") is None


def test_failed_deploy_leaves_a_record_the_next_deploy_finishes_from(
    copy_app: Callable[[str], Path], sources: dict[str, str], counted_session: Session
) -> None:
    project = copy_app("events")
    with pytest.raises(AWSError, match="injected failure at CreateEventSourceMapping"):
        deploy(project, "dev", aws=_failing_at("CreateEventSourceMapping"))
    record = load_record(project, "dev")
    assert record is not None
    assert "function:worker" in record.resources
    assert "sqs:on_job" not in record.resources

    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert "CreateFunction" not in log.mutating
    assert "CreateRole" not in log.mutating
    assert "CreateEventSourceMapping" in log.mutating
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert log.mutating == []


def test_delete_after_a_failed_deploy_removes_what_was_created(
    copy_app: Callable[[str], Path], sources: dict[str, str]
) -> None:
    project = copy_app("events")
    with pytest.raises(AWSError):
        deploy(project, "dev", aws=_failing_at("Subscribe"))
    delete(project, "dev")
    assert client("lambda").list_functions()["Functions"] == []
    assert client("iam").list_roles()["Roles"] == []
    assert load_record(project, "dev") is None
