"""Every event handler in app.py, live: the wiring from local services to functions.

`EventSources` reads the app manifest's event sources and connects each one the way
AWS connects the deployed resource, so the handler sees the same event with the same
delivery semantics:

    @app.schedule          Scheduler fire  -> async invoke (durable queue, retries)
    @app.on_cw_event       EventBridge bus -> pattern match -> async invoke
    @app.on_s3_event       S3 engine commit -> notification filter -> async invoke
    @app.on_sns_message    SNS publish -> lambda subscription -> async invoke
    @app.on_sqs_message    SQS queue <- event source mapping poller -> sync invoke
    @app.on_dynamodb_record stream log <- stream poller -> sync invoke

An event source this runtime cannot feed (Kinesis) is a startup error, never silently
ignored: `check_supported()` raises `UnsupportedEventSourceError` naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambic.app.schedules import parse_schedule
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.project.manifest import FunctionEntry
from lambic.runtime.async_queue import AsyncEventQueue
from lambic.runtime.errors import LambicRuntimeError
from lambic.runtime.scheduler import Fire, Scheduler, create_rules
from lambic.runtime.sqs_poller import (
    DEFAULT_POLLERS,
    BatchOutcome,
    Invoke,
    SqsEventSourceMapping,
)
from lambic.runtime.stream_poller import (
    Checkpoints,
    DynamoDBStreamMapping,
    StreamBatchOutcome,
    StreamSourceError,
)

log = logging.getLogger(__name__)

SUPPORTED_KINDS = frozenset(
    {"api", "lambda", "authorizer", "schedule", "cloudwatch", "s3", "sqs", "sns", "dynamodb"}
)
# Notification rules this runtime writes into a bucket's configuration carry this Id
# prefix, so a restart replaces its own rules and leaves the user's alone.
RULE_ID_PREFIX = "lambic-"


class UnsupportedEventSourceError(LambicRuntimeError):
    """app.py declares an event source the local cloud cannot feed."""


@dataclass(frozen=True)
class Account:
    """The local account every ARN is built in."""

    app_name: str
    stage: str
    region: str = LOCAL_REGION
    account_id: str = LOCAL_ACCOUNT_ID


def schedule_rule_arn(account: Account, function: str) -> str:
    """The ARN of a schedule handler's rule, named as the deployer names it."""
    name = f"{account.app_name}-{account.stage}-{function}-event"
    return f"arn:aws:events:{account.region}:{account.account_id}:rule/{name}"


def scheduled_event(account: Account, function: str) -> dict[str, Any]:
    """The Scheduled Event a schedule handler's rule sends when it fires now."""
    from lambic.app.event_payloads import create_scheduled_event

    return create_scheduled_event(rule_arn=schedule_rule_arn(account, function))


def check_supported(functions: Iterable[FunctionEntry], supported: frozenset[str]) -> None:
    """Refuse to start with an event source that would silently never fire."""
    for function in functions:
        if function.kind not in supported:
            raise UnsupportedEventSourceError(
                f"{function.handler} is a {function.kind} event handler, which `lambic local` "
                f"cannot feed yet; remove it or run it with `lambic invoke -n {function.name} "
                "--payload-file EVENT.json`"
            )


class EventSources:
    """Connects a project's event handlers to the scheduler and the local services."""

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        queue: AsyncEventQueue,
        account: Account,
        *,
        event_bus: Any | None = None,
        s3_engine: Any | None = None,
        sqs_engine: Any | None = None,
        sns_engine: Any | None = None,
        dynamodb_engine: Any | None = None,
        invoke: Invoke | None = None,
        concurrency: Callable[[str], int | None] = lambda name: None,
        batch_report: Callable[[BatchOutcome], None] | None = None,
        stream_report: Callable[[StreamBatchOutcome], None] | None = None,
        state_dir: Path | None = None,
        scheduler_factory: Callable[..., Scheduler] = Scheduler,
    ) -> None:
        self.functions = list(functions)
        self.queue = queue
        self.account = account
        self.event_bus = event_bus
        self.s3_engine = s3_engine
        self.sqs_engine = sqs_engine
        self.sns_engine = sns_engine
        self.dynamodb_engine = dynamodb_engine
        self.stream_mappings: list[DynamoDBStreamMapping] = []
        self._checkpoints: Checkpoints | None = None
        self._invoke = invoke
        self._concurrency = concurrency
        self.batch_report = batch_report
        self.stream_report = stream_report
        self._sns_functions: dict[str, str] = {}  # function ARN -> short name
        self._sns_listening = False
        self.mappings: list[SqsEventSourceMapping] = []
        self.state_dir = state_dir
        self._s3_functions: dict[str, str] = {}  # function ARN -> short name
        self._s3_listening = False
        self._scheduler_factory = scheduler_factory
        self.scheduler: Scheduler | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriptions: list[str] = []
        check_supported(self.functions, SUPPORTED_KINDS)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.queue.start([f.name for f in self.functions if f.kind not in ("api", "authorizer")])
        self._start_schedules()
        self._start_eventbridge_rules()
        self._start_s3_notifications()
        self._start_sns_subscriptions()
        self._start_sqs_mappings()
        self._start_stream_mappings()

    async def stop(self) -> None:
        for mapping in self.mappings:
            await mapping.stop()
        self.mappings.clear()
        for stream in self.stream_mappings:
            await stream.stop()
        self.stream_mappings.clear()
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.event_bus is not None:
            for name in self._subscriptions:
                self.event_bus.unsubscribe(name)
        self._subscriptions.clear()
        if self.s3_engine is not None and self._s3_listening:
            self.s3_engine.remove_listener(self._on_object_event)
            self._s3_listening = False
        self._s3_functions.clear()
        if self.sns_engine is not None and self._sns_listening:
            self.sns_engine.remove_lambda_listener(self._on_sns_delivery)
            self._sns_listening = False
        self._sns_functions.clear()
        if self.scheduler is not None:
            self.scheduler.close()
            self.scheduler = None

    # ------------------------------------------------------------------ schedules

    def _start_schedules(self) -> None:
        schedules = [
            (f.name, parse_schedule(str(_source(f)["schedule_expression"])))
            for f in self.functions
            if f.kind == "schedule"
        ]
        if not schedules:
            return
        rules = create_rules(
            schedules,
            app_name=self.account.app_name,
            stage=self.account.stage,
            region=self.account.region,
            account=self.account.account_id,
        )
        self.scheduler = self._scheduler_factory(
            rules,
            self._fire_schedule,
            state_path=self.state_dir / "schedules.sqlite3" if self.state_dir else None,
        )
        self._tasks.append(asyncio.get_running_loop().create_task(self.scheduler.run()))

    def _fire_schedule(self, fire: Fire) -> None:
        self.enqueue(fire.rule.function, fire.event, source="schedule")

    def fire_schedule_now(self, function: str) -> str:
        """Deliver one Scheduled Event to `function` now, asynchronously as the rule would."""
        return self.enqueue(function, scheduled_event(self.account, function), source="schedule")

    # ------------------------------------------------------------------ EventBridge

    def _start_eventbridge_rules(self) -> None:
        rules = [f for f in self.functions if f.kind == "cloudwatch"]
        if not rules:
            return
        if self.event_bus is None:
            raise UnsupportedEventSourceError(
                "app.py has @app.on_cw_event handlers but the local services are not running; "
                "start `lambic local` without --no-services"
            )
        for function in rules:
            pattern = _source(function)["event_pattern"]
            name = f"{self.account.app_name}-{self.account.stage}-{function.name}"
            self.event_bus.subscribe(name, pattern, self._deliver_to(function.name, "events"))
            self._subscriptions.append(name)

    def _deliver_to(self, function: str, source: str) -> Callable[[dict[str, Any]], None]:
        def deliver(event: dict[str, Any]) -> None:
            self.enqueue(function, event, source=source)

        return deliver

    # ------------------------------------------------------------------ S3

    def function_arn(self, function: str) -> str:
        a = self.account
        return (
            f"arn:aws:lambda:{a.region}:{a.account_id}:function:{a.app_name}-{a.stage}-{function}"
        )

    def _start_s3_notifications(self) -> None:
        handlers = [f for f in self.functions if f.kind == "s3"]
        if self.s3_engine is not None:
            self._remove_stale_s3_rules(
                self.s3_engine, {str(_source(f)["bucket"]) for f in handlers}
            )
        if not handlers:
            return
        if self.s3_engine is None:
            raise UnsupportedEventSourceError(
                "app.py has @app.on_s3_event handlers but the local services are not running; "
                "start `lambic local` without --no-services"
            )
        from lambic.services.s3 import NotificationConfiguration, NotificationRule, S3Error
        from lambic.services.s3.notifications import render_notification

        by_bucket: dict[str, list[NotificationRule]] = {}
        for function in handlers:
            source = _source(function)
            arn = self.function_arn(function.name)
            self._s3_functions[arn] = function.name
            by_bucket.setdefault(str(source["bucket"]), []).append(
                NotificationRule(
                    kind="CloudFunctionConfiguration",
                    id=f"{RULE_ID_PREFIX}{function.name}",
                    target_arn=arn,
                    events=tuple(source.get("events") or ("s3:ObjectCreated:*",)),
                    prefix=str(source.get("prefix") or ""),
                    suffix=str(source.get("suffix") or ""),
                )
            )
        for bucket, rules in by_bucket.items():
            # The handler names its bucket in code; locally we create it if missing
            # (on AWS the deploy would fail instead), so the app runs with no setup.
            try:
                self.s3_engine.create_bucket(bucket)
            except S3Error as exc:
                raise UnsupportedEventSourceError(
                    f"@app.on_s3_event names bucket {bucket!r}, which S3 refuses: {exc}"
                ) from exc
            current = self.s3_engine.notification_configuration(bucket)
            kept = [r for r in current.rules if not r.id.startswith(RULE_ID_PREFIX)]
            config = NotificationConfiguration(tuple(kept + rules), current.eventbridge)
            try:
                self.s3_engine.put_notification(bucket, render_notification(config))
            except S3Error as exc:
                names = ", ".join(rule.id.removeprefix(RULE_ID_PREFIX) for rule in rules)
                raise UnsupportedEventSourceError(
                    f"S3 rejected the notification rules for bucket {bucket!r} ({names}): "
                    f"{exc}. Give the handlers prefixes/suffixes that do not overlap."
                ) from exc
        self.s3_engine.add_listener(self._on_object_event)
        self._s3_listening = True

    def _remove_stale_s3_rules(self, engine: Any, buckets_in_use: set[str]) -> None:
        """Drop this app's rules from buckets no handler names any more (as a redeploy
        would), so a handler moved to another bucket leaves nothing behind."""
        from lambic.services.s3 import NotificationConfiguration
        from lambic.services.s3.notifications import render_notification

        ours = self.function_arn("")
        for bucket in engine.list_buckets():
            if bucket.name in buckets_in_use:
                continue
            current = engine.notification_configuration(bucket.name)
            kept = [
                rule
                for rule in current.rules
                if not (rule.id.startswith(RULE_ID_PREFIX) and rule.target_arn.startswith(ours))
            ]
            if len(kept) != len(current.rules):
                config = NotificationConfiguration(tuple(kept), current.eventbridge)
                engine.put_notification(bucket.name, render_notification(config))

    def _on_object_event(self, event: Any) -> None:
        from lambic.app.event_payloads import create_s3_event, create_s3_record

        engine = self.s3_engine
        if engine is None:
            return
        config = engine.notification_configuration(event.bucket)
        for rule in config.targets(event.event_name, event.key):
            function = self._s3_functions.get(rule.target_arn)
            if rule.kind != "CloudFunctionConfiguration" or function is None:
                continue
            record = create_s3_record(
                bucket=event.bucket,
                key=event.key,
                event_name=event.event_name,
                size=event.size,
                etag=event.etag,
                version_id=event.version_id,
                sequencer=event.sequencer,
                region=self.account.region,
                source_ip=event.source_ip,
                request_id=event.request_id or None,
                configuration_id=rule.id,
            )
            self.enqueue(function, create_s3_event([record]), source="s3")

    # ------------------------------------------------------------------ SNS

    def _start_sns_subscriptions(self) -> None:
        handlers = [f for f in self.functions if f.kind == "sns"]
        engine = self.sns_engine
        if engine is None:
            if handlers:
                raise UnsupportedEventSourceError(
                    "app.py has @app.on_sns_message handlers but the local services are not "
                    "running; start `lambic local` without --no-services"
                )
            return
        from lambic.services.sns import SnsError

        wanted: dict[str, str] = {}  # function ARN -> topic ARN
        for function in handlers:
            topic = str(_source(function)["topic"])
            # A handler names its topic by name or ARN; the deployer creates a topic
            # given by name, and locally we create it either way so the app runs.
            name = topic.rsplit(":", 1)[-1] if topic.startswith("arn:") else topic
            try:
                topic_arn = engine.create_topic(name).arn
            except SnsError as exc:
                raise UnsupportedEventSourceError(
                    f"@app.on_sns_message names topic {topic!r}, which SNS refuses: {exc}"
                ) from exc
            arn = self.function_arn(function.name)
            wanted[arn] = topic_arn
            self._sns_functions[arn] = function.name
        # Subscriptions of this app's functions that app.py no longer declares are
        # removed, as a redeploy removes them; an existing one is kept as it is, so a
        # filter policy set on it (SetSubscriptionAttributes) survives restarts.
        prefix = self.function_arn("")
        for subscription in engine.list_subscriptions():
            endpoint = subscription.endpoint
            if subscription.protocol != "lambda" or not endpoint.startswith(prefix):
                continue
            if wanted.get(endpoint) != subscription.topic_arn:
                engine.unsubscribe(subscription.arn)
        for arn, topic_arn in wanted.items():
            engine.subscribe(topic_arn, "lambda", arn)
        if handlers:
            engine.add_lambda_listener(self._on_sns_delivery)
            self._sns_listening = True

    def _on_sns_delivery(self, delivery: Any) -> None:
        function = self._sns_functions.get(delivery.function_arn)
        if function is not None:
            self.enqueue(function, delivery.event, source="sns")

    # ------------------------------------------------------------------ SQS

    def _start_sqs_mappings(self) -> None:
        handlers = [f for f in self.functions if f.kind == "sqs"]
        if not handlers:
            return
        if self.sqs_engine is None or self._invoke is None:
            raise UnsupportedEventSourceError(
                "app.py has @app.on_sqs_message handlers but the local services are not "
                "running; start `lambic local` without --no-services"
            )
        from lambic.services.sqs import SqsError

        for function in handlers:
            source = _source(function)
            queue = self._queue_name(source)
            try:
                self.sqs_engine.get_queue(queue)
            except SqsError:
                # The handler names its queue in code; locally we create it if missing
                # (on AWS the deploy would fail instead), so the app runs with no setup.
                try:
                    self.sqs_engine.create_queue(queue)
                except SqsError as exc:
                    raise UnsupportedEventSourceError(
                        f"@app.on_sqs_message names queue {queue!r}, which SQS refuses: {exc}"
                    ) from exc
            limit = self._concurrency(function.name)
            mapping = SqsEventSourceMapping(
                self.sqs_engine,
                queue,
                function.name,
                self._invoke,
                batch_size=int(source.get("batch_size") or 1),
                batching_window=float(source.get("maximum_batching_window_in_seconds") or 0),
                pollers=min(limit, DEFAULT_POLLERS) if limit else DEFAULT_POLLERS,
                region=self.account.region,
                report=self.batch_report,
            )
            mapping.start()
            self.mappings.append(mapping)

    @staticmethod
    def _queue_name(source: Mapping[str, Any]) -> str:
        if source.get("queue"):
            return str(source["queue"])
        return str(source["queue_arn"]).rsplit(":", 1)[-1]

    # ------------------------------------------------------------------ DynamoDB streams

    def _start_stream_mappings(self) -> None:
        handlers = [f for f in self.functions if f.kind == "dynamodb"]
        if not handlers:
            return
        if self.dynamodb_engine is None or self._invoke is None:
            raise UnsupportedEventSourceError(
                "app.py has @app.on_dynamodb_record handlers but the local services are not "
                "running; start `lambic local` without --no-services"
            )
        self._checkpoints = Checkpoints(
            self.state_dir / "stream_checkpoints.sqlite3" if self.state_dir else None
        )
        for function in handlers:
            source = _source(function)
            try:
                mapping = DynamoDBStreamMapping(
                    self.dynamodb_engine,
                    str(source["stream_arn"]),
                    function.name,
                    self._invoke,
                    self._checkpoints,
                    batch_size=int(source.get("batch_size") or 100),
                    batching_window=float(source.get("maximum_batching_window_in_seconds") or 0),
                    starting_position=str(source.get("starting_position") or "LATEST"),
                    report=self.stream_report,
                )
            except StreamSourceError as exc:
                raise UnsupportedEventSourceError(f"{function.handler}: {exc}") from exc
            mapping.start()
            self.stream_mappings.append(mapping)

    # ------------------------------------------------------------------ common

    def enqueue(self, function: str, event: Mapping[str, Any], *, source: str) -> str:
        """Accept an asynchronous invocation of `function` (durable before returning)."""
        request_id = str(uuid.uuid4())
        payload = json.dumps(event, separators=(",", ":")).encode("utf-8")
        self.queue.enqueue(function, payload, request_id=request_id, source=source)
        return request_id


def _source(function: FunctionEntry) -> Mapping[str, Any]:
    if not function.event_source:
        raise UnsupportedEventSourceError(
            f"{function.handler} has no event source settings in the app manifest"
        )
    return function.event_source
