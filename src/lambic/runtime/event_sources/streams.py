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
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

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
    ShardMapping,
    StreamBatchOutcome,
    StreamSourceError,
)

if TYPE_CHECKING:
    from lambic.services.dynamodb import DynamoDBEngine  # noqa: F401 (the base's quoted type)

_Engine = TypeVar("_Engine")


class ShardSources(PollingSource[_Engine, StreamBatchOutcome]):
    """What every stream source does (DynamoDB Streams here, Kinesis in `kinesis`): one
    `ShardMapping` per handler, all sharing one checkpoints database opened on start
    and closed on stop. A subclass names the setting that names its stream and the
    mapping that reads it."""

    #: The handler's event-source setting naming its stream.
    stream_setting: ClassVar[str]
    #: The mapping class, called as (engine, stream, function, invoke, checkpoints, **options).
    mapping: ClassVar[Callable[..., ShardMapping[Any]]]

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        engine: _Engine,
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
                mapping = type(self).mapping(
                    self._engine,
                    str(source[self.stream_setting]),
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


class DynamoDBStreams(ShardSources["DynamoDBEngine"]):
    """Feeds each `@app.on_dynamodb_record` handler its table's stream until `stop()`."""

    stream_setting = "stream_arn"
    mapping = DynamoDBStreamMapping
