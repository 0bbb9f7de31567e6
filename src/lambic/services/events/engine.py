"""The local default event bus: PutEvents in, matching subscribers called.

AWS delivers an accepted event to every rule whose pattern matches it. Locally, the
runtime subscribes each `@app.on_cw_event` handler with its pattern; `put_events`
validates entries exactly as EventBridge does (per-entry errors do not fail the
request), builds the event in EventBridge's envelope, and hands it to each matching
subscriber. Subscribers must not raise; one that does is logged and the others still
get the event, as one failing rule target does not stop the others on AWS.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lambic._http_limits import loads_json
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services.events.patterns import EventPattern, compile_pattern

log = logging.getLogger(__name__)

Event = dict[str, Any]
Subscriber = Callable[[Event], None]

MAX_ENTRIES = 10
# EventBridge measures an entry as its Time (14 bytes when given) plus the UTF-8
# lengths of Source, DetailType, Detail and each resource; the request total is capped.
MAX_REQUEST_BYTES = 256 * 1024
DEFAULT_BUS = "default"


class EventsError(Exception):
    """A request-level EventBridge error (the whole call fails)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class EntryResult:
    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class _Subscription:
    pattern: EventPattern
    subscriber: Subscriber


@dataclass
class EventBus:
    """The default bus of one local account and region."""

    region: str = LOCAL_REGION
    account: str = LOCAL_ACCOUNT_ID
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    _subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    # Custom buses (CreateEventBus). Rules (the app's handlers) are on the default bus,
    # as Chalice's `on_cw_event`; an event put on a custom bus is accepted and matches
    # no rule, as on AWS for a bus without rules.
    _buses: set[str] = field(default_factory=set)

    @property
    def arn(self) -> str:
        return self.bus_arn(DEFAULT_BUS)

    def bus_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:event-bus/{name}"

    def create_bus(self, name: str) -> str:
        """CreateEventBus; its ARN. AWS refuses an existing name (ResourceAlreadyExists)."""
        if name == DEFAULT_BUS or name in self._buses:
            raise EventsError("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
        self._buses.add(name)
        return self.bus_arn(name)

    def delete_bus(self, name: str) -> None:
        if name == DEFAULT_BUS:
            raise EventsError("ValidationException", "Cannot delete event bus default.")
        self._buses.discard(name)  # AWS: deleting a missing bus succeeds

    def bus_names(self) -> list[str]:
        return [DEFAULT_BUS, *sorted(self._buses)]

    def _bus_name(self, name_or_arn: str) -> str | None:
        """The bus an EventBusName names, or None when no such bus exists."""
        name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        if name_or_arn.startswith("arn:") and name_or_arn != self.bus_arn(name):
            return None
        return name if name == DEFAULT_BUS or name in self._buses else None

    def subscribe(
        self, name: str, pattern: Mapping[str, Any] | str, subscriber: Subscriber
    ) -> None:
        """Deliver events matching `pattern` to `subscriber` (replacing `name`'s previous)."""
        self._subscriptions[name] = _Subscription(compile_pattern(pattern), subscriber)

    def unsubscribe(self, name: str) -> None:
        self._subscriptions.pop(name, None)

    def put_events(self, entries: list[Mapping[str, Any]]) -> list[EntryResult]:
        if len(entries) > MAX_ENTRIES:
            raise EventsError(
                "ValidationException",
                "1 validation error detected: Value at 'entries' failed to satisfy "
                "constraint: Member must have length less than or equal to 10",
            )
        if sum(entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
            raise EventsError(
                "ValidationException", "Total size of the entries in the request is over the limit."
            )
        buses = []
        for entry in entries:
            bus = str(entry.get("EventBusName") or DEFAULT_BUS)
            name = self._bus_name(bus)
            if name is None:
                raise EventsError("ResourceNotFoundException", f"Event bus {bus} does not exist.")
            buses.append(name)
        results = []
        for entry, bus in zip(entries, buses, strict=True):
            result, event = self._accept(entry)
            results.append(result)
            if event is not None and bus == DEFAULT_BUS:
                self.dispatch(event)
        return results

    def dispatch(self, event: Event) -> int:
        """Hand an event to every matching subscriber; returns how many matched."""
        matched = 0
        for name, subscription in list(self._subscriptions.items()):
            if subscription.pattern.matches(event):
                matched += 1
                try:
                    subscription.subscriber(event)
                except Exception:
                    log.exception("Event subscriber %s failed", name)
        return matched

    def _accept(self, entry: Mapping[str, Any]) -> tuple[EntryResult, Event | None]:
        for name in ("Source", "DetailType", "Detail"):
            if not entry.get(name):
                return (
                    EntryResult(
                        error_code="InvalidArgument",
                        error_message=(
                            f"Parameter {name} is not valid. Reason: {name} is a required argument."
                        ),
                    ),
                    None,
                )
        try:
            detail = loads_json(entry["Detail"])
        except (TypeError, ValueError):
            detail = None
        if not isinstance(detail, dict):
            return EntryResult(
                error_code="MalformedDetail", error_message="Detail is malformed."
            ), None
        event_id = str(uuid.uuid4())
        event: Event = {
            "version": "0",
            "id": event_id,
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": self.account,
            "time": _event_time(entry.get("Time"), self.clock),
            "region": self.region,
            "resources": list(entry.get("Resources") or []),
            "detail": detail,
        }
        return EntryResult(event_id=event_id), event


def _event_time(value: Any, clock: Callable[[], datetime]) -> str:
    # boto3 sends Time as epoch seconds; EventBridge renders whole seconds in UTC.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = clock()
    else:
        moment = clock()
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_size(entry: Mapping[str, Any]) -> int:
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        value = entry.get(name)
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
    for resource in entry.get("Resources") or []:
        if isinstance(resource, str):
            size += len(resource.encode("utf-8"))
    return size
