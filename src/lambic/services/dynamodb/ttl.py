"""Time to Live: deleting expired items in the background, as DynamoDB does.

A table with TTL enabled names a Number attribute holding an expiry time in epoch
seconds. DynamoDB deletes items whose time has passed "typically within a few days",
skips values more than five years in the past, and records each deletion in the
table's stream with `userIdentity` {"Type": "Service", "PrincipalId":
"dynamodb.amazonaws.com"} (the Streams API's spelling; Lambda events use lower-case
keys) so consumers can tell expiry from user deletes. Locally a
`TtlSweeper` thread walks each such table a bounded chunk at a time every few seconds,
so expired items disappear promptly without ever stalling requests for long.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from decimal import Decimal, InvalidOperation

from lambic.services.dynamodb._keys import key_of
from lambic.services.dynamodb.engine import DynamoDBEngine, Write

logger = logging.getLogger(__name__)

_FIVE_YEARS_SECONDS = 5 * 365 * 24 * 3600
_SEGMENT_END = 1 << 32


def expire_items(
    engine: DynamoDBEngine,
    cursors: dict[int, tuple[int, bytes, bytes] | None],
    *,
    now: float | None = None,
    budget: int = 1000,
) -> int:
    """Examine up to `budget` items per TTL table from its cursor; delete the expired ones.

    `cursors` (table id → scan position) carries each table's position between calls.
    Returns how many items were deleted.
    """
    moment = Decimal(str(time.time() if now is None else now))
    deleted = 0
    with engine.lock:
        for state in list(engine.tables()):
            attribute = state.definition.ttl_attribute
            if attribute is None:
                cursors.pop(state.tid, None)
                continue
            rows = engine.store.scan(state.tid, 0, _SEGMENT_END, cursors.get(state.tid), budget)
            cursors[state.tid] = (
                (rows[-1][0], rows[-1][1], rows[-1][2]) if len(rows) == budget else None
            )
            writes = []
            for _, hk, rk, _, doc in rows:
                item = json.loads(doc)
                if _expired(item.get(attribute), moment):
                    keys = key_of(state.definition, item)
                    writes.append(Write(state, hk, rk, keys, item, None, by_ttl=True))
            if writes:
                engine.commit(writes)
                deleted += len(writes)
    return deleted


def _expired(value: object, now: Decimal) -> bool:
    if not isinstance(value, dict) or "N" not in value:
        return False  # AWS ignores TTL attributes that are not numbers
    try:
        expiry = Decimal(value["N"])
    except (InvalidOperation, TypeError):
        return False
    return bool(now - _FIVE_YEARS_SECONDS <= expiry <= now)


class TtlSweeper:
    """A daemon thread running `expire_items` every `interval` seconds until stopped."""

    def __init__(self, engine: DynamoDBEngine, interval: float) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._cursors: dict[int, tuple[int, bytes, bytes] | None] = {}
        self._thread = threading.Thread(target=self._run, name="lambic-dynamodb-ttl", daemon=True)

    def start(self) -> TtlSweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                expire_items(self._engine, self._cursors)
            except Exception:  # keep sweeping; a bad row must not end expiry for good
                logger.exception("DynamoDB TTL sweep failed")
