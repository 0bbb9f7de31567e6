"""Queue administration for the SQS engine: create, delete, attributes, tags, redrive.

A mixin of `SqsEngine` (which supplies the store, lock, clock and notification), kept
apart so each module stays one concept: this one is about queues, the engine about
messages. It also runs dead-letter-queue redrive tasks (`StartMessageMoveTask`), which
AWS runs in the background and we complete at once.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lambic.services.sqs import _validation as check
from lambic.services.sqs.errors import (
    SqsError,
    invalid_parameter_value,
    queue_does_not_exist,
    queue_name_exists,
)
from lambic.services.sqs.model import FIFO_DEFAULTS, QUEUE_DEFAULTS, Queue
from lambic.services.sqs.store import SqsStore, StoredMessage


@dataclass
class MoveTask:
    """A dead-letter redrive (`StartMessageMoveTask`); ours complete as they start."""

    handle: str
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    started: int
    to_move: int
    moved: int = 0
    status: str = "COMPLETED"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Status": self.status, "SourceArn": self.source_arn}
        if self.destination_arn:
            out["DestinationArn"] = self.destination_arn
        if self.max_per_second is not None:
            out["MaxNumberOfMessagesPerSecond"] = self.max_per_second
        out["ApproximateNumberOfMessagesMoved"] = self.moved
        out["ApproximateNumberOfMessagesToMove"] = self.to_move
        out["StartedTimestamp"] = self.started
        return out


def resource_not_found(message: str) -> SqsError:
    return SqsError("ResourceNotFoundException", message)


class QueueAdministration:
    """Queue-level operations; mixed into `SqsEngine`."""

    region: str
    account: str
    _store: SqsStore
    _clock: Callable[[], float]
    _lock: threading.RLock
    _queues: dict[str, Queue]
    _move_tasks: dict[str, list[MoveTask]]

    def _notify(self, name: str) -> None:
        raise NotImplementedError

    def _wake(self, name: str) -> None:
        raise NotImplementedError

    def _now_ms(self) -> int:
        raise NotImplementedError

    # Queues -------------------------------------------------------------------------

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def get_queue(self, name: str) -> Queue:
        queue = self._queues.get(name)
        if queue is None:
            raise queue_does_not_exist()
        return queue

    def queue_by_arn(self, arn: str) -> Queue | None:
        prefix = f"arn:aws:sqs:{self.region}:{self.account}:"
        if not arn.startswith(prefix):
            return None
        return self._queues.get(arn[len(prefix) :])

    def list_queues(self, prefix: str = "") -> list[str]:
        # list() snapshots the dict in one step: another thread may be creating queues.
        return sorted(name for name in list(self._queues) if name.startswith(prefix))

    def create_queue(
        self,
        name: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Queue:
        """Create a queue, or return the existing one if the given attributes match it."""
        given = dict(attributes or {})
        fifo = str(given.get("FifoQueue", "false")).lower() == "true"
        check.check_queue_name(name, fifo)
        normalised = check.normalise_queue_attributes(given, fifo=fifo, creating=True)
        if not fifo:
            normalised.pop("FifoQueue", None)
        with self._lock:
            existing = self._queues.get(name)
            if existing is not None:
                # AWS returns the existing queue when every given attribute matches it;
                # JSON-valued attributes compare as JSON (key order, "3" vs 3 aside).
                current = self._effective_attributes(existing)
                self._check_redrive(name, normalised, fifo)
                differing = [k for k, v in normalised.items() if not _same_value(current.get(k), v)]
                if differing:
                    raise queue_name_exists(", ".join(differing))
                return existing
            merged = {**QUEUE_DEFAULTS, **(FIFO_DEFAULTS if fifo else {}), **normalised}
            self._check_redrive(name, merged, fifo)
            now = int(self._clock())
            queue = Queue(name, self.queue_arn(name), merged, dict(tags or {}), now, now)
            self._store.save_queue(queue)
            self._queues[name] = queue
            return queue

    def _effective_attributes(self, queue: Queue) -> dict[str, str]:
        return {**QUEUE_DEFAULTS, **queue.attributes}

    def _check_redrive(self, name: str, attributes: dict[str, str], fifo: bool) -> None:
        text = attributes.get("RedrivePolicy")
        if text is None:
            return
        if text == "":
            del attributes["RedrivePolicy"]
            return
        arn, count = check.parse_redrive_policy(text)
        target = self.queue_by_arn(arn)
        if target is None:
            raise invalid_parameter_value(
                "RedrivePolicy", text, "Dead letter target does not exist."
            )
        if target.fifo != fifo:
            raise invalid_parameter_value(
                "RedrivePolicy", text, "Dead-letter queue must be same type of queue as the source."
            )
        if not _allows_redrive_from(target, self.queue_arn(name)):
            raise invalid_parameter_value(
                "RedrivePolicy",
                text,
                f"Queue {target.arn} does not allow this queue to use it as a dead-letter queue "
                "(see its RedriveAllowPolicy).",
            )
        # AWS normalises the stored policy: compact JSON, maxReceiveCount a number.
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": arn, "maxReceiveCount": count}, separators=(",", ":")
        )

    def delete_queue(self, name: str) -> None:
        with self._lock:
            self.get_queue(name)
            self._store.delete_queue(name)
            del self._queues[name]
        self._wake(name)

    def purge_queue(self, name: str) -> None:
        with self._lock:
            self.get_queue(name)
            self._store.purge(name)

    def peek_messages(self, name: str, limit: int = 10) -> list[StoredMessage]:
        """Visible messages, oldest first, without receiving them: no receive count, no
        visibility timeout, so a peek never moves a message toward its dead-letter queue
        (the console's "peek"; SQS itself has no such call)."""
        with self._lock:
            self.get_queue(name)
            return self._store.visible_messages(name, self._now_ms(), limit)

    def set_queue_attributes(self, name: str, attributes: Mapping[str, str]) -> None:
        with self._lock:
            queue = self.get_queue(name)
            normalised = check.normalise_queue_attributes(
                attributes, fifo=queue.fifo, creating=False
            )
            merged = {**queue.attributes, **normalised}
            self._check_redrive(name, merged, queue.fifo)
            queue.attributes = merged
            queue.modified = int(self._clock())
            self._store.save_queue(queue)

    def get_queue_attributes(self, name: str, names: Iterable[str] = ("All",)) -> dict[str, str]:
        """The requested attributes (`All` for every one), computed ones included."""
        with self._lock:
            queue = self.get_queue(name)
            now = self._now_ms()
            retention = queue.int_attribute("MessageRetentionPeriod") * 1000
            visible, inflight, delayed = self._store.counts(name, now, now - retention)
        everything = {
            **self._effective_attributes(queue),
            "QueueArn": queue.arn,
            "CreatedTimestamp": str(queue.created),
            "LastModifiedTimestamp": str(queue.modified),
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(inflight),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
        }
        wanted = list(names)
        if "All" in wanted:
            return everything
        out: dict[str, str] = {}
        for attribute in wanted:
            if attribute not in _QUEUE_ATTRIBUTE_NAMES:
                raise SqsError("InvalidAttributeName", f"Unknown Attribute {attribute}.")
            if attribute in everything:
                out[attribute] = everything[attribute]
        return out

    def tag_queue(self, name: str, tags: Mapping[str, str]) -> None:
        with self._lock:
            queue = self.get_queue(name)
            queue.tags.update(tags)
            self._store.save_queue(queue)

    def untag_queue(self, name: str, keys: Iterable[str]) -> None:
        with self._lock:
            queue = self.get_queue(name)
            for key in keys:
                queue.tags.pop(key, None)
            self._store.save_queue(queue)

    def list_dead_letter_source_queues(self, name: str) -> list[str]:
        target = self.get_queue(name)
        sources = []
        for queue in list(self._queues.values()):
            redrive = queue.redrive()
            if redrive is not None and redrive[0] == target.arn:
                sources.append(queue.name)
        return sorted(sources)

    # Permissions --------------------------------------------------------------------

    def add_permission(
        self, name: str, label: str, accounts: Iterable[str], actions: Iterable[str]
    ) -> None:
        """Add a statement to the queue's Policy, as AddPermission does."""
        with self._lock:
            queue = self.get_queue(name)
            policy = _policy(queue)
            if any(st.get("Sid") == label for st in policy["Statement"]):
                raise invalid_parameter_value("Label", label, "Already exists.")
            policy["Statement"].append(
                {
                    "Sid": label,
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                    "Action": [f"SQS:{action}" for action in actions],
                    "Resource": queue.arn,
                }
            )
            self._save_policy(queue, policy)

    def remove_permission(self, name: str, label: str) -> None:
        with self._lock:
            queue = self.get_queue(name)
            policy = _policy(queue)
            kept = [st for st in policy["Statement"] if st.get("Sid") != label]
            if len(kept) == len(policy["Statement"]):
                raise invalid_parameter_value(
                    "Label", label, "can't find label on existing policy."
                )
            policy["Statement"] = kept
            self._save_policy(queue, policy)

    def _save_policy(self, queue: Queue, policy: dict[str, Any]) -> None:
        if policy["Statement"]:
            queue.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        else:
            queue.attributes.pop("Policy", None)
        queue.modified = int(self._clock())
        self._store.save_queue(queue)

    # Dead-letter redrive ------------------------------------------------------------

    def start_message_move_task(
        self,
        source_arn: str,
        destination_arn: str | None = None,
        max_per_second: int | None = None,
    ) -> str:
        """Move a dead-letter queue's messages back to their source queues (or elsewhere)."""
        with self._lock:
            source = self.queue_by_arn(source_arn)
            if source is None:
                raise resource_not_found(
                    "The resource that you specified for the SourceArn parameter doesn't exist."
                )
            if not any((q.redrive() or ("", 0))[0] == source.arn for q in self._queues.values()):
                raise invalid_parameter_value(
                    "SourceArn",
                    source_arn,
                    "Source queue must be configured as a Dead Letter Queue.",
                )
            destination = None
            if destination_arn is not None:
                destination = self.queue_by_arn(destination_arn)
                if destination is None:
                    raise resource_not_found(
                        "The resource that you specified for the DestinationArn parameter "
                        "doesn't exist."
                    )
            now = self._now_ms()
            messages = self._store.all_visible(source.name, now)
            task = MoveTask(
                handle=base64.b64encode(
                    json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
                ).decode(),
                source_arn=source_arn,
                destination_arn=destination_arn,
                max_per_second=max_per_second,
                started=now,
                to_move=len(messages),
            )
            targets: set[str] = set()
            with self._store.transaction():
                for stored in messages:
                    system = dict(stored.system_attributes)
                    origin = system.pop("DeadLetterQueueSourceArn", None)
                    target = destination or (self.queue_by_arn(origin) if origin else None)
                    if target is None:
                        continue
                    # Retention counts from the original send, with the target's period.
                    expires = stored.sent_at + target.int_attribute("MessageRetentionPeriod") * 1000
                    self._store.move_message(stored.row_id, target.name, now, system, expires)
                    targets.add(target.name)
                    task.moved += 1
            self._move_tasks.setdefault(source_arn, []).insert(0, task)
        for name in targets:
            self._notify(name)
        return task.handle

    def list_message_move_tasks(
        self, source_arn: str, max_results: int = 1
    ) -> list[dict[str, Any]]:
        if self.queue_by_arn(source_arn) is None:
            raise resource_not_found(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        check.check_range("MaxResults", max_results, 1, 10, "MaxResults must be between 1 and 10.")
        return [task.to_json() for task in self._move_tasks.get(source_arn, [])[:max_results]]

    def cancel_message_move_task(self, handle: str) -> int:
        for tasks in self._move_tasks.values():
            for task in tasks:
                if task.handle == handle and task.status == "RUNNING":
                    task.status = "CANCELLED"
                    return task.moved
        # Ours finish as they start, so there is never a running task to cancel.
        raise resource_not_found("Task does not exist or is not running.")


def _same_value(current: str | None, given: str) -> bool:
    if current == given:
        return True
    if current is None or not given.startswith("{"):
        return False
    try:
        return bool(json.loads(current) == json.loads(given))
    except ValueError:
        return False


def _allows_redrive_from(target: Queue, source_arn: str) -> bool:
    text = target.attributes.get("RedriveAllowPolicy")
    if not text:
        return True
    policy = json.loads(text)
    permission = policy.get("redrivePermission", "allowAll")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in policy.get("sourceQueueArns", [])
    return True


def _policy(queue: Queue) -> dict[str, Any]:
    text = queue.attributes.get("Policy")
    if text:
        try:
            policy = json.loads(text)
        except ValueError:
            policy = None
        if isinstance(policy, dict) and isinstance(policy.get("Statement"), list):
            return policy
    return {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}


_QUEUE_ATTRIBUTE_NAMES = frozenset(
    {
        "All",
        "Policy",
        "VisibilityTimeout",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
        "QueueArn",
        "ApproximateNumberOfMessagesDelayed",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "RedrivePolicy",
        "FifoQueue",
        "ContentBasedDeduplication",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "RedriveAllowPolicy",
        "SqsManagedSseEnabled",
    }
)
