"""Stream → Lambda event source mappings: the shard reading loop every stream source shares.

`ShardMapping` is what DynamoDB Streams and Kinesis mappings have in common: a loop per
shard that reads the shard from its checkpoint, invokes the function synchronously with
up to `batch_size` records, and moves the checkpoint past the batch only when the
function succeeded. Checkpoints are kept in the state directory (`Checkpoints`), so a
restart resumes where it stopped: delivery is at least once. The engine's listener
wakes the loops after each committed write. A subclass says how a shard is read
(`_read`), what a record's sequence number is, and how records look in the event.

`DynamoDBStreamMapping` (here): a table's stream, one shard that never ends. The
DynamoDB engine appends a record to the table's durable stream log in the same
transaction as each change. `kinesis_poller.KinesisStreamMapping`: a Kinesis stream's
shards, children read after their parents end.

As on AWS (MaximumRetryAttempts -1, the default), a failing batch is retried, with
backoff, until it succeeds, and later records of the shard wait behind it. A
`{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]}` answer checkpoints up
to the first failed record, which is retried with everything after it.

The first start follows `starting_position`: TRIM_HORIZON reads the whole log, LATEST
only what is written from now on. The handler names its stream by ARN; locally the
table name in that ARN picks the table (stream labels differ from a deployed table's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from lambic.project.sqlite import open_database
from lambic.runtime._batches import (
    FAILED_STATUSES,
    Invoke,
    MappingSettings,
    batch_item_failures,
    report_safely,
)
from lambic.runtime._tasks import cancel_and_wait

if TYPE_CHECKING:
    from lambic.services.dynamodb import DynamoDBEngine

log = logging.getLogger(__name__)


class _Locked(Protocol):
    """An engine whose lock guards its streams' reads (each service engine has one)."""

    lock: Any


_Engine = TypeVar("_Engine", bound=_Locked)

_MAX_BACKOFF_SECONDS = 30.0
#: The checkpoint of a shard read to its end and fully delivered (a closed shard).
SHARD_END = "SHARD_END"
# A safety net only: the engine's listener wakes the mapping on every committed change.
_IDLE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class StreamBatchOutcome:
    """What one invocation did with one stream batch, for the one-line report;
    `source` names the stream as the report prints it (`dynamodb:orders`,
    `kinesis:clicks`)."""

    function: str
    source: str
    request_id: str
    status: str
    records: int
    duration_ms: float


class StreamSourceError(Exception):
    """The stream a handler names cannot be read locally."""


def table_from_stream_arn(arn: str) -> str:
    """`arn:aws:dynamodb:r:a:table/orders/stream/2024-...` → `orders`.

    A handler may name a declared table by its name instead (the stream ARN exists
    only once the table does): `orders` → `orders`.
    """
    marker = ":table/"
    if not arn.startswith("arn:"):
        return arn
    if marker not in arn:
        raise StreamSourceError(
            f"{arn!r} is not a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/"
            "NAME/stream/LABEL)"
        )
    return arn.split(marker, 1)[1].split("/", 1)[0]


class Checkpoints:
    """Where each mapping has read up to, per (function, shard), kept across restarts.

    A DynamoDB stream's one shard is keyed by its stream ARN (as before Kinesis); a
    Kinesis shard by `<stream ARN>@<creation time>/<shard id>`.
    """

    def __init__(self, path: Path | None) -> None:
        self._db = open_database(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS stream_checkpoints ("
            " function TEXT, stream_arn TEXT, sequence TEXT, PRIMARY KEY (function, stream_arn))"
        )

    def get(self, function: str, stream_arn: str) -> str | None:
        row = self._db.execute(
            "SELECT sequence FROM stream_checkpoints WHERE function = ? AND stream_arn = ?",
            (function, stream_arn),
        ).fetchone()
        return None if row is None else str(row[0])

    def set(self, function: str, stream_arn: str, sequence: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO stream_checkpoints (function, stream_arn, sequence)"
            " VALUES (?, ?, ?)",
            (function, stream_arn, sequence),
        )

    def close(self) -> None:
        self._db.close()


class ShardMapping(MappingSettings[_Engine, StreamBatchOutcome]):
    """Feeds a stream's shards to one function until `stop()` (see the module doc).

    Subclasses implement `_bind` (resolve the stream the handler names and set
    `source`, the report's name for it), `_read`, `_sequence` and `_event_records`;
    `start()` runs `_run()`, which for a one-shard stream is `_consume` of that shard.
    """

    source: str = ""

    def __init__(
        self,
        engine: _Engine,
        stream: str,
        function: str,
        invoke: Invoke,
        checkpoints: Checkpoints,
        *,
        batch_size: int = 100,
        batching_window: float = 0.0,
        starting_position: str = "LATEST",
        report: Callable[[StreamBatchOutcome], None] | None = None,
    ) -> None:
        super().__init__(engine, function, invoke, batch_size, batching_window, report)
        self._checkpoints = checkpoints
        self._lock = engine.lock
        self.starting_position = starting_position
        self._wakeups: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._bind(stream)

    # ---- what a stream source says ------------------------------------------------------

    def _bind(self, stream: str) -> None:
        """Resolve `stream` (as the handler names it) in the engine; set `source`."""
        raise NotImplementedError

    def _read(self, shard: str, after: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to `limit` records of `shard` after sequence `after` ("": from its start),
        and whether nothing can follow them (a closed shard read to its end)."""
        raise NotImplementedError

    def _sequence(self, record: dict[str, Any]) -> str:
        raise NotImplementedError

    def _event_records(self, shard: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch's records as Lambda delivers them."""
        raise NotImplementedError

    async def _run(self) -> None:
        raise NotImplementedError

    # ---- the shared loop ----------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name=f"lambic-stream-{self.function}")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None

    def wake(self) -> None:
        """Wake every shard loop (thread-safe: the engine calls it on the services' thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for event in self._wakeups:
            event.set()

    def _initial_checkpoint(self, shard: str, starting_position: str) -> str:
        """ "" (nothing read yet) for TRIM_HORIZON; the shard's newest sequence for LATEST."""
        last = ""
        if starting_position == "TRIM_HORIZON":
            return last
        with self._lock:
            records, _ = self._read(shard, last, 1000)
            while records:
                last = self._sequence(records[-1])
                records, _ = self._read(shard, last, 1000)
        return last

    async def _consume(self, shard: str, key: str) -> None:
        """Deliver `shard` from checkpoint `key` until it ends (then its checkpoint is
        SHARD_END) or the mapping stops."""
        wakeup = asyncio.Event()
        self._wakeups.add(wakeup)
        try:
            await self._consume_with(shard, key, wakeup)
        finally:
            self._wakeups.discard(wakeup)

    async def _consume_with(self, shard: str, key: str, wakeup: asyncio.Event) -> None:
        backoff = 0.0
        limit = min(1000, self.batch_size)
        while True:
            checkpoint = self._checkpoints.get(self.function, key) or ""
            if checkpoint == SHARD_END:
                return
            with self._lock:
                batch, ended = self._read(shard, checkpoint, limit)
            if batch and self.batching_window > 0 and len(batch) < self.batch_size:
                await asyncio.sleep(self.batching_window)
                with self._lock:
                    batch, ended = self._read(shard, checkpoint, limit)
            if not batch:
                if ended:
                    self._checkpoints.set(self.function, key, SHARD_END)
                    return
                wakeup.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), _IDLE_POLL_SECONDS)
                continue
            done_through = await self._deliver(shard, batch)
            if done_through is not None:
                self._checkpoints.set(self.function, key, done_through)
            if done_through == self._sequence(batch[-1]):
                backoff = 0.0
            else:
                backoff = min(_MAX_BACKOFF_SECONDS, max(0.5, backoff * 2))
                await asyncio.sleep(backoff)

    async def _deliver(self, shard: str, batch: list[dict[str, Any]]) -> str | None:
        """Invoke with `batch`; the sequence number handled through, or None for none."""
        records = self._event_records(shard, batch)
        payload = json.dumps({"Records": records}, separators=(",", ":")).encode()
        started = time.perf_counter()
        result = await self._invoke(self.function, payload)
        elapsed_ms = (time.perf_counter() - started) * 1000
        report_safely(
            self._report,
            StreamBatchOutcome(
                self.function, self.source, result.request_id, result.status, len(batch), elapsed_ms
            ),
        )
        if result.status in FAILED_STATUSES:
            return None
        sequences = [self._sequence(record) for record in batch]
        failed = batch_item_failures(result.payload, set(sequences))
        if failed is None:
            return None
        if not failed:
            return sequences[-1]
        first_failed = min(sequences.index(s) for s in failed)
        return sequences[first_failed - 1] if first_failed > 0 else None


class DynamoDBStreamMapping(ShardMapping["DynamoDBEngine"]):
    """Feeds one table's stream (one shard, never ending) to one function until `stop()`."""

    engine: DynamoDBEngine

    def _bind(self, stream_arn: str) -> None:
        self.table = table_from_stream_arn(stream_arn)
        self.source = f"dynamodb:{self.table}"
        self.local_stream_arn = self._resolve_stream()

    def _resolve_stream(self) -> str:
        with self.engine.lock:
            try:
                table = self.engine.describe_table({"TableName": self.table})["Table"]
            except Exception as exc:
                raise StreamSourceError(
                    f"@app.on_dynamodb_record reads table {self.table!r}, which does not exist "
                    "locally; declare it under resources.dynamodb_tables in .lambic/config.json "
                    "with a StreamSpecification"
                ) from exc
        arn = table.get("LatestStreamArn")
        if not arn or not table.get("StreamSpecification", {}).get("StreamEnabled", True):
            raise StreamSourceError(
                f"Table {self.table!r} has no stream; give it StreamSpecification "
                '{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}'
            )
        return str(arn)

    def start(self) -> None:
        key = self.local_stream_arn
        if self._checkpoints.get(self.function, key) is None:
            self._checkpoints.set(
                self.function, key, self._initial_checkpoint(key, self.starting_position)
            )
        self.engine.add_listener(self._on_record)
        super().start()

    async def stop(self) -> None:
        self.engine.remove_listener(self._on_record)
        await super().stop()

    async def _run(self) -> None:
        await self._consume(self.local_stream_arn, self.local_stream_arn)

    def _on_record(self, record: dict[str, Any]) -> None:
        # Called on the services' thread after commit.
        if record.get("eventSourceARN") == self.local_stream_arn:
            self.wake()

    def _sequence(self, record: dict[str, Any]) -> str:
        return str(record["dynamodb"]["SequenceNumber"])

    def _event_records(self, shard: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for record in batch:
            record["eventSourceARN"] = self.local_stream_arn
        return batch

    def _read(self, shard: str, after: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        streams = self.engine.streams
        shard_id = streams.describe_stream({"StreamArn": self.local_stream_arn})[
            "StreamDescription"
        ]["Shards"][0]["ShardId"]
        request: dict[str, Any] = {"StreamArn": self.local_stream_arn, "ShardId": shard_id}
        if after:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        else:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        iterator = streams.get_shard_iterator(request)["ShardIterator"]
        records: list[dict[str, Any]] = streams.get_records(
            {"ShardIterator": iterator, "Limit": limit}
        )["Records"]
        # A table's stream is read as one shard that never ends (disabling the stream
        # stops the mapping with the app, not here).
        return records, False
