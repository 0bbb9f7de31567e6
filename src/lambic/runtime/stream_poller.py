"""DynamoDB Streams → Lambda: an event source mapping over a table's local stream.

Data flow: the DynamoDB engine appends a record to the table's durable stream log in
the same transaction as each change and calls its listeners; the listener wakes this
mapping, which reads the log from its checkpoint through the Streams API, invokes the
function synchronously with up to `batch_size` records, and moves the checkpoint past
the batch only when the function succeeded. The checkpoint is kept in the state
directory, so a restart resumes where it stopped: delivery is at least once.

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
from typing import TYPE_CHECKING, Any

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

_MAX_BACKOFF_SECONDS = 30.0
# A safety net only: the engine's listener wakes the mapping on every committed change.
_IDLE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class StreamBatchOutcome:
    """What one invocation did with one stream batch, for the one-line report."""

    function: str
    table: str
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
    """Where each mapping has read up to, per (function, table), kept across restarts."""

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


class DynamoDBStreamMapping(MappingSettings["DynamoDBEngine", StreamBatchOutcome]):
    """Feeds one table's stream to one function until `stop()`."""

    def __init__(
        self,
        engine: DynamoDBEngine,
        stream_arn: str,
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
        self.table = table_from_stream_arn(stream_arn)
        self._checkpoints = checkpoints
        self.starting_position = starting_position
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
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
        self._loop = asyncio.get_running_loop()
        if self._checkpoints.get(self.function, self.local_stream_arn) is None:
            self._checkpoints.set(self.function, self.local_stream_arn, self._initial_position())
        self.engine.add_listener(self._on_record)
        self._task = self._loop.create_task(self._run(), name=f"lambic-stream-{self.function}")

    async def stop(self) -> None:
        self.engine.remove_listener(self._on_record)
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None

    def _on_record(self, record: dict[str, Any]) -> None:
        # Called on the services' thread after commit: hop to our loop to wake up.
        if record.get("eventSourceARN") == self.local_stream_arn and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def _initial_position(self) -> str:
        """A checkpoint meaning "nothing read yet" (TRIM_HORIZON) or "read to the end"."""
        last = ""
        if self.starting_position == "TRIM_HORIZON":
            return last
        with self.engine.lock:
            records = self._read_after(last)
            while records:
                last = records[-1]["dynamodb"]["SequenceNumber"]
                records = self._read_after(last)
        return last

    def _read_after(self, sequence: str, limit: int = 1000) -> list[dict[str, Any]]:
        streams = self.engine.streams
        shard = streams.describe_stream({"StreamArn": self.local_stream_arn})["StreamDescription"][
            "Shards"
        ][0]["ShardId"]
        request: dict[str, Any] = {"StreamArn": self.local_stream_arn, "ShardId": shard}
        if sequence:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=sequence)
        else:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        iterator = streams.get_shard_iterator(request)["ShardIterator"]
        records: list[dict[str, Any]] = streams.get_records(
            {"ShardIterator": iterator, "Limit": limit}
        )["Records"]
        return records

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            checkpoint = self._checkpoints.get(self.function, self.local_stream_arn) or ""
            with self.engine.lock:
                batch = self._read_after(checkpoint, min(1000, self.batch_size))
            if batch and self.batching_window > 0 and len(batch) < self.batch_size:
                await asyncio.sleep(self.batching_window)
                with self.engine.lock:
                    batch = self._read_after(checkpoint, min(1000, self.batch_size))
            if not batch:
                self._wakeup.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), _IDLE_POLL_SECONDS)
                continue
            done_through = await self._deliver(batch)
            if done_through is not None:
                self._checkpoints.set(self.function, self.local_stream_arn, done_through)
            if done_through == batch[-1]["dynamodb"]["SequenceNumber"]:
                backoff = 0.0
            else:
                backoff = min(_MAX_BACKOFF_SECONDS, max(0.5, backoff * 2))
                await asyncio.sleep(backoff)

    async def _deliver(self, batch: list[dict[str, Any]]) -> str | None:
        """Invoke with `batch`; the sequence number handled through, or None for none."""
        for record in batch:
            record["eventSourceARN"] = self.local_stream_arn
        payload = json.dumps({"Records": batch}, separators=(",", ":")).encode()
        started = time.perf_counter()
        result = await self._invoke(self.function, payload)
        elapsed_ms = (time.perf_counter() - started) * 1000
        report_safely(
            self._report,
            StreamBatchOutcome(
                self.function, self.table, result.request_id, result.status, len(batch), elapsed_ms
            ),
        )
        if result.status in FAILED_STATUSES:
            return None
        sequences = [str(record["dynamodb"]["SequenceNumber"]) for record in batch]
        failed = batch_item_failures(result.payload, set(sequences))
        if failed is None:
            return None
        if not failed:
            return sequences[-1]
        first_failed = min(sequences.index(s) for s in failed)
        return sequences[first_failed - 1] if first_failed > 0 else None
