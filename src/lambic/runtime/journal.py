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
from dataclasses import dataclass, replace

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


# What `record` keeps per invocation: the event, the result itself (no copy), when,
# and whether a payload was cut. A JournalEntry is built only when the console reads
# one: a frozen dataclass per request cost the gateway ~1 us of the ~200 us a request
# costs the whole server.
_Kept = tuple[bytes, InvocationResult, float, bool]


class InvocationJournal:
    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._entries: dict[str, deque[_Kept]] = {}

    def record(self, function: str, event: bytes, result: InvocationResult) -> None:
        entries = self._entries.get(function)
        if entries is None:
            entries = self._entries[function] = deque(maxlen=self._keep)
        # A long payload is cut now, so at most KEEP x MAX_PAYLOAD bytes per payload
        # are held (a long response in a copy of the result: it holds the whole).
        truncated = False
        if len(event) > MAX_PAYLOAD:
            event, truncated = event[:MAX_PAYLOAD], True
        if len(result.payload) > MAX_PAYLOAD:
            result, truncated = replace(result, payload=result.payload[:MAX_PAYLOAD]), True
        entries.append((event, result, time.time(), truncated))

    def recent(self, function: str) -> list[JournalEntry]:
        """Newest first."""
        return [_entry(function, kept) for kept in reversed(self._entries.get(function, ()))]

    def find(self, request_id: str) -> JournalEntry | None:
        for function, entries in self._entries.items():
            for kept in entries:
                if kept[1].request_id == request_id:
                    return _entry(function, kept)
        return None


def _entry(function: str, kept: _Kept) -> JournalEntry:
    event, result, when, truncated = kept
    return JournalEntry(
        function, result.request_id, int(when * 1000), event, result.payload, result.status,
        result.duration_ms, result.cold_start, truncated,
    )  # fmt: skip
