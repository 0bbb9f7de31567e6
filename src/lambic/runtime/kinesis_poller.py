"""Kinesis Data Streams → Lambda: an event source mapping over a local stream's shards.

Data flow: a committed PutRecord(s) calls the Kinesis engine's listeners with the
stream's name; the listener wakes this mapping's shard loops (`ShardMapping`, shared
with DynamoDB Streams: the same checkpoints, batch size, batching window, retries and
partial-batch answers). Each shard is read through the Kinesis API in-process
(GetShardIterator AFTER_SEQUENCE_NUMBER the checkpoint, GetRecords) and delivered as
Lambda's Kinesis event (`lambic.app.event_payloads.create_kinesis_record`).

Shards: the mapping reads every shard of the stream at once, except that a shard made
by a split or merge is read only after its parents have been read to their end (their
checkpoints are `SHARD_END`), so records of one partition key arrive in order across a
resharding, as Lambda delivers them. On the first start the shards then open begin at
`starting_position`; a shard that appears later is read from its start. The stream is
named by name or ARN; a declared stream (`resources.kinesis_streams`) exists by the
time the mapping is made; an undeclared one missing locally is created with one shard
(on AWS it must exist already, as `lambic local` warns at start).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from lambic.app.event_payloads import create_kinesis_record
from lambic.runtime._tasks import cancel_and_wait
from lambic.runtime.stream_poller import (
    SHARD_END,
    ShardMapping,
    StreamSourceError,
)

if TYPE_CHECKING:
    from lambic.services.kinesis import KinesisEngine

log = logging.getLogger(__name__)

#: How often the shard list is read again for children of a resharding (a safety net:
#: a shard loop that ends re-reads it at once).
_SHARDS_POLL_SECONDS = 1.0


def stream_name_of(stream: str) -> str:
    """`arn:aws:kinesis:r:a:stream/clicks` → `clicks`; a name is itself."""
    if not stream.startswith("arn:"):
        return stream
    marker = ":stream/"
    if marker not in stream or ":kinesis:" not in stream:
        raise StreamSourceError(
            f"{stream!r} is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)"
        )
    return stream.split(marker, 1)[1]


class KinesisStreamMapping(ShardMapping["KinesisEngine"]):
    """Feeds one Kinesis stream's shards to one function until `stop()`."""

    engine: KinesisEngine

    def _bind(self, stream: str) -> None:
        self.stream = stream_name_of(stream)
        self.source = f"kinesis:{self.stream}"
        self.created = False
        self.stream_arn, self._created_at = self._resolve_stream()
        self._shard_tasks: dict[str, asyncio.Task[None]] = {}

    def _resolve_stream(self) -> tuple[str, float]:
        """The stream's ARN and creation time, creating it (one shard) if missing."""
        with self.engine.lock:
            try:
                summary = self._describe()
            except Exception:
                self.engine.create_stream({"StreamName": self.stream, "ShardCount": 1})
                self.created = True
                summary = self._describe()
        return str(summary["StreamARN"]), float(summary["StreamCreationTimestamp"])

    def _describe(self) -> dict[str, Any]:
        described = self.engine.describe_stream_summary({"StreamName": self.stream})
        summary: dict[str, Any] = described["StreamDescriptionSummary"]
        return summary

    def _key(self, shard: str) -> str:
        # The creation time tells a re-created stream's shards from the old ones'.
        return f"{self.stream_arn}@{self._created_at}/{shard}"

    def _shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamName": self.stream}
        with self.engine.lock:
            while True:
                page = self.engine.list_shards(request)
                shards += page["Shards"]
                if "NextToken" not in page:
                    return shards
                request = {"NextToken": page["NextToken"]}

    def start(self) -> None:
        for shard in self._shards():
            key = self._key(shard["ShardId"])
            if self._checkpoints.get(self.function, key) is None:
                self._checkpoints.set(
                    self.function,
                    key,
                    self._initial_checkpoint(shard["ShardId"], self.starting_position),
                )
        self.engine.add_listener(self._on_put)
        super().start()

    async def stop(self) -> None:
        self.engine.remove_listener(self._on_put)
        await super().stop()
        await cancel_and_wait(list(self._shard_tasks.values()))
        self._shard_tasks.clear()

    def _on_put(self, stream: str) -> None:
        # Called on the services' thread after the put committed.
        if stream == self.stream:
            self.wake()

    async def _run(self) -> None:
        """Start a loop for each shard whose parents are done; look again when one ends."""
        changed = asyncio.Event()
        while True:
            try:
                shards = self._shards()
            except Exception:  # the stream was deleted: nothing to read until it is back
                shards = []
            done = {
                s["ShardId"]
                for s in shards
                if self._checkpoints.get(self.function, self._key(s["ShardId"])) == SHARD_END
            }
            for shard in shards:
                name = shard["ShardId"]
                parents = {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")} - {None}
                known = {s["ShardId"] for s in shards}
                # A parent aged out of the stream (not listed) no longer holds anything.
                waiting = any(p in known and p not in done for p in parents)
                if name in done or name in self._shard_tasks or waiting:
                    continue
                task = asyncio.get_running_loop().create_task(
                    self._consume_shard(name), name=f"lambic-kinesis-{name}"
                )
                task.add_done_callback(functools.partial(self._ended, name, changed))
                self._shard_tasks[name] = task
            changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), _SHARDS_POLL_SECONDS)

    async def _consume_shard(self, name: str) -> None:
        try:
            await self._consume(name, self._key(name))
        except Exception as exc:  # e.g. the stream deleted under the app: look again later
            log.warning("Kinesis mapping %s: reading %s failed: %s", self.function, name, exc)
            await asyncio.sleep(_SHARDS_POLL_SECONDS)

    def _ended(self, name: str, changed: asyncio.Event, _task: asyncio.Task[None]) -> None:
        self._shard_tasks.pop(name, None)
        changed.set()

    def _read(self, shard: str, after: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        from lambic.services.kinesis import records

        request: dict[str, Any] = {"StreamName": self.stream, "ShardId": shard}
        if after:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        else:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        iterator = records.get_shard_iterator(self.engine, request)["ShardIterator"]
        answer = records.get_records(self.engine, {"ShardIterator": iterator, "Limit": limit})
        found: list[dict[str, Any]] = answer["Records"]
        return found, "NextShardIterator" not in answer

    def _sequence(self, record: dict[str, Any]) -> str:
        return str(record["SequenceNumber"])

    def _event_records(self, shard: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        import base64

        return [
            create_kinesis_record(
                data=base64.b64decode(record["Data"]),
                stream_arn=self.stream_arn,
                partition_key=record["PartitionKey"],
                sequence_number=record["SequenceNumber"],
                arrival_time=datetime.fromtimestamp(
                    record["ApproximateArrivalTimestamp"], timezone.utc
                ),
                shard_id=shard,
            )
            for record in batch
        ]
