"""Middleware: functions wrapped around every handler of an event type.

A middleware takes the event object and `get_response`, and returns what the handler
chain returns; for HTTP the event is the `Request` and the result a `Response`:

    @app.middleware("http")
    def timing(event, get_response):
        response = get_response(event)
        response.headers["X-Took"] = "fast"
        return response

Event types: "http", "s3", "sqs", "sns", "scheduled", "cloudwatch", "kinesis",
"dynamodb", "pure_lambda", "websocket", and "all". Middleware registered after a
handler still applies to it: chains are built at the first invocation.
`ConvertToMiddleware(wrapper)` turns an ordinary `(event, context)` Lambda decorator
into a middleware.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "EVENT_TYPES",
    "ConvertToMiddleware",
    "EventSourceHandler",
    "MiddlewareFunc",
    "build_chain",
]

MiddlewareFunc = Callable[[Any, Callable[[Any], Any]], Any]

EVENT_TYPES = frozenset(
    {
        "all",
        "http",
        "s3",
        "sqs",
        "sns",
        "scheduled",
        "cloudwatch",
        "kinesis",
        "dynamodb",
        "pure_lambda",
        "websocket",
    }
)


def build_chain(
    middleware: Iterable[MiddlewareFunc], handler: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """Compose middleware so the first registered runs outermost."""
    current = handler
    for func in reversed(list(middleware)):
        current = _link(func, current)
    return current


def _link(func: MiddlewareFunc, next_handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # Positional call: users name the second parameter as they like (Chalice passes it
    # positionally too).
    def call(event: Any) -> Any:
        return func(event, next_handler)

    return call


class EventSourceHandler:
    """The Lambda handler an event-source decorator returns.

    Builds the typed event object from (event, context) and runs it through the
    middleware for its event type, then the user's function.
    """

    def __init__(
        self,
        func: Callable[[Any], Any],
        event_factory: Callable[[dict[str, Any], Any], Any],
        middleware_handlers: Iterable[MiddlewareFunc]
        | Callable[[], Iterable[MiddlewareFunc]]
        | None = None,
    ) -> None:
        self.func = func
        self.event_class = event_factory
        self._middleware = middleware_handlers
        self.handler: Callable[[Any], Any] | None = None

    @property
    def middleware_handlers(self) -> list[MiddlewareFunc]:
        source = self._middleware
        if source is None:
            return []
        if callable(source):
            return list(source())
        return list(source)

    @middleware_handlers.setter
    def middleware_handlers(
        self, value: Iterable[MiddlewareFunc] | Callable[[], Iterable[MiddlewareFunc]]
    ) -> None:
        self._middleware = value
        self.handler = None

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        handler = self.handler
        if handler is None:
            # Built at the first call so middleware registered later still applies.
            handler = self.handler = build_chain(self.middleware_handlers, self.func)
        return handler(self.event_class(event, context))


class ConvertToMiddleware:
    """Adapt a `(event, context)` Lambda decorator into a middleware.

        app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))

    The wrapper sees the original Lambda event and context; the rest of the chain
    runs when it calls the function it wrapped.
    """

    def __init__(self, lambda_wrapper: Callable[..., Any]) -> None:
        self._wrapper = lambda_wrapper

    def __call__(self, event: Any, get_response: Callable[[Any], Any]) -> Any:
        original_event, context = _original(event)

        @functools.wraps(self._wrapper)
        def wrapped(original_event: Any, context: Any) -> Any:
            return get_response(event)

        return self._wrapper(wrapped)(original_event, context)


def _original(event: Any) -> tuple[Any, Any]:
    to_original = getattr(event, "to_original_event", None)
    if to_original is not None:
        return to_original(), getattr(event, "lambda_context", None)
    return event.to_dict(), getattr(event, "context", None)
