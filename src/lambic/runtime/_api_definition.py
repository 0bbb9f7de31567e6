"""The gateway's view of an app: its route table, CORS preflights and authorizers.

`create_api_definition` builds one immutable `ApiDefinition` from the manifest's route
table when `lambic local` starts and again on each reload; `GatewayApp` (in
`gateway`) reads one snapshot per request, so a reload never changes a request in
flight. Nothing here runs per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambic.app.cors import CORSConfig, resource_preflight
from lambic.app.routing import RouteMatcher

if TYPE_CHECKING:
    from lambic.runtime.authorization import AuthorizerSpec

__all__ = ["ApiDefinition", "HeaderList", "create_api_definition"]

HeaderList = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class ApiDefinition:
    """One immutable snapshot of the API; a reload swaps in a new one atomically."""

    function_name: str
    stage: str
    matcher: RouteMatcher
    binary_types: tuple[str, ...] = ()
    # Resource path -> the headers of its CORS preflight (MOCK OPTIONS) answer.
    preflight: Mapping[str, HeaderList] = field(default_factory=dict)
    route_count: int = 0
    # The API function's timeout (s): when it cannot outlast the integration timeout,
    # the gateway needs no timer of its own.
    function_timeout: float | None = None
    # Resource path -> method -> the authorizer protecting it (unprotected: absent).
    authorizers: Mapping[str, Mapping[str, AuthorizerSpec]] = field(default_factory=dict)


def _access_control_headers(info: Any) -> Mapping[str, str] | None:
    """One method's CORS response headers from its manifest route info, or None."""
    cors = info.get("cors") if isinstance(info, Mapping) else getattr(info, "cors", None)
    if not cors:
        return None
    if not isinstance(cors, Mapping):  # `cors=True` in a hand-written table
        return CORSConfig().get_access_control_headers()
    # The manifest carries the ready `Access-Control-*` headers; older producers (and
    # hand-written tables) give CORSConfig's public fields instead: accept both.
    if any(str(k).startswith("Access-Control-") for k in cors):
        return {str(k): str(v) for k, v in cors.items() if str(k).startswith("Access-Control-")}
    return CORSConfig(
        allow_origin=str(cors.get("allow_origin", "*")),
        allow_headers=cors.get("allow_headers") or None,
        expose_headers=cors.get("expose_headers") or None,
        max_age=cors.get("max_age"),
        allow_credentials=cors.get("allow_credentials"),
    ).get_access_control_headers()


def create_api_definition(
    routes: Mapping[str, Mapping[str, Any]],
    *,
    function_name: str,
    stage: str,
    binary_types: Iterable[str] = (),
    function_timeout: float | None = None,
    authorizers: Mapping[str, Mapping[str, AuthorizerSpec]] | None = None,
) -> ApiDefinition:
    """Build the gateway's view of an app from its manifest route table.

    `routes` maps resource paths to methods to route info, each an object with an
    optional `cors` attribute or key (the manifest's `RouteInfo` or plain dicts).
    Preflight answers come from `lambic.app.cors.resource_preflight`, the function
    `route_table(app)` uses, so `lambic local` and the registry agree by construction.

        >>> api = create_api_definition({"/": {"GET": {}}}, function_name="a-dev", stage="api")
        >>> api.matcher.match("GET", "/").resource_path
        '/'
    """
    preflight: dict[str, HeaderList] = {}
    for path, methods in routes.items():
        headers = resource_preflight({m: _access_control_headers(i) for m, i in methods.items()})
        if headers is not None:
            preflight[path] = [(k.encode(), v.encode()) for k, v in headers.items()]
    return ApiDefinition(
        function_name=function_name,
        stage=stage,
        matcher=RouteMatcher({path: list(methods) for path, methods in routes.items()}),
        binary_types=tuple(binary_types),
        preflight=preflight,
        route_count=sum(len(methods) for methods in routes.values()),
        function_timeout=function_timeout,
        authorizers=authorizers or {},
    )
