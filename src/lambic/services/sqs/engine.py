"""SQS's semantics: queues, visibility, long polling, dead-letter redrive, FIFO groups.

The engine knows nothing of HTTP: the protocol layer turns requests into calls here,
and other parts of Lambic call it directly, in process (SNS delivers to queues
through `send_message`; the runtime's SQS event-source mapping long-polls with
`await receive_messages(...)` and deletes with `delete_message`).

Every change is committed to SQLite before the call returns, so an acknowledged send
survives `kill -9`; visibility deadlines are stored as absolute times and survive a
restart too. One lock serialises database access, so the engine may be used from
several threads; long polling waits on an `asyncio.Event` of the caller's own loop,
which a send sets through `call_soon_threadsafe`, so a waiting receive never blocks
its event loop and wakes as soon as a message arrives.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services.sqs import _validation as check
from lambic.services.sqs._checksums import md5_hex, md5_of_attributes
from lambic.services.sqs._queues import QueueAdministration
from lambic.services.sqs.errors import (
    invalid_parameter,
    invalid_parameter_value,
    message_not_inflight,
    missing_parameter,
    receipt_handle_invalid,
)
from lambic.services.sqs.model import (
    AttributeValue,
    Queue,
    ReceivedMessage,
    SendResult,
    dump_attributes,
    load_attributes,
)
from lambic.services.sqs.store import SqsStore, StoredMessage

DEFAULT_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU"
DEDUP_WINDOW_MS = 5 * 60 * 1000  # AWS deduplicates FIFO sends for five minutes.
_EXPIRY_SWEEP_MS = 1000
_MAX_VISIBILITY_MS = 43200 * 1000
_WRONG_QUEUE_TYPE = "The request include parameter that is not valid for this queue type."

QueueListener = Callable[[str], None]
_log = logging.getLogger(__name__)


class SqsEngine(QueueAdministration):
    """The queues of one account and region, persisted in an `SqsStore`.

    >>> engine.create_queue("jobs")
    >>> engine.send_message("jobs", "hello")
    >>> messages = await engine.receive_messages("jobs", wait_seconds=20)
    >>> engine.delete_message("jobs", messages[0].receipt_handle)
    """

    def __init__(
        self,
        store: SqsStore,
        *,
        region: str = LOCAL_REGION,
        account: str = LOCAL_ACCOUNT_ID,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.region = region
        self.account = account
        self._store = store
        self._clock = clock
        self._lock = threading.RLock()
        self._queues = {queue.name: queue for queue in store.load_queues()}
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._listeners: list[QueueListener] = []
        self._last_sweep: dict[str, int] = {}
        self._move_tasks = {}
        # FIFO ReceiveRequestAttemptId -> (when, what that attempt received).
        self._attempts: dict[tuple[str, str], tuple[int, list[ReceivedMessage]]] = {}

    def close(self) -> None:
        with self._lock:
            self._store.close()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # Listeners and waiters ------------------------------------------------------------

    def add_listener(self, listener: QueueListener) -> None:
        """Call `listener(queue_name)` after each message is committed to a queue."""
        self._listeners.append(listener)

    def remove_listener(self, listener: QueueListener) -> None:
        self._listeners.remove(listener)

    def waiting_receives(self, name: str) -> int:
        """How many long polls are parked on this queue right now."""
        return len(self._waiters.get(name, ()))

    def _wake(self, name: str) -> None:
        """Make long polls on this queue look again (something may have become receivable)."""
        for loop, event in list(self._waiters.get(name, ())):
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def _notify(self, name: str) -> None:
        """A message arrived: wake long polls and tell the listeners."""
        self._wake(name)
        for listener in list(self._listeners):
            try:
                listener(name)
            except Exception:
                # The message is committed; a failing listener must not fail the send.
                _log.exception("SQS listener failed for queue %s", name)

    # Sending ------------------------------------------------------------------------

    def send_message(
        self,
        queue_name: str,
        body: str,
        *,
        delay_seconds: int | None = None,
        message_attributes: Mapping[str, AttributeValue] | None = None,
        system_attributes: Mapping[str, AttributeValue] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        sender_id: str = DEFAULT_SENDER_ID,
    ) -> SendResult:
        """Validate and durably enqueue one message; FIFO duplicates return the original."""
        attributes = dict(message_attributes or {})
        with self._lock:
            queue = self.get_queue(queue_name)
            self._check_send(queue, body, delay_seconds, attributes, group_id, deduplication_id)
            md5_body = md5_hex(body.encode())
            md5_attrs = md5_of_attributes(attributes)
            system = dict(system_attributes or {})
            check.check_system_attributes(system)
            md5_system = md5_of_attributes(system)
            now = self._now_ms()
            if queue.fifo:
                if deduplication_id is None:
                    deduplication_id = hashlib.sha256(body.encode()).hexdigest()
                key = _dedup_key(queue, group_id, deduplication_id)
                duplicate = self._store.find_duplicate(queue_name, key, now)
                if duplicate is not None:
                    return SendResult(duplicate[0], md5_body, md5_attrs, md5_system, duplicate[1])
            delay = queue.int_attribute("DelaySeconds") if delay_seconds is None else delay_seconds
            result = self._insert(
                queue, body, md5_body, attributes, md5_attrs, system, md5_system, now,
                delay, group_id, deduplication_id, sender_id,
            )  # fmt: skip
        self._notify(queue_name)
        return result

    def _check_send(
        self,
        queue: Queue,
        body: str,
        delay_seconds: int | None,
        attributes: Mapping[str, AttributeValue],
        group_id: str | None,
        deduplication_id: str | None,
    ) -> None:
        check.check_body(body)
        check.check_message_attributes(attributes)
        size = len(body.encode()) + sum(
            len(name.encode()) + value.size() for name, value in attributes.items()
        )
        limit = queue.int_attribute("MaximumMessageSize")
        if size > limit:
            raise invalid_parameter(
                f"One or more parameters are invalid. Reason: Message must be shorter than "
                f"{limit} bytes."
            )
        if delay_seconds is not None:
            check.check_range(
                "DelaySeconds", delay_seconds, 0, 900, "DelaySeconds must be >= 0 and <= 900."
            )
        if group_id is not None:
            check.check_group_or_dedup_id("MessageGroupId", group_id)
        if deduplication_id is not None:
            check.check_group_or_dedup_id("MessageDeduplicationId", deduplication_id)
        if not queue.fifo:
            if deduplication_id is not None:
                raise invalid_parameter_value(
                    "MessageDeduplicationId", deduplication_id, _WRONG_QUEUE_TYPE
                )
            return
        if group_id is None:
            raise missing_parameter("MessageGroupId")
        if delay_seconds:
            # FIFO queues take delays per queue only; AWS rejects a per-message one.
            raise invalid_parameter_value("DelaySeconds", delay_seconds, _WRONG_QUEUE_TYPE)
        if deduplication_id is None and not queue.content_based_deduplication:
            raise invalid_parameter(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )

    def _insert(
        self,
        queue: Queue,
        body: str,
        md5_body: str,
        attributes: Mapping[str, AttributeValue],
        md5_attrs: str | None,
        system: Mapping[str, AttributeValue],
        md5_system: str | None,
        now: int,
        delay: int,
        group_id: str | None,
        deduplication_id: str | None,
        sender_id: str,
    ) -> SendResult:
        message_id = str(uuid.uuid4())
        static: dict[str, str] = {"SenderId": sender_id, "SentTimestamp": str(now)}
        if group_id is not None:
            static["MessageGroupId"] = group_id
        trace = system.get("AWSTraceHeader")
        if trace is not None and trace.string_value:
            static["AWSTraceHeader"] = trace.string_value
        sequence: str | None = None
        retention = queue.int_attribute("MessageRetentionPeriod") * 1000
        insert = (
            queue.name, message_id, body, md5_body, dump_attributes(attributes), md5_attrs,
            static, now, now + delay * 1000, now + retention, group_id,
        )  # fmt: skip
        if not (queue.fifo and deduplication_id is not None):
            # One INSERT commits atomically by itself (autocommit): no BEGIN/COMMIT
            # round trips on the hot path of standard queues.
            self._store.insert_message(*insert)
            return SendResult(message_id, md5_body, md5_attrs, md5_system, None)
        with self._store.transaction():
            sequence = str(18_000_000_000_000_000_000 + self._store.next_sequence(queue.name))
            static["MessageDeduplicationId"] = deduplication_id
            static["SequenceNumber"] = sequence
            key = _dedup_key(queue, group_id, deduplication_id)
            self._store.record_dedup(queue.name, key, message_id, sequence, now + DEDUP_WINDOW_MS)
            self._store.insert_message(*insert)
        return SendResult(message_id, md5_body, md5_attrs, md5_system, sequence)

    # Receiving ----------------------------------------------------------------------

    async def receive_messages(
        self,
        queue_name: str,
        *,
        max_messages: int = 1,
        visibility_timeout: int | None = None,
        wait_seconds: int | None = None,
        attempt_id: str | None = None,
    ) -> list[ReceivedMessage]:
        """Receive up to `max_messages`, long-polling up to `wait_seconds` (queue default).

        `attempt_id` is FIFO's ReceiveRequestAttemptId: a retry with the same id within
        five minutes gets the same messages and receipt handles while they are still
        in flight under them, as on AWS.

        Returns as soon as any message is available: a send to this queue wakes the
        waiting call at once, and so does a delayed or in-flight message becoming
        visible.
        """
        check.check_range(
            "MaxNumberOfMessages", max_messages, 1, 10, "Must be between 1 and 10, if provided."
        )
        if visibility_timeout is not None:
            check.check_range(
                "VisibilityTimeout", visibility_timeout, 0, 43200,
                "Must be >= 0 and <= 43200, if provided.",
            )  # fmt: skip
        if wait_seconds is not None:
            check.check_range(
                "WaitTimeSeconds", wait_seconds, 0, 20, "Must be >= 0 and <= 20, if provided."
            )
        queue = self.get_queue(queue_name)
        if attempt_id is not None and queue.fifo:
            check.check_group_or_dedup_id("ReceiveRequestAttemptId", attempt_id)
            repeated = self._repeat_attempt(queue_name, attempt_id)
            if repeated is not None:
                return repeated
            messages = await self._receive_waiting(
                queue, max_messages, visibility_timeout, wait_seconds
            )
            self._remember_attempt(queue_name, attempt_id, messages)
            return messages
        return await self._receive_waiting(queue, max_messages, visibility_timeout, wait_seconds)

    def _repeat_attempt(self, queue_name: str, attempt_id: str) -> list[ReceivedMessage] | None:
        remembered = self._attempts.get((queue_name, attempt_id))
        if remembered is None:
            return None
        at, messages = remembered
        now = self._now_ms()
        if now - at > DEDUP_WINDOW_MS:
            return None
        with self._lock:
            for message in messages:
                row_id, _ = self._parse_receipt(queue_name, message.receipt_handle)
                stored = self._store.message_by_row(queue_name, row_id)
                if stored is None or stored.receipt != message.receipt_handle:
                    return None
                if stored.visible_at <= now:
                    return None
        return messages

    def _remember_attempt(
        self, queue_name: str, attempt_id: str, messages: list[ReceivedMessage]
    ) -> None:
        now = self._now_ms()
        stale = [k for k, (at, _) in self._attempts.items() if now - at > DEDUP_WINDOW_MS]
        for key in stale:
            del self._attempts[key]
        if messages:
            self._attempts[(queue_name, attempt_id)] = (now, messages)

    async def _receive_waiting(
        self,
        queue: Queue,
        max_messages: int,
        visibility_timeout: int | None,
        wait_seconds: int | None,
    ) -> list[ReceivedMessage]:
        queue_name = queue.name
        wait = queue.int_attribute("ReceiveMessageWaitTimeSeconds")
        wait = wait if wait_seconds is None else wait_seconds
        if wait <= 0:
            return self.receive_now(queue_name, max_messages, visibility_timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        event = asyncio.Event()
        waiter = (loop, event)
        waiters = self._waiters.setdefault(queue_name, set())
        waiters.add(waiter)
        try:
            while True:
                event.clear()
                messages = self.receive_now(queue_name, max_messages, visibility_timeout)
                remaining = deadline - loop.time()
                if messages or remaining <= 0:
                    return messages
                with self._lock:
                    upcoming = self._store.next_visible_at(queue_name, self._now_ms())
                if upcoming is not None:
                    remaining = min(remaining, max(0.0, upcoming / 1000 - self._clock()) + 0.001)
                # asyncio.TimeoutError is not the builtin one before Python 3.11.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            waiters.discard(waiter)

    def receive_now(
        self, queue_name: str, max_messages: int = 1, visibility_timeout: int | None = None
    ) -> list[ReceivedMessage]:
        """Receive what is visible right now, without waiting."""
        moved_to: set[str] = set()
        with self._lock:
            queue = self.get_queue(queue_name)
            now = self._now_ms()
            self._sweep(queue, now)
            timeout = queue.int_attribute("VisibilityTimeout")
            timeout = timeout if visibility_timeout is None else visibility_timeout
            redrive = queue.redrive()
            dead_letter = self.queue_by_arn(redrive[0]) if redrive else None
            received: list[ReceivedMessage] = []
            seen: set[int] = set()
            if not self._candidates(queue, now, 1):
                # Nothing to take: skip the write transaction (long polls look often).
                return received
            with self._store.transaction():
                while len(received) < max_messages:
                    # Only messages moved to a dead-letter queue make us look again.
                    want = max_messages - len(received) + len(seen)
                    batch = self._candidates(queue, now, want)
                    fresh = [stored for stored in batch if stored.row_id not in seen]
                    if not fresh:
                        break
                    moved = False
                    for stored in fresh:
                        if len(received) >= max_messages:
                            break
                        seen.add(stored.row_id)
                        if redrive and dead_letter and stored.receive_count >= redrive[1]:
                            # AWS moves the message on the receive that would exceed
                            # maxReceiveCount, instead of returning it.
                            self._move_to_dead_letter(stored, queue, dead_letter, now)
                            moved_to.add(dead_letter.name)
                            moved = True
                            continue
                        received.append(self._take(queue_name, stored, now, timeout))
                    if not moved:
                        break
        for name in moved_to:
            self._notify(name)
        return received

    def _candidates(self, queue: Queue, now: int, limit: int) -> list[StoredMessage]:
        if queue.fifo:
            return self._store.fifo_candidates(queue.name, now, limit)
        return self._store.visible_messages(queue.name, now, limit)

    def _take(self, queue: str, stored: StoredMessage, now: int, timeout: int) -> ReceivedMessage:
        token = secrets.token_urlsafe(24)
        # The handle carries its receive time: AWS caps a message's total visibility
        # timeout at 12 hours from the receive.
        raw = f"{queue}\x00{stored.row_id}\x00{token}\x00{now}"
        receipt = base64.b64encode(raw.encode()).decode()
        self._store.mark_received(stored.row_id, receipt, now + timeout * 1000, now)
        system = dict(stored.system_attributes)
        system["ApproximateReceiveCount"] = str(stored.receive_count + 1)
        first = stored.first_receive_at if stored.first_receive_at is not None else now
        system["ApproximateFirstReceiveTimestamp"] = str(first)
        return ReceivedMessage(
            stored.message_id,
            receipt,
            stored.body,
            stored.md5_body,
            load_attributes(stored.attributes),
            system,
        )

    def _move_to_dead_letter(
        self, stored: StoredMessage, source: Queue, target: Queue, now: int
    ) -> None:
        system = dict(stored.system_attributes)
        system["DeadLetterQueueSourceArn"] = source.arn
        # AWS keeps the original enqueue time: the DLQ's retention counts from the first send.
        expires = stored.sent_at + target.int_attribute("MessageRetentionPeriod") * 1000
        self._store.move_message(stored.row_id, target.name, now, system, expires)

    def _sweep(self, queue: Queue, now: int) -> None:
        # Retention expiry: an indexed delete at most once a second per queue, counted
        # from each message's (original) send time with the queue's current period.
        if now - self._last_sweep.get(queue.name, 0) >= _EXPIRY_SWEEP_MS:
            self._last_sweep[queue.name] = now
            retention = queue.int_attribute("MessageRetentionPeriod") * 1000
            self._store.expire(queue.name, now - retention)

    # Deleting and visibility --------------------------------------------------------

    def _parse_receipt(self, queue_name: str, receipt: str) -> tuple[int, int]:
        """(row id, receive time in ms) from a receipt handle this queue issued."""
        try:
            decoded = base64.b64decode(receipt, validate=True).decode()
            queue, row_id, _token, received = decoded.split("\x00")
            if queue != queue_name:
                raise ValueError(queue)
            return int(row_id), int(received)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise receipt_handle_invalid(receipt) from exc

    def delete_message(self, queue_name: str, receipt_handle: str) -> None:
        """Delete a received message; an already-deleted one succeeds, as on AWS.

        AWS "can delete a message even if a visibility timeout causes it to be locked by
        another consumer" on standard queues, so an older receipt handle still deletes
        there; a FIFO queue ignores a handle that is no longer the latest.
        """
        with self._lock:
            queue = self.get_queue(queue_name)
            row_id, _ = self._parse_receipt(queue_name, receipt_handle)
            # One indexed DELETE; a missing or (FIFO) superseded message deletes nothing.
            self._store.delete_message(queue_name, row_id, receipt_handle if queue.fifo else None)
        if queue.fifo:
            # Deleting a FIFO message may unblock the rest of its group.
            self._wake(queue_name)

    def change_message_visibility(
        self, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        with self._lock:
            self.get_queue(queue_name)
            row_id, received = self._parse_receipt(queue_name, receipt_handle)
            check.check_range(
                "VisibilityTimeout", visibility_timeout, 0, 43200,
                "Must be >= 0 and <= 43200, if provided.",
            )  # fmt: skip
            stored = self._store.message_by_row(queue_name, row_id)
            if stored is None or stored.receipt != receipt_handle:
                raise invalid_parameter_value(
                    "ReceiptHandle",
                    receipt_handle,
                    "Message does not exist or is not available for visibility timeout change.",
                )
            now = self._now_ms()
            if stored.visible_at <= now:
                raise message_not_inflight()
            if now + visibility_timeout * 1000 > received + _MAX_VISIBILITY_MS:
                raise invalid_parameter_value(
                    "VisibilityTimeout",
                    visibility_timeout,
                    "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                )
            self._store.set_visible_at(row_id, now + visibility_timeout * 1000)
        # A waiting long poll re-plans its wake-up around the new deadline.
        self._wake(queue_name)


def _dedup_key(queue: Queue, group_id: str | None, deduplication_id: str) -> str:
    # With DeduplicationScope=messageGroup (high-throughput FIFO) AWS deduplicates
    # within each message group; otherwise across the whole queue.
    if queue.attributes.get("DeduplicationScope") == "messageGroup":
        return f"{group_id}\x00{deduplication_id}"
    return deduplication_id
