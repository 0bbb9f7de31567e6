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

from lambic.console.service import CloudView, ConsoleService

__all__ = ["CloudView", "ConsoleService"]
