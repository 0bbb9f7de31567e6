"""`Lambic`, the application object: registry of handlers and the HTTP Lambda handler.

    from lambic import Lambic

    app = Lambic("shop")

    @app.route("/items/{id}")
    def item(id):
        return {"id": id}

`app(event, context)` handles API Gateway REST (v1), HTTP API (v2) and Function URL
events and returns the proxy response in the event's own format. `Chalice` is an
alias, so a Chalice app ports by changing its import line.
"""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lambic.app._decorators import DecoratorAPI, UserHandler, check_event_type
from lambic.app._dispatch import Dispatcher
from lambic.app._proxy_formats import is_v2_event, v1_response_to_v2, v2_event_to_v1
from lambic.app.authorizers import BuiltinAuthConfig, ChaliceAuthorizer
from lambic.app.cors import CORSConfig, preflight_headers
from lambic.app.errors import RouteError
from lambic.app.middleware import EventSourceHandler, MiddlewareFunc, build_chain
from lambic.app.requests import Request
from lambic.app.responses import error_response
from lambic.app.routing import (
    ResourceTree,
    RouteEntry,
    RouteMatch,
    check_sibling_params,
    join_url_prefix,
    validate_route_path,
)

if TYPE_CHECKING:
    from lambic.app.blueprints import Blueprint
    from lambic.app.event_sources import EventSourceDecorators as EventSourceMixin
    from lambic.app.websocket_api import WebsocketAPI
else:
    # The event decorators load on first use; see lambic.app._lazy.
    from lambic.app._lazy import LazyEventSourceDecorators as EventSourceMixin

__all__ = ["APIGateway", "Chalice", "Lambic"]

_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
_ROUTE_KWARGS = frozenset({"methods", "authorizer", "api_key_required", "content_types", "cors"})


class APIGateway:
    """API-wide settings: binary media types and the default CORS setting."""

    # Chalice's default binaryMediaTypes; we mirror them.
    _DEFAULT_BINARY_TYPES = (
        "application/octet-stream",
        "application/x-tar",
        "application/zip",
        "audio/basic",
        "audio/ogg",
        "audio/mp4",
        "audio/mpeg",
        "audio/wav",
        "audio/webm",
        "image/png",
        "image/jpg",
        "image/jpeg",
        "image/gif",
        "video/ogg",
        "video/mpeg",
        "video/webm",
    )

    def __init__(self) -> None:
        self.binary_types: list[str] = self.default_binary_types
        self.cors: bool | CORSConfig = False

    @property
    def default_binary_types(self) -> list[str]:
        return list(self._DEFAULT_BINARY_TYPES)


class Lambic(EventSourceMixin, DecoratorAPI):
    """The application: decorators register handlers; calling it handles HTTP events."""

    FORMAT_STRING = "%(name)s - %(levelname)s - %(message)s"

    def __init__(self, app_name: str, debug: bool = False, configure_logs: bool = True) -> None:
        self.app_name = app_name
        self.routes: dict[str, dict[str, RouteEntry]] = defaultdict(dict)
        self.websocket_handlers: dict[str, Any] = {}
        self.builtin_auth_handlers: list[BuiltinAuthConfig] = []
        self.event_sources: list[Any] = []
        self.pure_lambda_functions: list[Any] = []
        self.api = APIGateway()
        self.handler_map: dict[str, Callable[..., Any]] = {}
        self.middleware_handlers: list[tuple[MiddlewareFunc, str]] = []
        self.current_request: Request | None = None
        self.lambda_context: Any = None
        self.configure_logs = configure_logs
        #: Chalice's opt-in flags for experimental features: an app using WebSockets
        #: must add "WEBSOCKETS" (checked when the project is read, as Chalice does).
        self.experimental_feature_flags: set[str] = set()
        # Experimental features this app uses (Chalice's internal name).
        self._features_used: set[str] = set()
        self._websocket_api: WebsocketAPI | None = None
        self.log = logging.getLogger(app_name)
        self._debug = debug
        self._dispatcher = Dispatcher(self)
        self._http_chain: Callable[[Request], Any] | None = None
        self._tree: ResourceTree | None = None
        if configure_logs:
            self._configure_logging()

    @property
    def websocket_api(self) -> WebsocketAPI:
        """The WebSocket management client (`send`, `close`, `info`), made on first use
        so an app without WebSockets never imports it (cold starts)."""
        api = self._websocket_api
        if api is None:
            from lambic.app.websocket_api import WebsocketAPI

            api = self._websocket_api = WebsocketAPI()
        return api

    @websocket_api.setter
    def websocket_api(self, value: WebsocketAPI) -> None:
        self._websocket_api = value

    # -- logging (Chalice: stdout, "name - LEVEL - msg", ERROR unless debug) --------

    @property
    def debug(self) -> bool:
        return self._debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self._debug = value
        self._configure_log_level()

    def _configure_logging(self) -> None:
        for handler in self.log.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                return
        handler = logging.StreamHandler(sys.stdout)
        # Lambda timestamps every log line itself, so the format carries none.
        handler.setFormatter(logging.Formatter(self.FORMAT_STRING))
        self.log.propagate = False
        self._configure_log_level()
        self.log.addHandler(handler)

    def _configure_log_level(self) -> None:
        self.log.setLevel(logging.DEBUG if self._debug else logging.ERROR)

    # -- registration ----------------------------------------------------------------

    def register_blueprint(
        self,
        blueprint: Blueprint,
        name_prefix: str | None = None,
        url_prefix: str | None = None,
    ) -> None:
        """Add a blueprint's handlers, optionally under a URL and a name prefix."""
        blueprint.register(self, {"name_prefix": name_prefix, "url_prefix": url_prefix})

    def register_middleware(self, func: MiddlewareFunc, event_type: str = "all") -> None:
        """Run `func` around every handler of `event_type` ("http", "sqs", ..., "all")."""
        check_event_type(event_type)
        self.middleware_handlers.append((func, event_type))
        self._http_chain = None

    def _get_middleware_handlers(self, event_type: str) -> Iterator[MiddlewareFunc]:
        return (f for f, kind in self.middleware_handlers if kind in (event_type, "all"))

    def _register_handler(
        self,
        handler_type: str,
        name: str,
        user_handler: UserHandler,
        wrapped_handler: Any,
        kwargs: dict[str, Any],
        options: dict[str, Any] | None = None,
    ) -> None:
        module_name = "app"
        if options is not None:
            if options.get("name_prefix") is not None:
                name = options["name_prefix"] + name
            if options.get("url_prefix") is not None and handler_type == "route":
                kwargs = {**kwargs, "url_prefix": options["url_prefix"]}
            module_name = options["module_name"]
        handler_string = f"{module_name}.{user_handler.__name__}"
        if handler_type == "route":
            self._register_route(name, user_handler, kwargs)
        elif handler_type == "authorizer":
            self._register_authorizer(name, handler_string, wrapped_handler, kwargs)
        elif handler_type == "event":
            self._register_event_source(name, handler_string, kwargs)
        elif handler_type == "websocket":
            self._register_websocket(name, handler_string, user_handler, wrapped_handler, kwargs)
        else:
            raise ValueError(f"Unknown handler type {handler_type!r}")
        self.handler_map[name] = wrapped_handler

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
        handler = EventSourceHandler(
            func, event_factory, lambda: self._get_middleware_handlers(middleware_type)
        )
        self._register_handler(
            "event",
            user_handler.__name__ if name is None else name,
            user_handler,
            handler,
            {"middleware_type": middleware_type, "make_config": make_config},
        )
        return handler

    def _register_event_source(
        self, name: str, handler_string: str, kwargs: dict[str, Any]
    ) -> None:
        config = kwargs["make_config"](name, handler_string)
        if kwargs["middleware_type"] == "pure_lambda":
            self.pure_lambda_functions.append(config)
        else:
            self.event_sources.append(config)

    def _register_websocket(
        self,
        name: str,
        handler_string: str,
        user_handler: UserHandler,
        wrapped: Any,
        kwargs: dict[str, Any],
    ) -> None:
        from lambic.app.websockets import create_config

        config = create_config(kwargs["route_key"], name, handler_string, user_handler)
        if config.route_key_handled in self.websocket_handlers:
            # Chalice's message, word for word.
            raise ValueError(
                f"Duplicate websocket handler: '{config.decorator_name}'. There can only be "
                "one handler for each websocket decorator."
            )
        self._features_used.add("WEBSOCKETS")
        wrapped.websocket_api = self.websocket_api
        wrapped.middleware_handlers = lambda: self._get_middleware_handlers("websocket")
        self.websocket_handlers[config.route_key_handled] = config

    def _register_authorizer(
        self,
        name: str,
        handler_string: str,
        wrapped: ChaliceAuthorizer,
        kwargs: dict[str, Any],
    ) -> None:
        config = BuiltinAuthConfig(
            name=name,
            handler_string=handler_string,
            ttl_seconds=kwargs.get("ttl_seconds"),
            execution_role=kwargs.get("execution_role"),
            header=kwargs.get("header") or "Authorization",
        )
        wrapped.config = config
        self.builtin_auth_handlers.append(config)

    def _register_route(self, name: str, user_handler: UserHandler, kwargs: dict[str, Any]) -> None:
        route_kwargs = dict(kwargs["kwargs"])
        path: str = kwargs["path"]
        url_prefix = kwargs.get("url_prefix")
        if url_prefix is not None:
            path = join_url_prefix(url_prefix, path)
        unexpected = [k for k in route_kwargs if k not in _ROUTE_KWARGS]
        if unexpected:
            # Chalice's message, word for word.
            raise TypeError(
                f"TypeError: route() got unexpected keyword arguments: {', '.join(unexpected)}"
            )
        validate_route_path(path)
        methods = route_kwargs.get("methods", ["GET"])
        if isinstance(methods, str):
            raise RouteError(f'In view function "{name}", methods must be a list: ["{methods}"]')
        content_types = route_kwargs.get("content_types", ["application/json"])
        if not isinstance(content_types, list):
            raise ValueError(
                f'In view function "{name}", the content_types value must be a list, '
                f"not {type(content_types)}: {content_types}"
            )
        cors = route_kwargs.get("cors", self.api.cors)
        if cors is None:
            cors = self.api.cors
        cors_config = CORSConfig() if cors is True else (cors or None)
        if path not in self.routes:
            check_sibling_params([p for p in self.routes if self.routes[p]], path)
        existing = self.routes.get(path) or {}
        new_entries: dict[str, RouteEntry] = {}
        for raw_method in methods:
            method = str(raw_method).upper()
            if method not in _HTTP_METHODS:
                raise RouteError(
                    f'In view function "{name}", unsupported HTTP method {raw_method!r}; '
                    f"use one of {', '.join(sorted(_HTTP_METHODS))}"
                )
            if method in existing or method in new_entries:
                other = (existing.get(method) or new_entries[method]).view_name
                raise RouteError(
                    f"Duplicate method: '{method}' detected for route: '{path}'\n"
                    f'between view functions: "{other}" and "{name}". A specific '
                    "method may only be specified once for a particular path."
                )
            new_entries[method] = RouteEntry(
                user_handler,
                name,
                path,
                method,
                api_key_required=route_kwargs.get("api_key_required"),
                content_types=content_types,
                cors=cors_config,
                authorizer=route_kwargs.get("authorizer"),
            )
        _check_cors({**existing, **new_entries}, path)
        self.routes[path].update(new_entries)
        self._tree = None

    # -- lookups for other layers ----------------------------------------------------

    def _resource_tree(self) -> ResourceTree:
        tree = self._tree
        if tree is None:
            tree = self._tree = ResourceTree(p for p, m in self.routes.items() if m)
        return tree

    def match_route(self, method: str, path: str) -> RouteMatch[RouteEntry] | None:
        """Resolve a request the way API Gateway does (see lambic.app.routing)."""
        found = self._resource_tree().find(path)
        if found is None:
            return None
        resource, params = found
        methods = self.routes[resource]
        entry = methods.get(method.upper()) or methods.get("ANY")
        return RouteMatch(entry=entry, resource_path=resource, path_params=params)

    def preflight_response(self, resource_path: str) -> dict[str, Any]:
        """The response API Gateway's generated OPTIONS method gives for a resource."""
        methods = self.routes.get(resource_path) or {}
        with_cors = [m for m, e in methods.items() if e.cors is not None]
        cors = methods[with_cors[0]].cors if with_cors else None
        return {
            "statusCode": 200,
            "headers": preflight_headers(cors, with_cors),
            "multiValueHeaders": {},
            "body": None,
        }

    # -- the Lambda handler ------------------------------------------------------------

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.lambda_context = context
        v2 = is_v2_event(event)
        rest_event = v2_event_to_v1(event, self._resource_tree().find, self.routes) if v2 else event
        request_context = rest_event.get("requestContext") or {}
        resource = request_context.get("resourcePath") or rest_event.get("resource")
        if resource is None:
            # Not a proxy event (e.g. an S3 event sent to the API handler): Chalice
            # answers 500 "Unknown request."; we mirror it.
            self.current_request = None
            unknown = error_response("Unknown request.", "InternalServerError", 500)
            return unknown.to_dict(self.api.binary_types)
        if resource not in self.routes:
            rest_event = self._resolve_by_path(rest_event)
        request = self.current_request = Request(rest_event, context, event if v2 else None)
        chain = self._http_chain
        if chain is None:
            chain = self._http_chain = build_chain(
                [self._dispatcher.guard, *self._get_middleware_handlers("http")],
                self._dispatcher.dispatch,
            )
        response = chain(request).to_dict(self.api.binary_types)
        return v1_response_to_v2(response) if v2 else response

    def _resolve_by_path(self, event: dict[str, Any]) -> dict[str, Any]:
        # A resource this app does not declare (e.g. a catch-all "/{proxy+}" in front of
        # it): find the route from the request path instead.
        path = event.get("path")
        found = self._resource_tree().find(path) if isinstance(path, str) else None
        if found is None:
            return event
        resource, params = found
        context = dict(event.get("requestContext") or {})
        context["resourcePath"] = resource
        return {
            **event,
            "resource": resource,
            "pathParameters": params or None,
            "requestContext": context,
        }


#: Chalice's name for the application class.
Chalice = Lambic


def _check_cors(entries: dict[str, RouteEntry], path: str) -> None:
    with_cors = [e for e in entries.values() if e.cors is not None]
    if not with_cors:
        return
    if "OPTIONS" in entries:
        raise RouteError(
            "Route entry cannot have both cors=True and methods=['OPTIONS', ...] configured.  "
            "When CORS is enabled, an OPTIONS method is automatically added for you.  "
            f"Please remove 'OPTIONS' from the list of configured HTTP methods for: {path}"
        )
    if any(e.cors != with_cors[0].cors for e in with_cors):
        raise RouteError(
            "Route may not have multiple differing CORS configurations. Please ensure all "
            f'views for "{path}" that have CORS configured have the same CORS configuration.'
        )
