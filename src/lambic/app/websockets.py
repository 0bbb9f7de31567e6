"""WebSocket handlers: `@app.on_ws_connect()`, `@app.on_ws_message()`, `@app.on_ws_disconnect()`.

API Gateway's WebSocket API invokes one Lambda function per route: `$connect` when a
client opens the connection (a non-2xx answer refuses it), `$default` for each
message, `$disconnect` once it has closed. Each handler gets a `WebsocketEvent`:

    app.experimental_feature_flags.update(["WEBSOCKETS"])
    app.websocket_api.session = boto3.session.Session()

    @app.on_ws_message()
    def echo(event: WebsocketEvent) -> None:
        app.websocket_api.send(event.connection_id, event.body)

    raw event --WebsocketEvent--> middleware ("websocket") --> func(event) --> {"statusCode": 200}

As in Chalice, a handler's return value may be a `Response` or a dict (its statusCode
defaults to 200); anything else answers `{"statusCode": 200}`. Chalice calls the
feature experimental: `lambic local`, `package` and `deploy` refuse an app that uses
it without `app.experimental_feature_flags.update(["WEBSOCKETS"])`, with Chalice's message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from lambic.app.errors import BadRequestError
from lambic.app.events import BaseLambdaEvent
from lambic.app.middleware import EventSourceHandler, MiddlewareFunc
from lambic.app.registry import WEBSOCKET_FUNCTIONS
from lambic.app.responses import Response
from lambic.app.websocket_api import WebsocketAPI, is_local_domain

__all__ = [
    "CONNECT_ROUTE",
    "DEFAULT_ROUTE",
    "DISCONNECT_ROUTE",
    "EXPERIMENTAL_ERROR_MSG",
    "WEBSOCKET_FUNCTION_NAMES",
    "WebsocketConnectConfig",
    "WebsocketDisconnectConfig",
    "WebsocketEvent",
    "WebsocketEventSourceHandler",
    "WebsocketMessageConfig",
    "create_websocket_event",
    "missing_feature_flags",
]

CONNECT_ROUTE = "$connect"
DEFAULT_ROUTE = "$default"
DISCONNECT_ROUTE = "$disconnect"

#: The Lambda function each route runs in, named as Chalice's deployer names them.
WEBSOCKET_FUNCTION_NAMES = WEBSOCKET_FUNCTIONS
_DECORATORS = {
    CONNECT_ROUTE: "on_ws_connect",
    DEFAULT_ROUTE: "on_ws_message",
    DISCONNECT_ROUTE: "on_ws_disconnect",
}

# Chalice's text, so a ported app's error reads the same.
EXPERIMENTAL_ERROR_MSG = """

You are using experimental features without explicitly opting in.
Experimental features do not guarantee backwards compatibility and may be
removed in the future.  If you'd still like to use these experimental features,
you can opt in by adding this to your app.py file:\n\n%s

See https://aws.github.io/chalice/topics/experimental.html for more
details.
"""


def missing_feature_flags(used: set[str], flags: set[str]) -> str | None:
    """Chalice's ExperimentalFeatureError message for features used without opting in."""
    missing = sorted(used - flags)
    if not missing:
        return None
    lines = ",\n".join(f"    '{feature}'" for feature in missing)
    opt_in = f"app.experimental_feature_flags.update([\n{lines}\n])\n"
    return EXPERIMENTAL_ERROR_MSG % opt_in


class WebsocketEvent(BaseLambdaEvent):
    """One API Gateway WebSocket event: connection_id, body, json_body, domain_name, stage."""

    def __init__(self, event_dict: dict[str, Any], context: Any) -> None:
        super().__init__(event_dict, context)
        self._json_body: Any = None

    def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
        request_context = event_dict["requestContext"]
        self.domain_name: str = request_context["domainName"]
        self.stage: str = request_context["stage"]
        self.connection_id: str = request_context["connectionId"]
        # Chalice's str(): a connect or disconnect event's missing body reads "None".
        self.body: str = str(event_dict.get("body"))

    @property
    def json_body(self) -> Any:
        """The body parsed as JSON; `BadRequestError` if it is not JSON."""
        if self._json_body is None:
            try:
                self._json_body = json.loads(self.body)
            except ValueError as exc:
                raise BadRequestError("Error Parsing JSON") from exc
        return self._json_body


class _WebsocketConfig:
    """A registered WebSocket handler: its route key, name and Lambda handler string."""

    route_key_handled: str = ""
    kind = "websocket"

    def __init__(self, name: str, handler_string: str, user_handler: Callable[..., Any]) -> None:
        self.name = name
        self.handler_string = handler_string
        self.handler_function = user_handler
        # An instance attribute, so the app manifest (vars()) carries it.
        self.route_key_handled = type(self).route_key_handled

    @property
    def function_name(self) -> str:
        return WEBSOCKET_FUNCTION_NAMES[self.route_key_handled]

    @property
    def decorator_name(self) -> str:
        return _DECORATORS[self.route_key_handled]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, route_key_handled="
            f"{self.route_key_handled!r}, handler_string={self.handler_string!r})"
        )


class WebsocketConnectConfig(_WebsocketConfig):
    """`@app.on_ws_connect()`: the `$connect` route."""

    CONNECT_ROUTE = CONNECT_ROUTE
    route_key_handled = CONNECT_ROUTE


class WebsocketMessageConfig(_WebsocketConfig):
    """`@app.on_ws_message()`: the `$default` route (every message)."""

    def __init__(
        self,
        name: str,
        route_key_handled: str,
        handler_string: str,
        user_handler: Callable[..., Any],
    ) -> None:
        super().__init__(name, handler_string, user_handler)
        self.route_key_handled = route_key_handled


class WebsocketDisconnectConfig(_WebsocketConfig):
    """`@app.on_ws_disconnect()`: the `$disconnect` route."""

    DISCONNECT_ROUTE = DISCONNECT_ROUTE
    route_key_handled = DISCONNECT_ROUTE


def create_config(route_key: str, name: str, handler_string: str, func: Any) -> _WebsocketConfig:
    if route_key == CONNECT_ROUTE:
        return WebsocketConnectConfig(name, handler_string, func)
    if route_key == DISCONNECT_ROUTE:
        return WebsocketDisconnectConfig(name, handler_string, func)
    return WebsocketMessageConfig(name, route_key, handler_string, func)


class WebsocketEventSourceHandler(EventSourceHandler):
    """The Lambda handler a WebSocket decorator returns.

    Before the user's function runs, `websocket_api` is pointed at the API the event
    came from: on AWS by its API id and this function's region, as Chalice does (it
    works behind a custom domain too); under `lambic local` by the event's loopback
    domainName, where the local `@connections` API listens.
    """

    WEBSOCKET_API_RESPONSE = {"statusCode": 200}

    def __init__(
        self,
        func: Callable[[Any], Any],
        event_class: Callable[[dict[str, Any], Any], Any],
        websocket_api: WebsocketAPI | None,
        middleware_handlers: Callable[[], Any] | list[MiddlewareFunc] | None = None,
    ) -> None:
        super().__init__(func, event_class, middleware_handlers)
        self.websocket_api = websocket_api

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        api = self.websocket_api
        if api is not None:
            request_context = event["requestContext"]
            domain = request_context.get("domainName") or ""
            if is_local_domain(domain):
                api.configure(domain, request_context["stage"])
            else:
                api.configure_from_api_id(request_context["apiId"], request_context["stage"])
        response = super().__call__(event, context)
        if isinstance(response, Response):
            return response.to_dict()
        if isinstance(response, dict):
            if "statusCode" not in response:
                return {**self.WEBSOCKET_API_RESPONSE, **response}
            return response
        return dict(self.WEBSOCKET_API_RESPONSE)


def _request_time(epoch_ms: int) -> str:
    # API Gateway's requestTime: "20/Jan/2024:11:55:00 +0000" (English month names).
    t = time.gmtime(epoch_ms / 1000)
    month = _MONTHS[t.tm_mon - 1]
    return (
        f"{t.tm_mday:02d}/{month}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EVENT_TYPES = {CONNECT_ROUTE: "CONNECT", DISCONNECT_ROUTE: "DISCONNECT"}


def create_websocket_event(
    route_key: str,
    *,
    connection_id: str,
    connected_at_ms: int,
    domain_name: str,
    stage: str,
    api_id: str,
    request_id: str,
    extended_request_id: str,
    now_ms: int,
    source_ip: str,
    user_agent: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    query: list[tuple[str, str]] | None = None,
    body: str | None = None,
    is_base64: bool = False,
    message_id: str | None = None,
    disconnect_status: int | None = None,
    disconnect_reason: str = "",
) -> dict[str, Any]:
    """An API Gateway WebSocket event for a Lambda proxy integration.

    `$connect` carries the handshake's headers and query string; a message carries
    `messageId` and the body (base64 for a binary frame); `$disconnect` carries the
    close code and reason and the few headers API Gateway adds itself.

        >>> e = create_websocket_event("$default", connection_id="c=", connected_at_ms=0,
        ...     domain_name="127.0.0.1:8001", stage="api", api_id="a", request_id="r",
        ...     extended_request_id="r", now_ms=0, source_ip="127.0.0.1", body="hi",
        ...     message_id="m=")
        >>> e["requestContext"]["eventType"], e["body"]
        ('MESSAGE', 'hi')
    """
    identity: dict[str, Any] = {"sourceIp": source_ip}
    if user_agent is not None:
        identity = {"userAgent": user_agent, "sourceIp": source_ip}
    context: dict[str, Any] = {"routeKey": route_key}
    event_type = _EVENT_TYPES.get(route_key, "MESSAGE")
    if event_type == "MESSAGE":
        context["messageId"] = message_id
    elif event_type == "DISCONNECT":
        context["disconnectStatusCode"] = disconnect_status
    context.update(
        eventType=event_type,
        extendedRequestId=extended_request_id,
        requestTime=_request_time(now_ms),
        messageDirection="IN",
    )
    if event_type == "DISCONNECT":
        context["disconnectReason"] = disconnect_reason
    context.update(
        stage=stage,
        connectedAt=connected_at_ms,
        requestTimeEpoch=now_ms,
        identity=identity,
        requestId=request_id,
        domainName=domain_name,
        connectionId=connection_id,
        apiId=api_id,
    )
    event: dict[str, Any] = {}
    if headers is not None:
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in headers:
            single[name] = value
            multi.setdefault(name, []).append(value)
        event["headers"] = single
        event["multiValueHeaders"] = multi
    if query:
        event["queryStringParameters"] = {k: v for k, v in query}
        multi_query: dict[str, list[str]] = {}
        for k, v in query:
            multi_query.setdefault(k, []).append(v)
        event["multiValueQueryStringParameters"] = multi_query
    event["requestContext"] = context
    if event_type == "MESSAGE":
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    return event
