"""`@app.on_sqs_message` handlers: one event source mapping per handler, polling SQS.

Data flow: on start, each handler's queue is created if missing and an
`SqsEventSourceMapping` starts its pollers (`sqs_poller`); they long-poll the engine in
process, invoke the function synchronously with each batch and delete what it handled.
A handler with reserved concurrency gets no more pollers than its reservation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lambic.project.manifest import FunctionEntry
from lambic.runtime._batches import Invoke
from lambic.runtime.event_sources.base import (
    Account,
    PollingSource,
    UnsupportedEventSourceError,
    settings,
)
from lambic.runtime.sqs_poller import (
    DEFAULT_POLLERS,
    BatchOutcome,
    SqsEventSourceMapping,
)
from lambic.services.sqs import SqsError

if TYPE_CHECKING:
    from lambic.services.sqs import SqsEngine

#: A function's reserved concurrency, or None when it has none.
Concurrency = Callable[[str], "int | None"]


def _no_reservation(function: str) -> int | None:
    return None


class SqsMappings(PollingSource["SqsEngine", BatchOutcome]):
    """Polls each `@app.on_sqs_message` handler's queue until `stop()`."""

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        engine: SqsEngine,
        invoke: Invoke,
        account: Account,
        *,
        concurrency: Concurrency = _no_reservation,
        report: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        super().__init__(functions, engine, invoke, report)
        self._account = account
        self._concurrency = concurrency

    async def start(self) -> None:
        for function in self._functions:
            source = settings(function)
            queue = queue_name(source)
            self._ensure_queue(queue)
            limit = self._concurrency(function.name)
            mapping = SqsEventSourceMapping(
                self._engine,
                queue,
                function.name,
                self._invoke,
                batch_size=int(source.get("batch_size") or 1),
                batching_window=float(source.get("maximum_batching_window_in_seconds") or 0),
                pollers=min(limit, DEFAULT_POLLERS) if limit else DEFAULT_POLLERS,
                region=self._account.region,
                report=self._report,
            )
            self._run(mapping)

    def _ensure_queue(self, queue: str) -> None:
        try:
            self._engine.get_queue(queue)
        except SqsError:
            # The handler names its queue in code; locally we create it if missing (on
            # AWS the deploy would fail instead), so the app runs with no setup.
            try:
                self._engine.create_queue(queue)
            except SqsError as exc:
                raise UnsupportedEventSourceError(
                    f"@app.on_sqs_message names queue {queue!r}, which SQS refuses: {exc}"
                ) from exc


def queue_name(source: Mapping[str, Any]) -> str:
    """The queue an `@app.on_sqs_message` handler names, by name or by ARN."""
    if source.get("queue"):
        return str(source["queue"])
    return str(source["queue_arn"]).rsplit(":", 1)[-1]
