"""`@app.on_dynamodb_record` handlers: one stream mapping per handler over local tables.

Data flow: on start, each handler's `DynamoDBStreamMapping` (`stream_poller`) resolves
the table its stream ARN names and starts reading from its checkpoint, kept in
`<state>/stream_checkpoints.sqlite3` (one database for all handlers, opened on start
and closed on stop); the engine's listener wakes a mapping after each committed
change, and the mapping invokes the function synchronously with each batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from lambic.project.manifest import FunctionEntry
from lambic.runtime._batches import Invoke
from lambic.runtime.event_sources.base import (
    PollingSource,
    UnsupportedEventSourceError,
    settings,
)
from lambic.runtime.stream_poller import (
    Checkpoints,
    DynamoDBStreamMapping,
    StreamBatchOutcome,
    StreamSourceError,
)

if TYPE_CHECKING:
    from lambic.services.dynamodb import DynamoDBEngine


class DynamoDBStreams(PollingSource["DynamoDBEngine", StreamBatchOutcome]):
    """Feeds each `@app.on_dynamodb_record` handler its table's stream until `stop()`."""

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        engine: DynamoDBEngine,
        invoke: Invoke,
        *,
        checkpoints_path: Path | None = None,
        report: Callable[[StreamBatchOutcome], None] | None = None,
    ) -> None:
        super().__init__(functions, engine, invoke, report)
        self._checkpoints_path = checkpoints_path
        self._checkpoints: Checkpoints | None = None

    async def start(self) -> None:
        if not self._functions:
            return
        self._checkpoints = Checkpoints(self._checkpoints_path)
        for function in self._functions:
            source = settings(function)
            try:
                mapping = DynamoDBStreamMapping(
                    self._engine,
                    str(source["stream_arn"]),
                    function.name,
                    self._invoke,
                    self._checkpoints,
                    batch_size=int(source.get("batch_size") or 100),
                    batching_window=float(source.get("maximum_batching_window_in_seconds") or 0),
                    starting_position=str(source.get("starting_position") or "LATEST"),
                    report=self._report,
                )
            except StreamSourceError as exc:
                raise UnsupportedEventSourceError(f"{function.handler}: {exc}") from exc
            self._run(mapping)

    async def stop(self) -> None:
        await super().stop()
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None
