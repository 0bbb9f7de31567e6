"""SQS → Lambda: an event source mapping that polls a local queue and invokes in batches.

Data flow for one poller: long-poll the queue (in process, through the SQS engine)
→ gather up to `batch_size` messages within `maximum_batching_window_in_seconds`
→ build Lambda's SQS event → invoke synchronously → then, as AWS does:

- success: delete the whole batch;
- success with `{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}`: delete
  all but the failed messages (an identifier that is empty or not in the batch makes
  the whole batch count as failed, as AWS does);
- function error, timeout, crash or throttle: delete nothing. The messages become
  visible again when the queue's visibility timeout ends, and the queue's redrive
  policy moves one to its dead-letter queue after `maxReceiveCount` receives.

A message is deleted only after the handler succeeded for it, so none is ever lost.
Concurrency scales with queue depth: `pollers` tasks long-poll at once, and each one
that receives a batch makes one invocation, so a deep queue keeps them all busy while
a shallow one leaves most of them waiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambic.app.event_payloads import create_sqs_event, create_sqs_record
from lambic.project.account import LOCAL_REGION
from lambic.runtime._batches import (
    FAILED_STATUSES,
    Invoke,
    MappingSettings,
    SyncResult,
    batch_item_failures,
    report_safely,
)
from lambic.runtime._tasks import cancel_and_wait

if TYPE_CHECKING:
    from lambic.services.sqs import ReceivedMessage, SqsEngine

log = logging.getLogger(__name__)

# Lambda's event source mapping starts five pollers for a standard queue.
DEFAULT_POLLERS = 5
_LONG_POLL_SECONDS = 20
_BACKOFF_SECONDS = 1.0


@dataclass(frozen=True)
class BatchOutcome:
    """What one invocation did with its batch, for the one-line report."""

    function: str
    queue: str
    request_id: str
    status: str
    received: int
    deleted: int
    duration_ms: float


class SqsEventSourceMapping(MappingSettings["SqsEngine", BatchOutcome]):
    """Polls one queue for one function until `stop()`."""

    def __init__(
        self,
        engine: SqsEngine,
        queue_name: str,
        function: str,
        invoke: Invoke,
        *,
        batch_size: int = 10,
        batching_window: float = 0.0,
        pollers: int = DEFAULT_POLLERS,
        region: str = LOCAL_REGION,
        report: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        super().__init__(engine, function, invoke, batch_size, batching_window, report)
        self.queue_name = queue_name
        self.pollers = max(1, pollers)
        self.region = region
        self._tasks: list[asyncio.Task[None]] = []
        self._handling: set[asyncio.Future[None]] = set()
        self._stopping = False

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for index in range(self.pollers):
            self._tasks.append(
                loop.create_task(self._poll(), name=f"lambic-sqs-{self.function}-{index}")
            )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop polling; a batch being handled gets `grace` seconds to finish (and
        delete its messages) before the engine may close. One that takes longer is
        left undeleted: its messages come back after the visibility timeout."""
        self._stopping = True
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self._handling:
            await asyncio.wait(set(self._handling), timeout=grace)

    async def _poll(self) -> None:
        while not self._stopping:
            try:
                batch = await self._gather()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The queue was deleted or the engine closed: say so, wait, try again.
                log.exception("Polling %s for %s failed", self.queue_name, self.function)
                await asyncio.sleep(_BACKOFF_SECONDS)
                continue
            if batch:
                # Shield the invocation and its deletes from cancellation, so stopping
                # never leaves a handled message undeleted (it would run again).
                handling = asyncio.ensure_future(self._handle(batch))
                self._handling.add(handling)
                handling.add_done_callback(self._handling.discard)
                await asyncio.shield(handling)

    async def _gather(self) -> list[ReceivedMessage]:
        """One batch: the first receive long-polls; more are gathered within the window."""
        first = await self.engine.receive_messages(
            self.queue_name,
            max_messages=min(10, self.batch_size),
            wait_seconds=_LONG_POLL_SECONDS,
        )
        batch = list(first)
        if not batch or self.batching_window <= 0:
            return batch
        deadline = time.monotonic() + self.batching_window
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = await self.engine.receive_messages(
                self.queue_name,
                max_messages=min(10, self.batch_size - len(batch)),
                wait_seconds=max(1, min(20, int(remaining + 0.999))),
            )
            if not more and time.monotonic() >= deadline:
                break
            batch.extend(more)
        return batch

    async def _handle(self, batch: list[ReceivedMessage]) -> None:
        queue_arn = self.engine.queue_arn(self.queue_name)
        records = [self._record(message, queue_arn) for message in batch]
        payload = json.dumps(create_sqs_event(records), separators=(",", ":")).encode()
        started = time.perf_counter()
        result = await self._invoke(self.function, payload)
        elapsed = (time.perf_counter() - started) * 1000
        handled = self._succeeded(result, batch)
        for message in handled:
            self.engine.delete_message(self.queue_name, message.receipt_handle)
        report_safely(
            self._report,
            BatchOutcome(
                self.function,
                self.queue_name,
                result.request_id,
                result.status,
                len(batch),
                len(handled),
                elapsed,
            ),
        )
        if result.status == "throttled":
            await asyncio.sleep(_BACKOFF_SECONDS)

    def _succeeded(self, result: SyncResult, batch: list[ReceivedMessage]) -> list[ReceivedMessage]:
        if result.status in FAILED_STATUSES:
            return []
        failed = batch_item_failures(result.payload, {m.message_id for m in batch})
        if failed is None:  # a malformed report fails the whole batch, as on AWS
            return []
        return [message for message in batch if message.message_id not in failed]

    def _record(self, message: ReceivedMessage, queue_arn: str) -> dict[str, Any]:
        system = dict(message.system_attributes)
        sender = system.pop("SenderId", None)
        return create_sqs_record(
            body=message.body,
            queue_arn=queue_arn,
            message_id=message.message_id,
            receipt_handle=message.receipt_handle,
            sent_timestamp_ms=_int(system.pop("SentTimestamp", None)),
            first_receive_timestamp_ms=_int(system.pop("ApproximateFirstReceiveTimestamp", None)),
            receive_count=_int(system.pop("ApproximateReceiveCount", None)) or 1,
            **({"sender_id": str(sender)} if sender else {}),
            message_attributes={
                name: value.to_json() for name, value in message.message_attributes.items()
            },
            extra_attributes={k: str(v) for k, v in system.items()},
        )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
