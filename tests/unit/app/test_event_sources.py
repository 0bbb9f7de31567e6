"""Event-handler decorators: registration, validation, typed events, middleware, blueprints."""

from __future__ import annotations

from typing import Any

import pytest

from lambic.app import Blueprint, Lambic, functions
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
from lambic.app.event_sources import (
    CloudWatchEventConfig,
    DynamoDBEventConfig,
    EventSourceConfigError,
    KinesisEventConfig,
    LambdaFunction,
    S3EventConfig,
    ScheduledEventConfig,
    SNSEventConfig,
    SQSEventConfig,
)
from lambic.app.events import (
    CloudWatchEvent,
    DynamoDBEvent,
    KinesisEvent,
    LambdaFunctionEvent,
    S3Event,
    SNSEvent,
    SQSEvent,
)
from lambic.app.schedules import Cron, Rate, ScheduleExpressionError

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"
CONTEXT = object()


@pytest.fixture
def app() -> Any:
    return Lambic("events-app")


def test_schedule_registers_config_and_receives_a_cloudwatch_event(app: Any) -> None:
    seen: list[Any] = []

    @app.schedule(Rate(5, unit=Rate.MINUTES), description="tick")
    def tick(event: CloudWatchEvent) -> str:
        seen.append(event)
        return "done"

    (config,) = app.event_sources
    assert isinstance(config, ScheduledEventConfig)
    assert (config.name, config.handler_string) == ("tick", "app.tick")
    assert config.schedule_expression == Rate(5, unit=Rate.MINUTES)
    assert config.description == "tick"
    assert config.expression_string() == "rate(5 minutes)"
    assert app.handler_map["tick"] is tick
    payload = create_scheduled_event(rule_arn="arn:aws:events:us-east-1:123456789012:rule/tick")
    assert tick(payload, CONTEXT) == "done"
    assert isinstance(seen[0], CloudWatchEvent) and seen[0].detail_type == "Scheduled Event"
    assert seen[0].context is CONTEXT and seen[0].to_dict() is payload


def test_schedule_accepts_strings_and_cron_and_keeps_them(app: Any) -> None:
    @app.schedule("cron(0 12 ? * MON-FRI *)", name="noon")
    def a(event: Any) -> None: ...

    @app.schedule(Cron(0, 9, "L", "*", "?", "*"))
    def b(event: Any) -> None: ...

    noon, last = app.event_sources
    assert noon.name == "noon" and noon.handler_string == "app.a"
    assert noon.schedule_expression == "cron(0 12 ? * MON-FRI *)"
    assert noon.schedule == Cron(0, 12, "?", "*", "MON-FRI", "*")
    assert last.expression_string() == "cron(0 9 L * ? *)"


def test_schedule_rejects_invalid_expressions_at_import(app: Any) -> None:
    with pytest.raises(ScheduleExpressionError, match="singular"):
        app.schedule("rate(1 minutes)")
    with pytest.raises(EventSourceConfigError, match="Rate"):
        app.schedule(5)
    assert app.event_sources == []


def test_on_s3_event_defaults_to_object_created_and_passes_an_s3_event(app: Any) -> None:
    @app.on_s3_event(bucket="photos", prefix="in/", suffix=".jpg")
    def resize(event: S3Event) -> str:
        return f"{event.bucket}/{event.key}"

    (config,) = app.event_sources
    assert isinstance(config, S3EventConfig)
    assert config.events == ["s3:ObjectCreated:*"]
    assert (config.bucket, config.prefix, config.suffix) == ("photos", "in/", ".jpg")
    payload = create_s3_event([create_s3_record(bucket="photos", key="in/my cat.jpg")])
    assert resize(payload, None) == "photos/in/my cat.jpg"


def test_on_s3_event_rejects_unknown_event_types_and_empty_buckets(app: Any) -> None:
    with pytest.raises(EventSourceConfigError, match="not an S3 event type"):
        app.on_s3_event(bucket="b", events=["ObjectCreated:*"])
    with pytest.raises(EventSourceConfigError, match="at least one"):
        app.on_s3_event(bucket="b", events=[])
    with pytest.raises(EventSourceConfigError, match="bucket"):
        app.on_s3_event(bucket="")


def test_on_sqs_message_passes_batches_and_returns_partial_failures(app: Any) -> None:
    @app.on_sqs_message(queue="jobs", batch_size=5)
    def work(event: SQSEvent) -> dict[str, Any]:
        failed = [r.message_id for r in event if r.body == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    (config,) = app.event_sources
    assert isinstance(config, SQSEventConfig)
    assert (config.queue, config.queue_arn, config.batch_size) == ("jobs", None, 5)
    assert config.maximum_batching_window_in_seconds == 0
    payload = create_sqs_event(
        [
            create_sqs_record(body="ok", queue_arn=QUEUE_ARN, message_id="m1"),
            create_sqs_record(body="bad", queue_arn=QUEUE_ARN, message_id="m2"),
        ]
    )
    assert work(payload, None) == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def test_on_sqs_message_accepts_a_queue_arn(app: Any) -> None:
    @app.on_sqs_message(queue_arn=QUEUE_ARN, batch_size=100, maximum_batching_window_in_seconds=5)
    def work(event: SQSEvent) -> None: ...

    (config,) = app.event_sources
    assert (config.queue, config.queue_arn, config.batch_size) == (None, QUEUE_ARN, 100)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({}, "either `queue` or `queue_arn`"),
        ({"queue": "q", "batch_size": 0}, "batch_size must be an integer from 1 to 10000"),
        ({"queue": "q", "batch_size": 10001, "maximum_batching_window_in_seconds": 1}, "10000"),
        ({"queue": "q.fifo", "batch_size": 11, "maximum_batching_window_in_seconds": 5}, "1 to 10"),
        ({"queue": "q", "maximum_batching_window_in_seconds": 301}, "0 to 300"),
        ({"queue": "q", "batch_size": True}, "batch_size"),
        ({"queue": "q", "maximum_concurrency": 1}, "2 to 1000"),
    ],
)
def test_on_sqs_message_enforces_aws_limits(app: Any, kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(EventSourceConfigError, match=problem):
        app.on_sqs_message(**kwargs)


def test_on_sqs_message_accepts_a_batch_over_ten_without_window_as_chalice_does(
    app: Any,
) -> None:
    # AWS refuses that mapping, but at deploy (and `lambic local` start), not here.
    @app.on_sqs_message(queue="jobs", batch_size=200)
    def work(event: SQSEvent) -> None: ...

    (config,) = app.event_sources
    assert (config.batch_size, config.maximum_batching_window_in_seconds) == (200, 0)


def test_on_sns_message_passes_an_sns_event(app: Any) -> None:
    @app.on_sns_message(topic="alerts")
    def alert(event: SNSEvent) -> tuple[str, str | None]:
        return event.message, event.subject

    (config,) = app.event_sources
    assert isinstance(config, SNSEventConfig) and config.topic == "alerts"
    record = create_sns_record(
        message="hi", subject="s", topic_arn="arn:aws:sns:us-east-1:123456789012:alerts"
    )
    assert alert(create_sns_event(record), None) == ("hi", "s")
    with pytest.raises(EventSourceConfigError, match="topic"):
        app.on_sns_message(topic="")


def test_on_cw_event_passes_a_cloudwatch_event(app: Any) -> None:
    pattern = {"source": ["aws.ec2"]}

    @app.on_cw_event(pattern)
    def changed(event: CloudWatchEvent) -> Any:
        return event.detail

    (config,) = app.event_sources
    assert isinstance(config, CloudWatchEventConfig) and config.event_pattern == pattern
    payload = create_eventbridge_event(
        source="aws.ec2", detail_type="EC2 Instance State-change Notification", detail={"a": 1}
    )
    assert changed(payload, None) == {"a": 1}
    with pytest.raises(EventSourceConfigError, match="event_pattern"):
        app.on_cw_event({})


def test_on_dynamodb_record_passes_records(app: Any) -> None:
    stream = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"

    @app.on_dynamodb_record(stream_arn=stream, batch_size=10, starting_position="TRIM_HORIZON")
    def changes(event: DynamoDBEvent) -> list[str]:
        return [f"{r.table_name}:{r.event_name}" for r in event]

    (config,) = app.event_sources
    assert isinstance(config, DynamoDBEventConfig)
    assert (config.stream_arn, config.batch_size, config.starting_position) == (
        stream,
        10,
        "TRIM_HORIZON",
    )
    record = create_dynamodb_record(
        event_name="INSERT",
        keys={"id": {"S": "1"}},
        new_image={"id": {"S": "1"}},
        stream_arn=stream,
    )
    assert changes(create_dynamodb_event([record]), None) == ["Users:INSERT"]


def test_on_kinesis_record_passes_decoded_records(app: Any) -> None:
    stream_arn = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"

    @app.on_kinesis_record(stream="clicks")
    def clicks(event: KinesisEvent) -> list[bytes]:
        return [r.data for r in event]

    (config,) = app.event_sources
    assert isinstance(config, KinesisEventConfig)
    assert (config.stream, config.batch_size, config.starting_position) == ("clicks", 100, "LATEST")
    payload = create_kinesis_event([create_kinesis_record(data=b"\x00hi", stream_arn=stream_arn)])
    assert clicks(payload, None) == [b"\x00hi"]


@pytest.mark.parametrize(
    ("decorator", "kwargs", "problem"),
    [
        ("on_dynamodb_record", {"stream_arn": "s", "starting_position": "AT_TIMESTAMP"}, "LATEST"),
        ("on_dynamodb_record", {"stream_arn": "s", "batch_size": 10001}, "1 to 10000"),
        ("on_dynamodb_record", {"stream_arn": ""}, "stream_arn"),
        (
            "on_kinesis_record",
            {"stream": "s", "maximum_batching_window_in_seconds": -1},
            "0 to 300",
        ),
        ("on_kinesis_record", {"stream": "s", "batch_size": 0}, "1 to 10000"),
    ],
)
def test_stream_decorators_enforce_aws_limits(
    app: Any, decorator: str, kwargs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(EventSourceConfigError, match=problem):
        getattr(app, decorator)(**kwargs)


def test_lambda_function_keeps_the_event_context_signature(app: Any) -> None:
    @app.lambda_function(name="adder")
    def add(event: dict[str, int], context: Any) -> int:
        assert context is CONTEXT
        return event["a"] + event["b"]

    (func,) = app.pure_lambda_functions
    assert isinstance(func, LambdaFunction)
    assert (func.name, func.handler_string) == ("adder", "app.add")
    assert func({"a": 1, "b": 2}, CONTEXT) == 3
    assert app.handler_map["adder"]({"a": 2, "b": 3}, CONTEXT) == 5
    assert app.event_sources == []


def test_event_middleware_registered_later_wraps_handlers_in_order(app: Any) -> None:
    calls: list[str] = []

    @app.on_sqs_message(queue="jobs")
    def work(event: SQSEvent) -> str:
        calls.append("handler")
        return "result"

    @app.lambda_function()
    def plain(event: Any, context: Any) -> str:
        calls.append("plain")
        return "plain-result"

    @app.middleware("all")
    def outer(event: Any, get_response: Any) -> Any:
        calls.append(f"all:{type(event).__name__}")
        return get_response(event)

    @app.middleware("sqs")
    def inner(event: Any, get_response: Any) -> Any:
        calls.append("sqs")
        return get_response(event).upper()

    payload = create_sqs_event([create_sqs_record(body="x", queue_arn=QUEUE_ARN)])
    assert work(payload, None) == "RESULT"
    assert calls == ["all:SQSEvent", "sqs", "handler"]
    calls.clear()
    assert plain({"k": 1}, None) == "plain-result"
    assert calls == [f"all:{LambdaFunctionEvent.__name__}", "plain"]


def test_blueprint_defers_registration_with_prefix_and_module(app: Any) -> None:
    bp = Blueprint("chalicelib.jobs")

    @bp.on_sqs_message(queue="jobs")
    def work(event: SQSEvent) -> int:
        return len(event)

    @bp.schedule("rate(1 hour)")
    def hourly(event: CloudWatchEvent) -> str:
        return event.source

    @bp.lambda_function()
    def raw(event: Any, context: Any) -> Any:
        return event

    assert app.event_sources == []
    app.register_blueprint(bp, name_prefix="bp_")
    names = [(c.name, c.handler_string) for c in app.event_sources]
    assert names == [("bp_work", "chalicelib.jobs.work"), ("bp_hourly", "chalicelib.jobs.hourly")]
    assert [(f.name, f.handler_string) for f in app.pure_lambda_functions] == [
        ("bp_raw", "chalicelib.jobs.raw")
    ]
    payload = create_sqs_event([create_sqs_record(body="x", queue_arn=QUEUE_ARN)] * 3)
    assert app.handler_map["bp_work"](payload, None) == 3


def test_blueprint_handlers_get_the_app_middleware_once_registered(app: Any) -> None:
    bp = Blueprint("chalicelib.bp")

    @bp.on_sns_message(topic="t")
    def note(event: SNSEvent) -> str:
        return event.message

    app.register_blueprint(bp)

    @app.middleware("sns")
    def shout(event: Any, get_response: Any) -> Any:
        return get_response(event) + "!"

    record = create_sns_record(message="hey", topic_arn="arn:aws:sns:us-east-1:1:t")
    assert note(create_sns_event(record), None) == "hey!"


def test_registry_lists_event_handlers_with_their_kinds(app: Any) -> None:
    @app.schedule("rate(1 day)")
    def daily(event: Any) -> None: ...

    @app.on_s3_event(bucket="b")
    def s3(event: Any) -> None: ...

    @app.on_sqs_message(queue="q")
    def sqs(event: Any) -> None: ...

    @app.on_sns_message(topic="t")
    def sns(event: Any) -> None: ...

    @app.on_cw_event({"source": ["x"]})
    def cw(event: Any) -> None: ...

    @app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:us-east-1:1:table/T/stream/x")
    def ddb(event: Any) -> None: ...

    @app.on_kinesis_record(stream="k")
    def kin(event: Any) -> None: ...

    @app.lambda_function()
    def fn(event: Any, context: Any) -> None: ...

    kinds = [(spec.name, spec.kind) for spec in functions(app)]
    assert kinds == [
        ("daily", "schedule"),
        ("s3", "s3"),
        ("sqs", "sqs"),
        ("sns", "sns"),
        ("cw", "cloudwatch"),
        ("ddb", "dynamodb"),
        ("kin", "kinesis"),
        ("fn", "lambda"),
    ]
    assert [c.kind for c in app.event_sources] == [k for _, k in kinds[:-1]]
