"""Blueprints: handlers declared in another module and added to the app later.

    # users.py
    bp = Blueprint(__name__)

    @bp.route("/{id}")
    def get_user(id): ...

    # app.py
    app.register_blueprint(bp, url_prefix="/users", name_prefix="users_")

Everything a blueprint declares is recorded and replayed on the app by
`register_blueprint`, with the URL prefix, the name prefix and the blueprint's module
as the handler's module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambic.app._decorators import DecoratorAPI, UserHandler, check_event_type
from lambic.app.middleware import EventSourceHandler, MiddlewareFunc

if TYPE_CHECKING:
    from lambic.app.application import Lambic
    from lambic.app.event_sources import EventSourceDecorators as EventSourceMixin
    from lambic.app.requests import Request
else:
    # The event decorators load on first use; see lambic.app._lazy.
    from lambic.app._lazy import LazyEventSourceDecorators as EventSourceMixin

__all__ = ["Blueprint"]

_Deferred = Callable[["Lambic", dict[str, Any]], None]


class Blueprint(EventSourceMixin, DecoratorAPI):
    """A group of handlers registered onto an app with `app.register_blueprint`."""

    def __init__(self, import_name: str, url_prefix: str | None = None) -> None:
        self._import_name = import_name
        self._url_prefix = url_prefix
        self._deferred: list[_Deferred] = []
        self._current_app: Lambic | None = None

    def _app(self, attribute: str) -> Lambic:
        if self._current_app is None:
            raise RuntimeError(
                f"Can only access Blueprint.{attribute} if it's registered to an app; "
                "call app.register_blueprint(bp) first"
            )
        return self._current_app

    @property
    def log(self) -> logging.Logger:
        return self._app("log").log

    @property
    def current_request(self) -> Request:
        request = self._app("current_request").current_request
        if request is None:
            raise RuntimeError(
                "Can only access Blueprint.current_request if it's registered to an app "
                "and a request is being handled"
            )
        return request

    @property
    def current_app(self) -> Lambic:
        return self._app("current_app")

    @property
    def lambda_context(self) -> Any:
        return self._app("lambda_context").lambda_context

    def register(self, app: Lambic, options: dict[str, Any]) -> None:
        """Replay every recorded registration on `app` (use app.register_blueprint)."""
        self._current_app = app
        all_options = dict(options)
        if all_options.get("url_prefix") is None and self._url_prefix is not None:
            all_options["url_prefix"] = self._url_prefix
        all_options["module_name"] = self._import_name
        for deferred in self._deferred:
            deferred(app, all_options)

    def register_middleware(self, func: MiddlewareFunc, event_type: str = "all") -> None:
        """Middleware for the app this blueprint is registered on."""
        check_event_type(event_type)
        self._deferred.append(lambda app, options: app.register_middleware(func, event_type))

    def _register_handler(
        self,
        handler_type: str,
        name: str,
        user_handler: UserHandler,
        wrapped_handler: Any,
        kwargs: dict[str, Any],
        options: dict[str, Any] | None = None,
    ) -> None:
        def replay(app: Lambic, options: dict[str, Any]) -> None:
            if isinstance(wrapped_handler, EventSourceHandler):
                middleware_type = kwargs["middleware_type"]
                wrapped_handler.middleware_handlers = lambda: app._get_middleware_handlers(
                    middleware_type
                )
            app._register_handler(
                handler_type, name, user_handler, wrapped_handler, kwargs, options
            )

        self._deferred.append(replay)

    def _register_event_handler(
        self,
        middleware_type: str,
        name: str | None,
        user_handler: UserHandler,
        func: Callable[[Any], Any],
        event_factory: Callable[[dict[str, Any], Any], Any],
        make_config: Callable[[str, str], Any],
    ) -> Callable[[dict[str, Any], Any], Any]:
        """The hook event-source decorators call (docs/internals.md §1)."""
        check_event_type(middleware_type)
        # No middleware until the blueprint is registered; then the app's applies.
        handler = EventSourceHandler(func, event_factory, [])
        self._register_handler(
            "event",
            user_handler.__name__ if name is None else name,
            user_handler,
            handler,
            {"middleware_type": middleware_type, "make_config": make_config},
        )
        return handler
