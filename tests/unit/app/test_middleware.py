from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import pytest

from lambic.app import (
    ChaliceUnhandledError,
    ConvertToMiddleware,
    Lambic,
    Response,
    create_rest_event,
)

SQS_EVENT = {
    "Records": [
        {
            "messageId": "m-1",
            "receiptHandle": "r",
            "body": "hello",
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "x",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
            "awsRegion": "us-east-1",
        }
    ]
}


def _get(app: Lambic, path: str = "/") -> dict[str, Any]:
    event = create_rest_event(
        method="GET",
        path=path,
        resource_path=path,
        path_params={},
        query=[],
        headers=[],
        body=b"",
        binary_types=[],
        stage="api",
    )
    return app(event, None)


def test_http_middleware_runs_in_registration_order_around_the_view() -> None:
    app = Lambic("mw", configure_logs=False)
    calls: list[str] = []

    @app.middleware("http")
    def first(event: Any, get_response: Callable[[Any], Response]) -> Response:
        calls.append("first-in")
        response = get_response(event)
        calls.append("first-out")
        return response

    @app.middleware("all")
    def second(event: Any, nxt: Callable[[Any], Response]) -> Response:
        calls.append("second-in")
        return nxt(event)

    @app.route("/")
    def index() -> dict[str, str]:
        calls.append("view")
        return {}

    assert _get(app)["statusCode"] == 200
    assert calls == ["first-in", "second-in", "view", "first-out"]


def test_middleware_registered_after_first_request_still_applies() -> None:
    app = Lambic("mw-late", configure_logs=False)
    app.route("/")(lambda: {})
    assert "X-Late" not in _get(app)["headers"]

    def late(event: Any, get_response: Callable[[Any], Response]) -> Response:
        response = get_response(event)
        response.headers["X-Late"] = "yes"
        return response

    app.register_middleware(late, "http")
    assert _get(app)["headers"]["X-Late"] == "yes"


def test_unhandled_error_reaches_middleware_and_otherwise_becomes_500() -> None:
    app = Lambic("mw-unhandled", configure_logs=False)

    @app.route("/")
    def index() -> None:
        raise ChaliceUnhandledError("for middleware")

    assert _get(app)["statusCode"] == 500

    @app.middleware("http")
    def handle(event: Any, get_response: Callable[[Any], Response]) -> Response:
        try:
            return get_response(event)
        except ChaliceUnhandledError as exc:
            return Response(body={"seen": str(exc)}, status_code=409)

    response = _get(app)
    assert response["statusCode"] == 409
    assert json.loads(response["body"]) == {"seen": "for middleware"}


def test_rejects_unknown_middleware_event_type() -> None:
    app = Lambic("mw-bad", configure_logs=False)
    with pytest.raises(ValueError, match="Unknown middleware event type 'htp'"):
        app.middleware("htp")


def test_event_handler_middleware_wraps_core_events_decorators() -> None:
    app = Lambic("mw-sqs", configure_logs=False)
    seen: list[str] = []

    @app.middleware("sqs")
    def sqs_only(event: Any, get_response: Callable[[Any], Any]) -> Any:
        seen.append(type(event).__name__)
        return get_response(event)

    @app.middleware("http")
    def http_only(event: Any, get_response: Callable[[Any], Any]) -> Any:
        raise AssertionError("http middleware must not run for SQS")

    @app.on_sqs_message(queue="jobs")
    def work(event: Any) -> dict[str, list[Any]]:
        return {"batchItemFailures": [{"itemIdentifier": r.message_id} for r in event]}

    assert work(SQS_EVENT, None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert seen == ["SQSEvent"]
    assert app.handler_map["work"] is work
    assert [c.name for c in app.event_sources] == ["work"]
    assert app.event_sources[0].handler_string == "app.work"


def test_convert_to_middleware_wraps_pure_lambda_and_http_handlers() -> None:
    app = Lambic("mw-convert", configure_logs=False)
    wrapped_events: list[Any] = []

    def decorator(func: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        @functools.wraps(func)
        def wrapper(event: Any, context: Any) -> Any:
            wrapped_events.append(event)
            return func(event, context)

        return wrapper

    app.register_middleware(ConvertToMiddleware(decorator))

    @app.lambda_function(name="raw")
    def raw(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"echo": event["x"]}

    app.route("/")(lambda: {"ok": True})
    assert app.handler_map["raw"]({"x": 1}, None) == {"echo": 1}
    assert _get(app)["statusCode"] == 200
    assert wrapped_events[0] == {"x": 1}
    assert wrapped_events[1]["httpMethod"] == "GET"
    assert [f.name for f in app.pure_lambda_functions] == ["raw"]
