"""`@app.on_kinesis_record` handlers: one Kinesis mapping per handler over local streams.

Data flow: on start, each handler's `KinesisStreamMapping` (`kinesis_poller`) resolves
the stream it names (creating a missing one, as the SQS adapter creates a queue) and
reads its shards from their checkpoints, kept in `<state>/stream_checkpoints.sqlite3`
beside the DynamoDB stream mappings' (one database, opened on start, closed on stop).
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
from lambic.runtime.kinesis_poller import KinesisStreamMapping
from lambic.runtime.stream_poller import Checkpoints, StreamBatchOutcome, StreamSourceError

if TYPE_CHECKING:
    from lambic.services.kinesis import KinesisEngine


class KinesisStreams(PollingSource["KinesisEngine", StreamBatchOutcome]):
    """Feeds each `@app.on_kinesis_record` handler its stream until `stop()`."""

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        engine: KinesisEngine,
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
                mapping = KinesisStreamMapping(
                    self._engine,
                    str(source["stream"]),
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
