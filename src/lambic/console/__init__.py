"""The Lambic console: the local cloud in a browser, served on the services' edge port.

    http://127.0.0.1:4566/_lambic/console/

`ConsoleService` is one more service behind the edge (`services.edge` routes unsigned
requests under `/_lambic/` to it): static assets shipped in the package (no CDN, no
Node), a JSON API under `/_lambic/api/`, and a live feed of invocations and log lines
as server-sent events. It reads the stage's log store (its own read-only connection)
and asks the running cloud (`CloudView`) for functions, environments and invocations.

Only the developer's own browser may use it: requests must name a loopback Host
(a page on another site cannot reach it by DNS rebinding), and a mutating request must
carry the `X-Lambic-Console` header, which a cross-origin page cannot send without a
CORS preflight the console never grants (`guard`).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambic.console.service import CloudView, ConsoleService

__all__ = ["CONSOLE_PATH", "CloudView", "ConsoleService"]

#: Where the console's page is on the edge port.
CONSOLE_PATH = "/_lambic/console/"


def __getattr__(name: str) -> Any:
    # The service (and the programming model its samples use) loads on first use:
    # `lambic services` prints CONSOLE_PATH at start but builds the console after its
    # first answer (`services._deferred`).
    if name in ("CloudView", "ConsoleService"):
        from lambic.console import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
