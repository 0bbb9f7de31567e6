"""CORS configuration for routes, with the headers Chalice adds to responses.

    @app.route("/items", cors=CORSConfig(allow_origin="https://example.com", max_age=600))

A route with CORS gets the `Access-Control-*` headers on every response it returns,
and API Gateway answers the preflight `OPTIONS` itself (a MOCK integration) with
those headers plus `Access-Control-Allow-Methods`; `preflight_headers` builds that set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["CORSConfig", "preflight_headers"]


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


def preflight_headers(cors: CORSConfig | None, methods_with_cors: Iterable[str]) -> dict[str, str]:
    """Headers API Gateway's generated `OPTIONS` method answers with for one resource.

    Chalice deploys a MOCK integration returning the route's CORS headers plus
    `Access-Control-Allow-Methods` (the CORS-enabled methods, then OPTIONS); with no
    CORS-enabled view only `OPTIONS` is allowed. We mirror both.
    """
    if cors is None:
        return {"Access-Control-Allow-Methods": "OPTIONS"}
    headers = cors.get_access_control_headers()
    headers["Access-Control-Allow-Methods"] = ",".join([*methods_with_cors, "OPTIONS"])
    return headers
