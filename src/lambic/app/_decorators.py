"""The decorators `Lambic` and `Blueprint` share; each implements the registration.

A decorator wraps the user's function into the Lambda handler it stands for and hands
both to `_register_handler`, which `Lambic` performs at once and `Blueprint` defers
until `app.register_blueprint`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambic.app.authorizers import ChaliceAuthorizer
from lambic.app.middleware import EVENT_TYPES, MiddlewareFunc

__all__ = ["DecoratorAPI"]

UserHandler = Callable[..., Any]


def check_event_type(event_type: str) -> None:
    """Raise ValueError for a middleware event type no handler would ever match."""
    if event_type not in EVENT_TYPES:
        raise ValueError(
            f"Unknown middleware event type {event_type!r}; use one of "
            f"{', '.join(sorted(EVENT_TYPES))}"
        )


class DecoratorAPI:
    """`route`, `authorizer` and `middleware`; subclasses implement the registration."""

    def middleware(self, event_type: str = "all") -> Callable[[MiddlewareFunc], MiddlewareFunc]:
        """Register the decorated function as middleware for `event_type`."""
        check_event_type(event_type)

        def decorator(func: MiddlewareFunc) -> MiddlewareFunc:
            self.register_middleware(func, event_type)
            return func

        return decorator

    def register_middleware(self, func: MiddlewareFunc, event_type: str = "all") -> None:
        raise NotImplementedError("register_middleware")

    def route(self, path: str, **kwargs: Any) -> Callable[[UserHandler], UserHandler]:
        """Register the decorated function as the view for `path`.

        Keyword arguments: methods (default ["GET"]), name, cors (bool or CORSConfig),
        content_types (default ["application/json"]), authorizer, api_key_required.

            @app.route("/users/{id}", methods=["GET", "PUT"], cors=True)
            def user(id): ...
        """
        name = kwargs.pop("name", None)

        def decorator(user_handler: UserHandler) -> UserHandler:
            handler_name = user_handler.__name__ if name is None else name
            self._register_handler(
                "route",
                handler_name,
                user_handler,
                user_handler,
                {"path": path, "kwargs": dict(kwargs)},
            )
            return user_handler

        return decorator

    def authorizer(
        self,
        ttl_seconds: int | None = None,
        execution_role: str | None = None,
        name: str | None = None,
        header: str = "Authorization",
    ) -> Callable[[UserHandler], ChaliceAuthorizer]:
        """Register the decorated function as a built-in (Lambda TOKEN) authorizer."""

        def decorator(user_handler: UserHandler) -> ChaliceAuthorizer:
            handler_name = user_handler.__name__ if name is None else name
            wrapped = ChaliceAuthorizer(handler_name, user_handler)
            self._register_handler(
                "authorizer",
                handler_name,
                user_handler,
                wrapped,
                {"ttl_seconds": ttl_seconds, "execution_role": execution_role, "header": header},
            )
            return wrapped

        return decorator

    def on_ws_connect(self, name: str | None = None) -> Callable[[UserHandler], Any]:
        """Run the decorated function for each new WebSocket connection (`$connect`).

        A non-2xx answer (or an exception) refuses the connection, as API Gateway does.
        """
        return self._websocket_decorator("$connect", name)

    def on_ws_message(self, name: str | None = None) -> Callable[[UserHandler], Any]:
        """Run the decorated function for each WebSocket message (`$default`)."""
        return self._websocket_decorator("$default", name)

    def on_ws_disconnect(self, name: str | None = None) -> Callable[[UserHandler], Any]:
        """Run the decorated function once a WebSocket connection has closed."""
        return self._websocket_decorator("$disconnect", name)

    def _websocket_decorator(
        self, route_key: str, name: str | None
    ) -> Callable[[UserHandler], Any]:
        # Loaded on first use, like the other event decorators (cold starts).
        from lambic.app.websockets import WebsocketEvent, WebsocketEventSourceHandler

        def decorator(user_handler: UserHandler) -> Any:
            handler_name = user_handler.__name__ if name is None else name
            # The app gives it its websocket_api and middleware when it registers it.
            wrapped = WebsocketEventSourceHandler(user_handler, WebsocketEvent, None, [])
            self._register_handler(
                "websocket",
                handler_name,
                user_handler,
                wrapped,
                {"route_key": route_key, "middleware_type": "websocket"},
            )
            return wrapped

        return decorator

    def _register_handler(
        self,
        handler_type: str,
        name: str,
        user_handler: UserHandler,
        wrapped_handler: Any,
        kwargs: dict[str, Any],
        options: dict[str, Any] | None = None,
    ) -> None:
        raise NotImplementedError("_register_handler")
