"""All of a project's event sources as one: built from the manifest, started and stopped.

`create_event_sources(functions, queue, account, engines, ...)` picks one adapter per
kind of handler, each given only the engine it feeds from, and refuses at once a
handler the local cloud cannot feed (an unsupported kind, or a service that is not
running). `EventSources.start()` starts the async workers of the durable queue and
then each adapter; `stop()` stops the adapters in reverse order (the queue is the
caller's: its accepted events outlive a reload).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lambic.project.manifest import FunctionEntry
from lambic.runtime._batches import Invoke
from lambic.runtime.async_queue import AsyncEventQueue
from lambic.runtime.event_sources.base import (
    SUPPORTED_KINDS,
    SYNC_KINDS,
    Account,
    EventSource,
    UnsupportedEventSourceError,
    check_services,
    check_supported,
    handlers,
)
from lambic.runtime.event_sources.schedule import SchedulerFactory, ScheduleSource
from lambic.runtime.scheduler import Scheduler

# The other adapters are imported when their engine is there (each imports its
# service's modules, which `lambic local` builds only when something needs them).
if TYPE_CHECKING:
    from lambic.runtime.event_sources.sqs import Concurrency
    from lambic.runtime.sqs_poller import BatchOutcome
    from lambic.runtime.stream_poller import StreamBatchOutcome
    from lambic.services.dynamodb import DynamoDBEngine
    from lambic.services.events import EventBus
    from lambic.services.kinesis import KinesisEngine
    from lambic.services.s3 import S3Engine
    from lambic.services.sns import SnsEngine
    from lambic.services.sqs import SqsEngine


@dataclass(frozen=True)
class Engines:
    """The in-process engines of the local services; None for one not running."""

    s3: S3Engine | None = None
    sqs: SqsEngine | None = None
    sns: SnsEngine | None = None
    dynamodb: DynamoDBEngine | None = None
    event_bus: EventBus | None = None
    kinesis: KinesisEngine | None = None

    def running(self) -> set[str]:
        """The names of the services present (`events` for the bus)."""
        present = {
            "s3": self.s3,
            "sqs": self.sqs,
            "sns": self.sns,
            "dynamodb": self.dynamodb,
            "events": self.event_bus,
            "kinesis": self.kinesis,
        }
        return {name for name, engine in present.items() if engine is not None}


class EventSources:
    """A project's event-source adapters, started and stopped together."""

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        queue: AsyncEventQueue,
        sources: Sequence[EventSource],
    ) -> None:
        self.functions = list(functions)
        self.queue = queue
        self.sources = list(sources)

    async def start(self) -> None:
        """Start the async workers, then each adapter; on failure the caller `stop()`s."""
        self.queue.start([f.name for f in self.functions if f.kind not in SYNC_KINDS])
        for source in self.sources:
            await source.start()

    async def stop(self) -> None:
        for source in reversed(self.sources):
            await source.stop()

    def fire_schedule(self, function: str) -> str:
        """Deliver `function`'s Scheduled Event now; the accepted request id."""
        for source in self.sources:
            if isinstance(source, ScheduleSource):
                return source.fire_now(function)
        raise UnsupportedEventSourceError("no schedule handlers are running")

    def schedules(self) -> list[tuple[str, str, datetime | None]]:
        """(function, expression, next fire) of every schedule handler."""
        return [
            fire
            for source in self.sources
            if isinstance(source, ScheduleSource)
            for fire in source.upcoming()
        ]


def create_event_sources(
    functions: Iterable[FunctionEntry],
    queue: AsyncEventQueue,
    account: Account,
    engines: Engines = Engines(),
    *,
    invoke: Invoke | None = None,
    concurrency: Concurrency | None = None,
    batch_report: Callable[[BatchOutcome], None] | None = None,
    stream_report: Callable[[StreamBatchOutcome], None] | None = None,
    state_dir: Path | None = None,
    scheduler_factory: SchedulerFactory = Scheduler,
) -> EventSources:
    """One adapter per kind of handler in `functions`, each fed by its engine.

    Raises `UnsupportedEventSourceError` for a handler kind the local cloud cannot
    feed or whose service is not running (SQS, stream and Kinesis handlers also need
    `invoke`).

    >>> sources = create_event_sources(functions, queue, Account("app", "dev"), Engines(s3=s3))
    >>> await sources.start(); ...; await sources.stop()
    """
    functions = list(functions)
    check_supported(functions, SUPPORTED_KINDS)
    polled = {"sqs", "dynamodb", "kinesis"}
    running = engines.running() if invoke is not None else engines.running() - polled
    check_services(functions, running)
    sources: list[EventSource] = [
        ScheduleSource(
            handlers(functions, "schedule"),
            queue,
            account,
            state_path=state_dir / "schedules.sqlite3" if state_dir else None,
            scheduler_factory=scheduler_factory,
        )
    ]
    if engines.event_bus is not None:
        from lambic.runtime.event_sources.eventbridge import EventBridgeRules

        sources.append(
            EventBridgeRules(handlers(functions, "cloudwatch"), engines.event_bus, queue, account)
        )
    # S3 and SNS adapters run even without handlers: they remove this app's rules and
    # subscriptions that app.py no longer declares.
    if engines.s3 is not None:
        from lambic.runtime.event_sources.s3 import S3Notifications

        sources.append(S3Notifications(handlers(functions, "s3"), engines.s3, queue, account))
    if engines.sns is not None:
        from lambic.runtime.event_sources.sns import SnsSubscriptions

        sources.append(SnsSubscriptions(handlers(functions, "sns"), engines.sns, queue, account))
    if engines.sqs is not None and invoke is not None:
        from lambic.runtime.event_sources.sqs import SqsMappings

        sources.append(
            SqsMappings(
                handlers(functions, "sqs"),
                engines.sqs,
                invoke,
                account,
                concurrency=concurrency or _no_reservation,
                report=batch_report,
            )
        )
    if engines.dynamodb is not None and invoke is not None:
        from lambic.runtime.event_sources.streams import DynamoDBStreams

        sources.append(
            DynamoDBStreams(
                handlers(functions, "dynamodb"),
                engines.dynamodb,
                invoke,
                checkpoints_path=state_dir / "stream_checkpoints.sqlite3" if state_dir else None,
                report=stream_report,
            )
        )
    if engines.kinesis is not None and invoke is not None:
        from lambic.runtime.event_sources.kinesis import KinesisStreams

        sources.append(
            KinesisStreams(
                handlers(functions, "kinesis"),
                engines.kinesis,
                invoke,
                checkpoints_path=state_dir / "stream_checkpoints.sqlite3" if state_dir else None,
                report=stream_report,
            )
        )
    return EventSources(functions, queue, sources)


def _no_reservation(function: str) -> int | None:
    return None
