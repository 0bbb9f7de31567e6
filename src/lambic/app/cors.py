"""CORS configuration for routes, with the headers Chalice adds to responses.

    @app.route("/items", cors=CORSConfig(allow_origin="https://example.com", max_age=600))

A route with CORS gets the `Access-Control-*` headers on every response it returns,
and API Gateway answers the preflight `OPTIONS` itself (a MOCK integration) with
those headers plus `Access-Control-Allow-Methods`. `resource_preflight` decides, for
one resource, whether that answer exists and what it carries; it is the one place
that knowledge lives: `route_table(app)` calls it with the registry's `CORSConfig`s,
the local gateway with the ready header dicts the runtime's manifest carries, and both
end in `preflight_headers`, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["CORSConfig", "preflight_headers", "resource_preflight"]


class CORSConfig:
    """A route's CORS settings (Chalice's class, same defaults and header format)."""

    # Chalice always allows these request headers; we mirror it.
    _REQUIRED_HEADERS = (
        "Content-Type",
        "X-Amz-Date",
        "Authorization",
        "X-Api-Key",
        "X-Amz-Security-Token",
    )

    def __init__(
        self,
        allow_origin: str = "*",
        allow_headers: Sequence[str] | None = None,
        expose_headers: Sequence[str] | None = None,
        max_age: int | None = None,
        allow_credentials: bool | None = None,
    ) -> None:
        self.allow_origin = allow_origin
        self._allow_headers = set(self._REQUIRED_HEADERS)
        if allow_headers is not None:
            self._allow_headers.update(allow_headers)
        # Public attributes (Chalice keeps them private) so tools that serialise the
        # registry by attribute, like the runtime's manifest, see the whole config.
        self.expose_headers: list[str] = list(expose_headers or [])
        self.max_age = max_age
        self.allow_credentials = allow_credentials

    @property
    def allow_headers(self) -> str:
        """The `Access-Control-Allow-Headers` value: sorted, comma-joined."""
        return ",".join(sorted(self._allow_headers))

    def get_access_control_headers(self) -> dict[str, str]:
        """The `Access-Control-*` headers every response of the route carries."""
        headers = {
            "Access-Control-Allow-Origin": self.allow_origin,
            "Access-Control-Allow-Headers": self.allow_headers,
        }
        if self.expose_headers:
            headers["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        if self.max_age is not None:
            headers["Access-Control-Max-Age"] = str(self.max_age)
        if self.allow_credentials is True:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def __eq__(self, other: object) -> bool:
        if isinstance(other, self.__class__):
            return self.get_access_control_headers() == other.get_access_control_headers()
        return False

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.get_access_control_headers().items())))

    def __repr__(self) -> str:
        return f"CORSConfig({self.get_access_control_headers()!r})"


def preflight_headers(
    cors: CORSConfig | Mapping[str, str] | None, methods_with_cors: Iterable[str]
) -> dict[str, str]:
    """Headers API Gateway's generated `OPTIONS` method answers with for one resource.

    Chalice deploys a MOCK integration returning the route's CORS headers plus
    `Access-Control-Allow-Methods` (the CORS-enabled methods, then OPTIONS); with no
    CORS-enabled view only `OPTIONS` is allowed. We mirror both. `cors` is the
    route's `CORSConfig` or its `Access-Control-*` headers, already computed.
    """
    if cors is None:
        return {"Access-Control-Allow-Methods": "OPTIONS"}
    headers = dict(cors.get_access_control_headers() if isinstance(cors, CORSConfig) else cors)
    headers["Access-Control-Allow-Methods"] = ",".join([*methods_with_cors, "OPTIONS"])
    return headers


def resource_preflight(
    cors_by_method: Mapping[str, CORSConfig | Mapping[str, str] | None],
) -> dict[str, str] | None:
    """The headers of the `OPTIONS` answer API Gateway generates for a resource, or None.

    `cors_by_method` maps each method of the resource to its CORS (a `CORSConfig`, or
    its `Access-Control-*` headers as the manifest carries them), None without CORS.
    API Gateway generates the method only for a resource with a CORS-enabled view and
    no `OPTIONS` view of its own. A resource has one CORS configuration (the registry
    refuses differing ones), so the first CORS-enabled method's stands for all.

        >>> resource_preflight({"GET": {"Access-Control-Allow-Origin": "*"}, "PUT": None})
        {'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET,OPTIONS'}
        >>> resource_preflight({"GET": None}) is None
        True
    """
    if "OPTIONS" in cors_by_method:
        return None
    with_cors = [method for method, cors in cors_by_method.items() if cors is not None]
    if not with_cors:
        return None
    return preflight_headers(cors_by_method[with_cors[0]], with_cors)
