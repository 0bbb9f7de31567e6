"""The last invocations of each function, with their event and response, in memory.

The log store keeps every invocation's figures and log lines but not its payloads
(storing them would cost the hot path a copy and the disk their size). The console's
"show the event" and "replay" need the recent ones only, so the invoker keeps them
here: a bounded deque per function (`KEEP` entries, payloads cut at `MAX_PAYLOAD`
bytes), one append per invocation.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from lambic.runtime.results import InvocationResult

__all__ = ["InvocationJournal", "JournalEntry"]

#: Invocations kept per function.
KEEP = 50
#: Bytes of an event or response kept; a longer one is cut and marked `truncated`.
MAX_PAYLOAD = 32 * 1024


@dataclass(frozen=True, slots=True)
class JournalEntry:
    function: str  # short name
    request_id: str
    timestamp_ms: int  # when the result came back
    event: bytes
    response: bytes
    status: str
    duration_ms: float
    cold_start: bool
    truncated: bool


class InvocationJournal:
    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._entries: dict[str, deque[JournalEntry]] = {}

    def record(self, function: str, event: bytes, result: InvocationResult) -> None:
        entries = self._entries.get(function)
        if entries is None:
            entries = self._entries[function] = deque(maxlen=self._keep)
        response = result.payload
        entries.append(
            JournalEntry(
                function, result.request_id, int(time.time() * 1000), event[:MAX_PAYLOAD],
                response[:MAX_PAYLOAD], result.status, result.duration_ms, result.cold_start,
                len(event) > MAX_PAYLOAD or len(response) > MAX_PAYLOAD,
            )
        )  # fmt: skip

    def recent(self, function: str) -> list[JournalEntry]:
        """Newest first."""
        return list(reversed(self._entries.get(function, ())))

    def find(self, request_id: str) -> JournalEntry | None:
        for entries in self._entries.values():
            for entry in entries:
                if entry.request_id == request_id:
                    return entry
        return None
