"""EventBridge's JSON 1.1 wire protocol (`X-Amz-Target: AWSEvents.<Operation>`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from lambic._http_limits import loads_json
from lambic.services._metering import Meter, chunks_64k
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.events.engine import EventBus, EventsError, entry_size
from lambic.services.events.patterns import InvalidEventPatternError, compile_pattern

_CONTENT_TYPE = "application/x-amz-json-1.1"


class EventsService:
    """The `events` service on the edge port: PutEvents, TestEventPattern, event buses."""

    name = "events"

    def __init__(self, bus: EventBus, *, meter: Meter | None = None) -> None:
        self.bus = bus
        self.meter = meter

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        operation = request.headers.get("x-amz-target", "").partition(".")[2]
        try:
            try:
                body = loads_json(request.body or b"{}")
            except ValueError as exc:
                raise EventsError(
                    "SerializationException", "Start of structure or map found where not expected."
                ) from exc
            if not isinstance(body, dict):
                raise EventsError(
                    "SerializationException", "Start of structure or map found where not expected."
                )
            if operation == "PutEvents":
                return _ok(self._put_events(body))
            if operation == "TestEventPattern":
                return _ok(_test_event_pattern(body))
            if operation in _BUS_OPERATIONS:
                return _ok(_BUS_OPERATIONS[operation](self.bus, body))
            raise EventsError(
                "UnknownOperationException",
                f"Operation {operation or '(none)'} is not supported by the local event bus; "
                "it accepts PutEvents, TestEventPattern and Create/Describe/List/DeleteEventBus",
            )
        except EventsError as exc:
            return _error(exc.code, exc.message, exc.status)

    def _put_events(self, body: dict[str, Any]) -> dict[str, Any]:
        entries = body.get("Entries")
        if not isinstance(entries, list) or not entries:
            raise EventsError(
                "ValidationException",
                "1 validation error detected: Value null at 'entries' failed to satisfy "
                "constraint: Member must not be null",
            )
        results = self.bus.put_events([e if isinstance(e, dict) else {} for e in entries])
        rendered: list[dict[str, str | None]] = []
        for result in results:
            if result.event_id is not None:
                rendered.append({"EventId": result.event_id})
            else:
                rendered.append(
                    {"ErrorCode": result.error_code, "ErrorMessage": result.error_message}
                )
        failed = sum(1 for r in results if r.event_id is None)
        if self.meter is not None:
            # Custom events are billed per 64 KB chunk of each accepted entry.
            billed = sum(
                chunks_64k(entry_size(e))
                for e, r in zip(entries, results, strict=True)
                if r.event_id is not None and isinstance(e, dict)
            )
            if billed:
                self.meter.add("events", "default", "events", billed)
        return {"FailedEntryCount": failed, "Entries": rendered}

    def close(self) -> None:
        """Nothing to release: the bus keeps no files."""


def _bus_name(body: dict[str, Any]) -> str:
    name = body.get("Name")
    if not isinstance(name, str) or not name:
        raise EventsError(
            "ValidationException",
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
            "Member must not be null",
        )
    return name


def _create_bus(bus: EventBus, body: dict[str, Any]) -> dict[str, Any]:
    return {"EventBusArn": bus.create_bus(_bus_name(body))}


def _describe_bus(bus: EventBus, body: dict[str, Any]) -> dict[str, Any]:
    name = str(body.get("Name") or "default")
    if name not in bus.bus_names():
        raise EventsError("ResourceNotFoundException", f"Event bus {name} does not exist.")
    return {"Name": name, "Arn": bus.bus_arn(name)}


def _list_buses(bus: EventBus, body: dict[str, Any]) -> dict[str, Any]:
    prefix = str(body.get("NamePrefix") or "")
    return {
        "EventBuses": [
            {"Name": name, "Arn": bus.bus_arn(name)}
            for name in bus.bus_names()
            if name.startswith(prefix)
        ]
    }


def _delete_bus(bus: EventBus, body: dict[str, Any]) -> dict[str, Any]:
    bus.delete_bus(_bus_name(body))
    return {}


_BUS_OPERATIONS: dict[str, Callable[[EventBus, dict[str, Any]], dict[str, Any]]] = {
    "CreateEventBus": _create_bus,
    "DescribeEventBus": _describe_bus,
    "ListEventBuses": _list_buses,
    "DeleteEventBus": _delete_bus,
}


def _test_event_pattern(body: dict[str, Any]) -> dict[str, Any]:
    try:
        pattern = compile_pattern(body.get("EventPattern") or "")
    except InvalidEventPatternError as exc:
        raise EventsError("InvalidEventPatternException", str(exc)) from exc
    try:
        event = loads_json(body.get("Event") or "")
    except ValueError as exc:
        raise EventsError("InvalidEventPatternException", "Event is not valid JSON.") from exc
    if not isinstance(event, dict):
        raise EventsError("InvalidEventPatternException", "Event is not a JSON object.")
    return {"Result": pattern.matches(event)}


def _ok(payload: dict[str, Any]) -> ServiceResponse:
    return ServiceResponse(200, _headers(), json.dumps(payload).encode())


def _error(code: str, message: str, status: int) -> ServiceResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    return ServiceResponse(status, _headers(), body)


def _headers() -> list[tuple[str, str]]:
    return [("Content-Type", _CONTENT_TYPE), ("x-amzn-RequestId", str(uuid.uuid4()))]
