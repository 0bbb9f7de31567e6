"""Event-handler decorators (`@app.schedule`, `@app.on_s3_event`, ...) and their configs.

`EventSourceDecorators` is a mixin. `Lambic` and `Blueprint` inherit it and implement
the single method every decorator calls, `_register_event_handler` (the contract is
in docs/internals.md §1):

    class Lambic(EventSourceDecorators, DecoratorAPI):
        def _register_event_handler(self, middleware_type, name, user_handler,
                                    func, event_factory, make_config):
            handler = EventSourceHandler(          # lambic.app.middleware
                func, event_factory, lambda: self._get_middleware_handlers(middleware_type))
            config = make_config(name or user_handler.__name__, "app." + user_handler.__name__)
            ...append config to self.event_sources (or pure_lambda_functions)...
            self.handler_map[config.name] = handler
            return handler

A decorator validates its arguments when the module is imported (AWS's limits, e.g.
an SQS batch over 10 needs a batching window), then hands over:

    raw payload --event_factory--> S3Event / SQSEvent / ... --middleware--> func(event)

`func` is the user's function, except for `@app.lambda_function()`, where it adapts
the typed event back to Lambda's `(event, context)` call. `middleware_type` is the
`@app.middleware(...)` event type: "scheduled", "s3", "sqs", "sns", "cloudwatch",
"dynamodb", "kinesis" or "pure_lambda".

Errors:

    ChaliceError (lambic.app.errors)
    └── EventSourceConfigError (also a ValueError)   a decorator argument breaks an AWS limit
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from lambic.app._event_limits import (
    S3_EVENT_TYPES,
    EventSourceConfigError,
    check_int,
    check_sqs_settings,
    check_stream_settings,
    check_text,
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
from lambic.app.schedules import Cron, Rate, ScheduleExpression, parse_schedule

__all__ = [
    "S3_EVENT_TYPES",
    "BaseEventSourceConfig",
    "CloudWatchEventConfig",
    "DynamoDBEventConfig",
    "EventSourceConfigError",
    "EventSourceDecorators",
    "KinesisEventConfig",
    "LambdaFunction",
    "S3EventConfig",
    "SNSEventConfig",
    "SQSEventConfig",
    "ScheduledEventConfig",
]

LambdaHandler = Callable[[dict[str, Any], Any], Any]


class BaseEventSourceConfig:
    """What every event handler registers: its short name and its Lambda handler string.

    Plain classes rather than dataclasses: `dataclasses` costs milliseconds of import
    time in every cold start. Subclasses list their settings in `_fields`, which gives
    keyword construction, equality and a readable repr.
    """

    #: The FunctionSpec kind ("schedule", "s3", ...) for the runtime and the deployer.
    kind: ClassVar[str] = ""
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, handler_string: str) -> None:
        self.name: str = name
        self.handler_string: str = handler_string

    def _values(self) -> tuple[Any, ...]:
        return (self.name, self.handler_string, *(getattr(self, f) for f in self._fields))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseEventSourceConfig) or type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass

    def __repr__(self) -> str:
        names = ("name", "handler_string", *self._fields)
        args = ", ".join(f"{n}={v!r}" for n, v in zip(names, self._values(), strict=True))
        return f"{type(self).__name__}({args})"


class ScheduledEventConfig(BaseEventSourceConfig):
    """`@app.schedule(...)`: an EventBridge schedule rule."""

    kind = "schedule"
    _fields = ("schedule_expression", "description")

    def __init__(
        self,
        name: str,
        handler_string: str,
        schedule_expression: Rate | Cron | str,
        description: str = "",
    ) -> None:
        super().__init__(name, handler_string)
        self.schedule_expression: Rate | Cron | str = schedule_expression
        self.description: str = description

    @property
    def schedule(self) -> Rate | Cron:
        """The expression as a `Rate`/`Cron` object, parsing a string form."""
        if isinstance(self.schedule_expression, str):
            return parse_schedule(self.schedule_expression)
        return self.schedule_expression

    def expression_string(self) -> str:
        """The AWS text form, e.g. `rate(5 minutes)`."""
        return self.schedule.to_string()


class S3EventConfig(BaseEventSourceConfig):
    """`@app.on_s3_event(...)`: an S3 bucket notification."""

    kind = "s3"
    _fields = ("bucket", "events", "prefix", "suffix")

    def __init__(
        self,
        name: str,
        handler_string: str,
        bucket: str,
        events: list[str] | None = None,
        prefix: str | None = None,
        suffix: str | None = None,
    ) -> None:
        super().__init__(name, handler_string)
        self.bucket: str = bucket
        self.events: list[str] = ["s3:ObjectCreated:*"] if events is None else events
        self.prefix: str | None = prefix
        self.suffix: str | None = suffix


class SNSEventConfig(BaseEventSourceConfig):
    """`@app.on_sns_message(...)`: an SNS subscription (topic name or ARN)."""

    kind = "sns"
    _fields = ("topic",)

    def __init__(self, name: str, handler_string: str, topic: str) -> None:
        super().__init__(name, handler_string)
        self.topic: str = topic


class SQSEventConfig(BaseEventSourceConfig):
    """`@app.on_sqs_message(...)`: an SQS event source mapping."""

    kind = "sqs"
    _fields = (
        "queue",
        "queue_arn",
        "batch_size",
        "maximum_batching_window_in_seconds",
        "maximum_concurrency",
    )

    def __init__(
        self,
        name: str,
        handler_string: str,
        queue: str | None = None,
        queue_arn: str | None = None,
        batch_size: int = 1,
        maximum_batching_window_in_seconds: int = 0,
        maximum_concurrency: int | None = None,
    ) -> None:
        super().__init__(name, handler_string)
        self.queue: str | None = queue
        self.queue_arn: str | None = queue_arn
        self.batch_size: int = batch_size
        self.maximum_batching_window_in_seconds: int = maximum_batching_window_in_seconds
        self.maximum_concurrency: int | None = maximum_concurrency


class CloudWatchEventConfig(BaseEventSourceConfig):
    """`@app.on_cw_event(...)`: an EventBridge rule with an event pattern."""

    kind = "cloudwatch"
    _fields = ("event_pattern",)

    def __init__(self, name: str, handler_string: str, event_pattern: dict[str, Any]) -> None:
        super().__init__(name, handler_string)
        self.event_pattern: dict[str, Any] = event_pattern


class _StreamConfig(BaseEventSourceConfig):
    def __init__(
        self,
        name: str,
        handler_string: str,
        batch_size: int = 100,
        starting_position: str = "LATEST",
        maximum_batching_window_in_seconds: int = 0,
    ) -> None:
        super().__init__(name, handler_string)
        self.batch_size: int = batch_size
        self.starting_position: str = starting_position
        self.maximum_batching_window_in_seconds: int = maximum_batching_window_in_seconds


class DynamoDBEventConfig(_StreamConfig):
    """`@app.on_dynamodb_record(...)`: a DynamoDB stream event source mapping."""

    kind = "dynamodb"
    _fields = (
        "stream_arn",
        "batch_size",
        "starting_position",
        "maximum_batching_window_in_seconds",
    )

    def __init__(
        self,
        name: str,
        handler_string: str,
        stream_arn: str,
        batch_size: int = 100,
        starting_position: str = "LATEST",
        maximum_batching_window_in_seconds: int = 0,
    ) -> None:
        super().__init__(
            name, handler_string, batch_size, starting_position, maximum_batching_window_in_seconds
        )
        self.stream_arn: str = stream_arn


class KinesisEventConfig(_StreamConfig):
    """`@app.on_kinesis_record(...)`: a Kinesis stream event source mapping."""

    kind = "kinesis"
    _fields = ("stream", "batch_size", "starting_position", "maximum_batching_window_in_seconds")

    def __init__(
        self,
        name: str,
        handler_string: str,
        stream: str,
        batch_size: int = 100,
        starting_position: str = "LATEST",
        maximum_batching_window_in_seconds: int = 0,
    ) -> None:
        super().__init__(
            name, handler_string, batch_size, starting_position, maximum_batching_window_in_seconds
        )
        self.stream: str = stream


class LambdaFunction:
    """`@app.lambda_function()`: a plain Lambda function called as `(event, context)`."""

    kind: ClassVar[str] = "lambda"

    def __init__(self, func: Callable[..., Any], name: str, handler_string: str) -> None:
        self.func: Callable[..., Any] = func
        self.name: str = name
        self.handler_string: str = handler_string

    def __call__(self, event: Any, context: Any) -> Any:
        return self.func(event, context)

    def __repr__(self) -> str:
        return f"LambdaFunction(name={self.name!r}, handler_string={self.handler_string!r})"


def _call_pure_lambda(user_handler: Callable[..., Any]) -> Callable[[Any], Any]:
    def call(event: Any) -> Any:
        # Middleware sees a LambdaFunctionEvent; the function keeps Lambda's signature.
        return user_handler(event.to_dict(), event.context)

    return call


Decorator = Callable[[Callable[..., Any]], Any]


class EventSourceDecorators:
    """Mixin holding the Chalice event-handler decorators (see the module docstring)."""

    def _register_event_handler(
        self,
        middleware_type: str,
        name: str | None,
        user_handler: Callable[..., Any],
        func: Callable[[Any], Any],
        event_factory: Callable[[dict[str, Any], Any], Any],
        make_config: Callable[[str, str], Any],
    ) -> LambdaHandler:
        """Record the handler and return its Lambda handler; `Lambic`/`Blueprint` implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement _register_event_handler")

    def _event_decorator(
        self,
        middleware_type: str,
        name: str | None,
        event_factory: Callable[[dict[str, Any], Any], Any],
        make_config: Callable[[str, str], Any],
    ) -> Decorator:
        def decorator(user_handler: Callable[..., Any]) -> LambdaHandler:
            return self._register_event_handler(
                middleware_type, name, user_handler, user_handler, event_factory, make_config
            )

        return decorator

    def schedule(
        self,
        expression: str | ScheduleExpression,
        name: str | None = None,
        description: str = "",
    ) -> Decorator:
        """Run the function on an EventBridge schedule; it receives a `CloudWatchEvent`.

        @app.schedule(Rate(5, unit=Rate.MINUTES))
        def every_five(event): ...

        @app.schedule("cron(0 9 ? * MON-FRI *)")
        def weekdays(event): ...
        """
        if isinstance(expression, str):
            parse_schedule(expression)  # raises ScheduleExpressionError now, at import
        elif not isinstance(expression, (Rate, Cron)):
            raise EventSourceConfigError(
                f"schedule: expression must be Rate(...), Cron(...) or a 'rate(...)'/'cron(...)' "
                f"string, got {expression!r}"
            )
        return self._event_decorator(
            "scheduled",
            name,
            CloudWatchEvent,
            lambda n, h: ScheduledEventConfig(
                name=n, handler_string=h, schedule_expression=expression, description=description
            ),
        )

    def on_s3_event(
        self,
        bucket: str,
        events: list[str] | None = None,
        prefix: str | None = None,
        suffix: str | None = None,
        name: str | None = None,
    ) -> Decorator:
        """Run the function for S3 notifications on `bucket`; it receives an `S3Event`."""
        check_text("on_s3_event: bucket", bucket)
        chosen = ["s3:ObjectCreated:*"] if events is None else list(events)
        if not chosen:
            raise EventSourceConfigError("on_s3_event: events must list at least one event type")
        for event_type in chosen:
            if event_type not in S3_EVENT_TYPES:
                raise EventSourceConfigError(
                    f"on_s3_event: {event_type!r} is not an S3 event type; use e.g. "
                    "'s3:ObjectCreated:*' or 's3:ObjectRemoved:Delete'"
                )
        return self._event_decorator(
            "s3",
            name,
            S3Event,
            lambda n, h: S3EventConfig(
                name=n, handler_string=h, bucket=bucket, events=chosen, prefix=prefix, suffix=suffix
            ),
        )

    def on_sqs_message(
        self,
        queue: str | None = None,
        batch_size: int = 1,
        name: str | None = None,
        queue_arn: str | None = None,
        maximum_batching_window_in_seconds: int = 0,
        maximum_concurrency: int | None = None,
    ) -> Decorator:
        """Consume an SQS queue in batches; the function receives an `SQSEvent`.

        Returning `{"batchItemFailures": [{"itemIdentifier": message_id}, ...]}` reports
        a partial batch failure; only those messages are retried.
        """
        if not queue and not queue_arn:
            raise EventSourceConfigError(
                "Must provide either `queue` or `queue_arn` to the `on_sqs_message` decorator."
            )
        label = queue or str(queue_arn)
        check_sqs_settings(label, batch_size, maximum_batching_window_in_seconds)
        if maximum_concurrency is not None:
            # AWS ScalingConfig.MaximumConcurrency: 2-1000.
            check_int("on_sqs_message: maximum_concurrency", maximum_concurrency, 2, 1000)
        return self._event_decorator(
            "sqs",
            name,
            SQSEvent,
            lambda n, h: SQSEventConfig(
                name=n,
                handler_string=h,
                queue=queue,
                queue_arn=queue_arn,
                batch_size=batch_size,
                maximum_batching_window_in_seconds=maximum_batching_window_in_seconds,
                maximum_concurrency=maximum_concurrency,
            ),
        )

    def on_sns_message(self, topic: str, name: str | None = None) -> Decorator:
        """Subscribe to an SNS topic (name or ARN); the function receives an `SNSEvent`."""
        check_text("on_sns_message: topic", topic)
        return self._event_decorator(
            "sns",
            name,
            SNSEvent,
            lambda n, h: SNSEventConfig(name=n, handler_string=h, topic=topic),
        )

    def on_cw_event(self, event_pattern: dict[str, Any], name: str | None = None) -> Decorator:
        """Run for EventBridge events matching `event_pattern`; receives a `CloudWatchEvent`."""
        if not isinstance(event_pattern, dict) or not event_pattern:
            raise EventSourceConfigError(
                "on_cw_event: event_pattern must be a non-empty dict, e.g. "
                f'{{"source": ["aws.ec2"]}}, got {event_pattern!r}'
            )
        return self._event_decorator(
            "cloudwatch",
            name,
            CloudWatchEvent,
            lambda n, h: CloudWatchEventConfig(
                name=n, handler_string=h, event_pattern=event_pattern
            ),
        )

    def on_dynamodb_record(
        self,
        stream_arn: str,
        batch_size: int = 100,
        starting_position: str = "LATEST",
        name: str | None = None,
        maximum_batching_window_in_seconds: int = 0,
    ) -> Decorator:
        """Consume a DynamoDB stream; the function receives a `DynamoDBEvent`."""
        check_text("on_dynamodb_record: stream_arn", stream_arn)
        check_stream_settings(
            "on_dynamodb_record", batch_size, starting_position, maximum_batching_window_in_seconds
        )
        return self._event_decorator(
            "dynamodb",
            name,
            DynamoDBEvent,
            lambda n, h: DynamoDBEventConfig(
                name=n,
                handler_string=h,
                stream_arn=stream_arn,
                batch_size=batch_size,
                starting_position=starting_position,
                maximum_batching_window_in_seconds=maximum_batching_window_in_seconds,
            ),
        )

    def on_kinesis_record(
        self,
        stream: str,
        batch_size: int = 100,
        starting_position: str = "LATEST",
        name: str | None = None,
        maximum_batching_window_in_seconds: int = 0,
    ) -> Decorator:
        """Consume a Kinesis data stream; the function receives a `KinesisEvent`."""
        check_text("on_kinesis_record: stream", stream)
        check_stream_settings(
            "on_kinesis_record", batch_size, starting_position, maximum_batching_window_in_seconds
        )
        return self._event_decorator(
            "kinesis",
            name,
            KinesisEvent,
            lambda n, h: KinesisEventConfig(
                name=n,
                handler_string=h,
                stream=stream,
                batch_size=batch_size,
                starting_position=starting_position,
                maximum_batching_window_in_seconds=maximum_batching_window_in_seconds,
            ),
        )

    def lambda_function(self, name: str | None = None) -> Decorator:
        """A plain Lambda function: the decorated `(event, context)` function is the handler."""

        def decorator(user_handler: Callable[..., Any]) -> LambdaHandler:
            return self._register_event_handler(
                "pure_lambda",
                name,
                user_handler,
                _call_pure_lambda(user_handler),
                LambdaFunctionEvent,
                lambda n, h: LambdaFunction(user_handler, n, h),
            )

        return decorator
