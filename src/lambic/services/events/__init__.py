"""A local EventBridge default bus: PutEvents on the edge port, patterns, subscribers.

Data flow: PutEvents (edge) → `EventsService` (wire) → `EventBus.put_events`
(validation, envelope) → each subscriber whose `EventPattern` matches.
"""

from __future__ import annotations

from pathlib import Path

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services._metering import Meter
from lambic.services.events.engine import EntryResult, EventBus, EventsError
from lambic.services.events.patterns import (
    EventPattern,
    InvalidEventPatternError,
    compile_pattern,
)
from lambic.services.events.protocol import EventsService


def create_service(
    state_dir: Path | None = None,
    *,
    region: str = LOCAL_REGION,
    account: str = LOCAL_ACCOUNT_ID,
    meter: Meter | None = None,
) -> EventsService:
    """The events service; `state_dir` is accepted for symmetry (the bus keeps no state).
    PutEvents entries are metered into `meter` when given."""
    return EventsService(EventBus(region=region, account=account), meter=meter)


__all__ = [
    "EntryResult",
    "EventBus",
    "EventPattern",
    "EventsError",
    "EventsService",
    "InvalidEventPatternError",
    "compile_pattern",
    "create_service",
]
