"""Our WebSocket events have the keys and value types of real API Gateway ones.

`lambic.app.websockets.create_websocket_event` (what `lambic local` and the test client
send) is built from a real sample's essentials and compared structurally with it:
the same keys at every level, the same JSON types, `requestContext`'s key order. The
samples are under tests/fixtures/lambda-events/events (ORIGIN.md there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambic.app.websockets import create_websocket_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lambda-events" / "events"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8-sig"))
    return data


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def ours_like(real: dict[str, Any], **extra: Any) -> dict[str, Any]:
    ctx = real["requestContext"]
    identity = ctx["identity"]
    return create_websocket_event(
        ctx["routeKey"],
        connection_id=ctx["connectionId"],
        connected_at_ms=ctx["connectedAt"],
        domain_name=ctx["domainName"],
        stage=ctx["stage"],
        api_id=ctx["apiId"],
        request_id=ctx["requestId"],
        extended_request_id=ctx["extendedRequestId"],
        now_ms=ctx["requestTimeEpoch"],
        source_ip=identity["sourceIp"],
        user_agent=identity.get("userAgent"),
        **extra,
    )


def test_message_event_matches_a_real_one() -> None:
    real = load("aws-lambda-go/apigw-websocket-request-send-message.json")
    ctx = real["requestContext"]
    ours = ours_like(real, body=real["body"], message_id=ctx["messageId"])
    assert shape(ours) == shape(real)
    assert list(ours["requestContext"]) == list(ctx)
    assert ours["requestContext"]["requestTime"] == ctx["requestTime"]


def test_connect_event_matches_a_real_one() -> None:
    real = load("aws-lambda-dotnet/websocket-api-connect-request.json")
    ours = ours_like(real, headers=list(real["headers"].items()))
    assert shape(ours) == shape(real)
    assert list(ours["requestContext"]) == list(real["requestContext"])
    assert ours["requestContext"]["requestTime"] == real["requestContext"]["requestTime"]


def test_disconnect_event_matches_a_real_one() -> None:
    real = load("aws-lambda-go/apigw-websocket-request-disconnect.json")
    ctx = real["requestContext"]
    ours = ours_like(
        real,
        headers=list(real["headers"].items()),
        disconnect_status=ctx["disconnectStatusCode"],
        disconnect_reason=ctx["disconnectReason"],
    )
    assert shape(ours) == shape(real)
    assert list(ours["requestContext"]) == list(ctx)
