"""What the two polling event sources (SQS, DynamoDB streams) share (private).

Both are Lambda event source mappings: a function, the engine they read, how they
invoke it, the batch size and batching window (`MappingSettings`).

Both invoke synchronously with a batch of records and read Lambda's partial-batch
answer, `{"batchItemFailures": [{"itemIdentifier": ID}, ...]}`, the same way (AWS
documents one rule for both): a missing, null or empty list is a complete success; an
identifier that is not a string or not in the batch, or a list that is not a list,
fails the whole batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

#: Invocation statuses after which nothing in the batch counts as handled.
FAILED_STATUSES = frozenset({"error", "timeout", "oom", "crash", "throttled"})

_Outcome = TypeVar("_Outcome")
_Engine = TypeVar("_Engine")


class SyncResult(Protocol):
    """What a synchronous invocation returns (`InvocationResult`'s fields used here)."""

    status: str
    payload: bytes
    request_id: str


Invoke = Callable[[str, bytes], Awaitable[SyncResult]]


def batch_item_failures(payload: bytes, batch_ids: set[str]) -> set[str] | None:
    """The identifiers a handler reported as failed; None when the report is malformed.

    >>> batch_item_failures(b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', {"a", "b"})
    {'b'}
    """
    try:
        response = json.loads(payload) if payload else None
    except ValueError:
        return set()  # not JSON: no partial-failure report, the batch succeeded
    if not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        failed.add(identifier)
    return failed


def report_safely(report: Callable[[_Outcome], None] | None, outcome: _Outcome) -> None:
    """Hand one batch's outcome to the printer; a broken printer must not stop polling."""
    if report is None:
        return
    try:
        report(outcome)
    except Exception:
        log.exception("Batch report failed")


@dataclass(eq=False)
class MappingSettings(Generic[_Engine, _Outcome]):
    """What every event source mapping is created with (Lambda's CreateEventSourceMapping:
    the function, its batch size and batching window), plus the engine it reads, how it
    invokes, and where each batch's outcome is reported."""

    engine: _Engine
    function: str
    _invoke: Invoke
    batch_size: int
    batching_window: float
    _report: Callable[[_Outcome], None] | None
