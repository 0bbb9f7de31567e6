"""The HTTP request path inside `app(event, context)`, as Chalice's RestAPIEventHandler.

request -> [error guard] -> http middleware... -> dispatch:
    unknown resource (2.0 payload: 404 as HTTP API) -> method check (405) ->
    CORS headers -> Content-Type check (415) -> view ->
    ChaliceViewError -> its status; other exception -> 500 (traceback if debug) ->
    CORS headers added -> binary Accept check (400)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambic.app.errors import ChaliceUnhandledError, ChaliceViewError, RouteError
from lambic.app.responses import HeadersType, Response, error_response
from lambic.app.responses import matches_cached as _matches

if TYPE_CHECKING:
    from lambic.app.requests import Request
    from lambic.app.routing import RouteEntry

__all__ = ["Dispatcher"]


class Dispatcher:
    """Runs one request through the view table; built once per app, reused per call."""

    __slots__ = ("_app",)

    def __init__(self, app: Any) -> None:
        self._app = app

    def guard(self, request: Request, get_response: Callable[[Request], Response]) -> Response:
        """Outermost middleware: anything escaping the chain becomes a 500."""
        try:
            return get_response(request)
        except Exception:
            return self.unhandled(request)

    def dispatch(self, request: Request) -> Response:
        app = self._app
        methods: dict[str, RouteEntry] = app.routes.get(request.path) or {}
        if not methods and request.payload_version == "2.0":
            # A Function URL or $default route hands every path to the function; answer an
            # unknown one as HTTP API answers a request no route matches.
            return Response(
                body={"message": "Not Found"},
                status_code=404,
                headers={"Content-Type": "application/json"},
            )
        entry = methods.get(request.method) or methods.get("ANY")
        if entry is None:
            return error_response(
                error_code="MethodNotAllowedError",
                message=f"Unsupported method: {request.method}",
                http_status_code=405,
                headers={"Allow": ", ".join(methods)},
            )
        params = request.uri_params
        if entry.view_args:
            if params is None:
                raise RouteError(
                    f"Event for route {entry.uri_pattern} carries no pathParameters; "
                    f"expected {', '.join(entry.view_args)}"
                )
            args = {name: params[name] for name in entry.view_args}
        else:
            args = {}
        cors_headers = None if entry.cors is None else entry.cors.get_access_control_headers()
        if entry.content_types:
            content_type = request.headers.get("content-type", "application/json")
            if not _matches(content_type, tuple(entry.content_types)):
                return error_response(
                    error_code="UnsupportedMediaType",
                    message=f"Unsupported media type: {content_type}",
                    http_status_code=415,
                    headers=dict(cors_headers) if cors_headers else None,
                )
        response = self._call_view(request, entry.view_function, args)
        if cors_headers is not None:
            headers = response.headers
            for name, value in cors_headers.items():
                if name not in headers:
                    headers[name] = value
        # HTTP APIs and Function URLs pass binary bodies whatever the Accept header.
        if request.payload_version == "1.0":
            rejected = self._check_binary_accept(request, response)
            if rejected is not None:
                if cors_headers:
                    rejected.headers.update(cors_headers)
                return rejected
        return response

    def _check_binary_accept(self, request: Request, response: Response) -> Response | None:
        # Through a REST API a binary response needs an Accept header naming a binary
        # type, else API Gateway cannot convert it; Chalice answers 400 up front.
        binary_types = tuple(self._app.api.binary_types)
        if not binary_types:
            return None
        content_type = "application/json"
        if response.headers:
            for name, value in response.headers.items():
                if name.lower() == "content-type":
                    content_type = value if isinstance(value, str) else value[-1]
                    break
        if not _matches(content_type, binary_types):
            return None
        accept = request.headers.get("accept")
        if accept is not None and _matches(accept, binary_types):
            return None
        return error_response(
            error_code="BadRequest",
            message=(
                f"Request did not specify an Accept header with {content_type}, "
                f"The response has a Content-Type of {content_type}. If a response has a "
                "binary Content-Type then the request must specify an Accept header "
                "that matches."
            ),
            http_status_code=400,
        )

    def _call_view(
        self, request: Request, view: Callable[..., Any], args: dict[str, str]
    ) -> Response:
        try:
            response = view(**args)
            if not isinstance(response, Response):
                return Response(body=response)
            for name, value in response.headers.items():
                if "\n" in value:
                    # API Gateway rejects such headers; fail here with the name.
                    raise RouteError(f"Bad value for header '{name}': {value!r}")
            return response
        except ChaliceUnhandledError:
            # Left to propagate so middleware can handle it.
            raise
        except ChaliceViewError as exc:
            return Response(
                body={"Code": exc.__class__.__name__, "Message": str(exc)},
                status_code=exc.STATUS_CODE,
            )
        except Exception:
            return self.unhandled(request)

    def unhandled(self, request: Request | None) -> Response:
        """The 500 for an unexpected exception (a traceback body when debug is on)."""
        app = self._app
        log: logging.Logger = app.log
        path = getattr(request, "path", "unknown")
        log.error("Caught exception for path %s", path, exc_info=True)
        headers: HeadersType = {}
        body: Any
        if app.debug:
            import traceback

            body = traceback.format_exc()
            headers["Content-Type"] = "text/plain"
        else:
            body = {"Code": "InternalServerError", "Message": "An internal server error occurred."}
        return Response(body=body, headers=headers, status_code=500)
