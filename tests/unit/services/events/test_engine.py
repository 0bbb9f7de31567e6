from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from lambic.services.events.engine import EventBus, EventsError

FIXED = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)


def bus() -> EventBus:
    return EventBus(region="eu-west-1", account="123456789012", clock=lambda: FIXED)


def entry(**overrides: Any) -> dict[str, Any]:
    base = {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"n": 1})}
    base.update(overrides)
    return base


def test_matching_subscribers_receive_the_eventbridge_envelope() -> None:
    events_bus, seen = bus(), []
    events_bus.subscribe("orders", {"source": ["shop.orders"]}, seen.append)
    events_bus.subscribe("other", {"source": ["nope"]}, lambda e: pytest.fail("must not match"))
    [result] = events_bus.put_events([entry(Resources=["arn:x"])])
    assert result.event_id and result.error_code is None
    assert seen == [
        {
            "version": "0",
            "id": result.event_id,
            "detail-type": "OrderPlaced",
            "source": "shop.orders",
            "account": "123456789012",
            "time": "2026-11-25T12:00:00Z",
            "region": "eu-west-1",
            "resources": ["arn:x"],
            "detail": {"n": 1},
        }
    ]


def test_bad_entries_fail_alone_with_aws_codes() -> None:
    events_bus, seen = bus(), []
    events_bus.subscribe("all", {"source": [{"exists": True}]}, seen.append)
    results = events_bus.put_events(
        [
            entry(),
            entry(Source=""),
            entry(Detail="[1]"),
            entry(Detail="{oops"),
            entry(DetailType=None),
        ]
    )
    assert [r.error_code for r in results] == [
        None,
        "InvalidArgument",
        "MalformedDetail",
        "MalformedDetail",
        "InvalidArgument",
    ]
    assert results[1].error_message == (
        "Parameter Source is not valid. Reason: Source is a required argument."
    )
    assert results[2].error_message == "Detail is malformed."
    assert len(seen) == 1


def test_more_than_ten_entries_fails_the_whole_request() -> None:
    with pytest.raises(EventsError) as caught:
        bus().put_events([entry()] * 11)
    assert caught.value.code == "ValidationException"


def test_an_unknown_event_bus_is_not_found() -> None:
    with pytest.raises(EventsError) as caught:
        bus().put_events([entry(EventBusName="orders-bus")])
    assert caught.value.code == "ResourceNotFoundException"


def test_entry_time_given_as_epoch_seconds_is_rendered_in_utc() -> None:
    events_bus, seen = bus(), []
    events_bus.subscribe("all", {"source": ["shop.orders"]}, seen.append)
    events_bus.put_events([entry(Time=0)])
    assert seen[0]["time"] == "1970-01-01T00:00:00Z"


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    events_bus, seen = bus(), []

    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    events_bus.subscribe("a", {"source": ["shop.orders"]}, broken)
    events_bus.subscribe("b", {"source": ["shop.orders"]}, seen.append)
    events_bus.put_events([entry()])
    assert len(seen) == 1
