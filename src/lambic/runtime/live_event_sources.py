"""`lambic local`'s event sources: every event handler in app.py, fed and reported.

`LiveEventSources` is a `CloudComponent` (`async start(cloud)`, `async stop()`) that
`LocalCloud` starts after the local services (`local_services.LocalServices`) and the
invoker, since it needs both. It hands the services the durable async queue, so Lambda's
`invoke(InvocationType="Event")` gets the same retries and destinations as an S3 or SNS
event, and prints and logs each delivery.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from lambic._start_trace import stamp
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION, function_arn
from lambic.project.config import AsyncSettings, FunctionSettings, deployed_name
from lambic.project.manifest import FunctionEntry
from lambic.project.paths import ProjectPaths
from lambic.project.resources import handler_reference, undeclared, undeclared_message
from lambic.runtime.async_queue import AsyncEventQueue, Delivery, FailedEvent
from lambic.runtime.errors import LambicRuntimeError
from lambic.runtime.event_sources import Account, Engines, EventSources, create_event_sources
from lambic.runtime.event_sources.base import (
    SYNC_KINDS,
    UnsupportedEventSourceError,
    feeding_services,
)
from lambic.runtime.logstore import LogEvent

if TYPE_CHECKING:
    from lambic.runtime.local import LocalCloud
    from lambic.runtime.local_services import LocalServices
    from lambic.runtime.sqs_poller import BatchOutcome
    from lambic.runtime.stream_poller import StreamBatchOutcome
    from lambic.services.sqs import SqsEngine

#: The log stream, in each function's log group, that holds its event delivery lines.
EVENTS_LOG_STREAM = "lambic/events"


class LiveEventSources:
    """Every event handler in app.py, fed by the scheduler and the local services.

    Each delivery is printed as one line (`[event] SOURCE -> FUNCTION REQUEST-ID
    OUTCOME DURATION`) and written into the function's log group, in the
    `lambic/events` stream, so `lambic logs -n FUNCTION` shows it beside the
    function's own output.
    """

    def __init__(self, services: LocalServices | None) -> None:
        self.local_services = services
        self.sources: EventSources | None = None
        self.queue: AsyncEventQueue | None = None
        self._cloud: LocalCloud | None = None
        self._functions: dict[str, FunctionSettings] = {}
        self._invoke: Callable[[str, bytes], Any] | None = None
        self._warned: set[str] = set()

    async def start(self, cloud: LocalCloud) -> None:
        if cloud.project is None or cloud.invoker is None:
            raise LambicRuntimeError("Event sources start after the project and the invoker")
        self._cloud = cloud
        self._check_declared(cloud)
        invoker = cloud.invoker
        state = cloud.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self._refresh_settings(cloud)

        def invoke(function: str, payload: bytes) -> Any:
            return invoker.invoke(function, payload)

        def attempt(function: str, payload: bytes, request_id: str) -> Any:
            return invoker.invoke(function, payload, request_id=request_id)

        self._invoke = invoke
        stamp("main: es checked")
        self.queue = AsyncEventQueue(
            attempt,
            path=state / "events.sqlite3",
            settings=self._async_settings,
            function_arn=lambda name: self._function_arn(cloud, name),
            on_failure=self._send_to_destination,
            concurrency=self._async_concurrency,
            report=self._print_delivery,
        )
        stamp("main: es queue opened")
        self.sources = self._create_sources(cloud, cloud.project.manifest.functions)
        stamp("main: es sources created")
        await self.sources.start()
        if self.local_services is not None:
            self.local_services.use_event_queue(self.queue)

    async def reload(self, cloud: LocalCloud) -> None:
        """Re-wire after hot reload: handlers added, removed or changed take effect.

        Events already accepted stay in the durable queue; those for a function that
        no longer exists wait there until it comes back (AWS would fail them).
        """
        if self.queue is None or cloud.project is None:
            return
        self._check_declared(cloud)
        self._refresh_settings(cloud)
        old = self.sources
        new = self._create_sources(cloud, cloud.project.manifest.functions)
        if old is not None:
            await old.stop()
        self.sources = None
        try:
            await self._wire(new)
        except Exception:
            # e.g. a new S3 rule overlapping another: keep the previous wiring running
            # and let LocalCloud print the error.
            if old is not None:
                await self._wire(self._create_sources(cloud, old.functions))
            raise

    def _check_declared(self, cloud: LocalCloud) -> None:
        """The rule for resources a handler names but the config does not declare.

        Locally an undeclared queue, topic, bucket or Kinesis stream (one shard) is
        created by its event source so the app runs, and the sentence `lambic deploy`
        would refuse with (should it not exist on AWS) is printed once; an undeclared
        table cannot be created without its key schema, so it is refused here as
        deploy refuses it.
        """
        if cloud.project is None:
            return
        declared = cloud.config.resources(cloud.stage)
        functions = cloud.project.manifest.functions
        references = [handler_reference(f.kind, f.event_source or {}, f.name) for f in functions]
        config_name = ProjectPaths(cloud.project_dir).config_name
        messages = []
        for reference in undeclared(references, declared):
            message = undeclared_message(reference, config_name)
            if reference.kind == "dynamodb_tables":
                raise UnsupportedEventSourceError(message)
            messages.append(message)
        for message in messages:
            if message not in self._warned:
                self._warned.add(message)
                cloud.echo(f"Warning: {message}")

    async def _wire(self, sources: EventSources) -> None:
        if self.queue is None:
            raise LambicRuntimeError("The event queue is closed")
        self.queue.retain([f.name for f in sources.functions if f.kind not in SYNC_KINDS])
        try:
            await sources.start()
        except BaseException:
            await sources.stop()  # a half-wired start must not leave tasks or listeners
            raise
        self.sources = sources

    def _refresh_settings(self, cloud: LocalCloud) -> None:
        if cloud.project is None:
            return
        self._functions = cloud.project.functions(cloud.stage)

    def _async_settings(self, name: str) -> AsyncSettings:
        settings = self._functions.get(name)
        return settings.asynchronous if settings is not None else AsyncSettings()

    def _async_concurrency(self, name: str) -> int:
        settings = self._functions.get(name)
        return (settings.reserved_concurrency if settings else None) or 10

    def _create_sources(
        self, cloud: LocalCloud, functions: Iterable[FunctionEntry]
    ) -> EventSources:
        if cloud.project is None or self.queue is None:
            raise LambicRuntimeError("Event sources start after the project and the invoker")
        functions = tuple(functions)
        project = cloud.project
        state = cloud.state_dir
        return create_event_sources(
            functions,
            self.queue,
            Account(project.app_name, cloud.stage, LOCAL_REGION, LOCAL_ACCOUNT_ID),
            self.local_services.engines(self._needed_engines(functions))
            if self.local_services
            else Engines(),
            invoke=self._invoke,
            concurrency=lambda name: (
                self._functions[name].reserved_concurrency if name in self._functions else None
            ),
            batch_report=self._print_batch,
            stream_report=self._print_stream_batch,
            state_dir=state,
        )

    def _needed_engines(self, functions: Iterable[FunctionEntry]) -> set[str]:
        """The engines these handlers feed from, the others staying unbuilt; plus S3's
        and SNS's when their state is on disk: their adapters remove the rules and
        subscriptions of handlers app.py no longer has, which only a stored state can
        hold."""
        needed = feeding_services(functions)
        local = self.local_services
        if local is not None:
            needed |= local.stored({"s3", "sns"})
        return needed

    async def stop(self) -> None:
        if self.local_services is not None:
            self.local_services.use_event_queue(None)
        if self.sources is not None:
            await self.sources.stop()
            self.sources = None
        if self.queue is not None:
            await self.queue.aclose()
            self.queue = None

    @staticmethod
    def _function_arn(cloud: LocalCloud, name: str) -> str:
        app = cloud.project.app_name if cloud.project else "app"
        return function_arn(deployed_name(app, cloud.stage, name))

    def _print_delivery(self, delivery: Delivery) -> None:
        self._event_line(
            delivery.function,
            f"[event] {delivery.source} -> {delivery.function} {delivery.request_id} "
            f"{delivery.outcome} {delivery.duration_ms:.1f} ms"
            + (f" (attempt {delivery.attempt})" if delivery.attempt > 1 else ""),
        )

    def _print_batch(self, outcome: BatchOutcome) -> None:
        self._event_line(
            outcome.function,
            f"[event] sqs:{outcome.queue} -> {outcome.function} {outcome.request_id} "
            f"{outcome.status} {outcome.duration_ms:.1f} ms "
            f"({outcome.received} received, {outcome.deleted} deleted)",
        )

    def _print_stream_batch(self, outcome: StreamBatchOutcome) -> None:
        self._event_line(
            outcome.function,
            f"[event] {outcome.source} -> {outcome.function} {outcome.request_id} "
            f"{outcome.status} {outcome.duration_ms:.1f} ms ({outcome.records} records)",
        )

    def _event_line(self, function: str, line: str) -> None:
        """Keep one delivery line in the function's log group and print it once, after
        the invocation's own output."""
        cloud = self._cloud
        if cloud is None:
            return
        invoker = cloud.invoker
        group: str | None = None
        if invoker is not None:
            # A function removed by a reload has no log group left: printing is enough.
            with contextlib.suppress(LambicRuntimeError):
                group = invoker.settings(function).log_group
        if invoker is not None and group is not None:
            invoker.store.append(LogEvent(group, EVENTS_LOG_STREAM, int(time.time() * 1000), line))
            if cloud.log_fd is not None:
                return  # the log writer process prints what is stored
        cloud.print_lines([line])

    def schedules(self) -> list[tuple[str, str, datetime | None]]:
        """(function, expression, next fire) of every schedule handler now."""
        return self.sources.schedules() if self.sources is not None else []

    def fire_schedule(self, function: str) -> str:
        """Deliver `function`'s Scheduled Event now (as the console's "fire now")."""
        if self.sources is None:
            raise LambicRuntimeError("The event sources are not running")
        return self.sources.fire_schedule(function)

    def banner_lines(self) -> list[str]:
        """When each schedule fires next (the first data of a `rate(1 minute)` app
        arrives after a minute: say so rather than stay silent)."""
        schedules = self.schedules()
        if not schedules:
            return []
        now = datetime.now(timezone.utc)
        lines = ["Schedules:"]
        for function, expression, due in schedules:
            when = (
                "never"
                if due is None
                else (
                    f"next {due.astimezone().strftime('%H:%M:%S')}"
                    f" (in {max(0, round((due - now).total_seconds()))} s)"
                )
            )
            lines.append(f"  {function:<18} {expression:<24} {when}")
        return lines

    def _send_to_destination(self, failed: FailedEvent) -> None:
        """On-failure destination (invocation record) and DLQ (original event), via SQS."""
        settings = failed.settings
        if not (settings.on_failure or settings.dead_letter_queue):
            return
        local = self.local_services
        sqs: SqsEngine | None = local.engines(["sqs"]).sqs if local is not None else None
        if sqs is None:
            raise LambicRuntimeError("An on-failure destination needs the local SQS service")
        if settings.on_failure:
            record = failed.destination_record(time.time())
            sqs.send_message(_queue_name(settings.on_failure), json.dumps(record))
        if settings.dead_letter_queue:
            sqs.send_message(
                _queue_name(settings.dead_letter_queue),
                failed.payload.decode("utf-8", "replace"),
            )


def _queue_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit(":", 1)[-1]
