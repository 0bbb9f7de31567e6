"""EventBridge PutEvents and TestEventPattern through the edge port with boto3."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.events import create_service
from lambic.services.server import EdgeServer


def test_put_events_delivers_to_matching_subscribers(
    start_edge: Callable[..., EdgeServer], make_client: Callable[..., Any]
) -> None:
    service = create_service()
    seen: list[dict[str, Any]] = []
    service.bus.subscribe(
        "big-orders", {"detail": {"total": [{"numeric": [">", 100]}]}}, seen.append
    )
    edge = start_edge({"events": service})
    events = make_client("events", edge.url)
    response = events.put_events(
        Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 250})},
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 5})},
            {"Source": "shop", "DetailType": "Order", "Detail": "not json"},
        ]
    )
    assert response["FailedEntryCount"] == 1
    assert "EventId" in response["Entries"][0] and "EventId" in response["Entries"][1]
    assert response["Entries"][2]["ErrorCode"] == "MalformedDetail"
    assert [e["detail"] for e in seen] == [{"total": 250}]
    assert seen[0]["id"] == response["Entries"][0]["EventId"]


def test_test_event_pattern_and_invalid_pattern_error(
    start_edge: Callable[..., EdgeServer], make_client: Callable[..., Any]
) -> None:
    edge = start_edge({"events": create_service()})
    events = make_client("events", edge.url)
    event = json.dumps(
        {
            "id": "1",
            "source": "a.b",
            "detail-type": "x",
            "account": "1",
            "time": "2020-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"k": "v"},
        }
    )
    assert events.test_event_pattern(EventPattern='{"source": [{"prefix": "a."}]}', Event=event)[
        "Result"
    ]
    assert not events.test_event_pattern(EventPattern='{"detail": {"k": ["w"]}}', Event=event)[
        "Result"
    ]
    with pytest.raises(ClientError) as caught:
        events.test_event_pattern(EventPattern='{"source": "a.b"}', Event=event)
    assert caught.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_custom_event_buses_are_created_listed_used_and_deleted(
    start_edge: Callable[..., EdgeServer], make_client: Callable[..., Any]
) -> None:
    service = create_service()
    seen: list[dict[str, Any]] = []
    service.bus.subscribe("all", {"source": ["shop"]}, seen.append)
    events = make_client("events", start_edge({"events": service}).url)
    entry = {"Source": "shop", "DetailType": "Order", "Detail": "{}", "EventBusName": "orders"}
    with pytest.raises(ClientError) as missing:
        events.put_events(Entries=[entry])
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    arn = events.create_event_bus(Name="orders")["EventBusArn"]
    assert arn == "arn:aws:events:us-east-1:000000000000:event-bus/orders"
    with pytest.raises(ClientError) as twice:
        events.create_event_bus(Name="orders")
    assert twice.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default", "orders"]
    assert events.describe_event_bus(Name="orders")["Arn"] == arn
    # Accepted on the custom bus (by name or ARN); the default bus's rules do not see it.
    assert (
        events.put_events(Entries=[entry, {**entry, "EventBusName": arn}])["FailedEntryCount"] == 0
    )
    assert seen == []
    events.delete_event_bus(Name="orders")
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
