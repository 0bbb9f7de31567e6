"""Who may use the console: the developer's browser on this machine, nobody else.

Three checks, each answering a known attack:
- the client is on loopback (the edge may listen on 0.0.0.0 for containers);
- the Host header names a loopback host, so a page whose DNS name was rebound to
  127.0.0.1 (its Host is its own name) is refused;
- a mutating request (POST, PUT, DELETE) carries `X-Lambic-Console: 1` and, when the
  browser sends an Origin, that Origin is the console's own. A cross-origin page can
  send neither a custom header (it needs a preflight, which is never granted) nor a
  forged Origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["CONSOLE_HEADER", "refusal"]

CONSOLE_HEADER = "x-lambic-console"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def _host_name(host: str) -> str:
    """`127.0.0.1:4566` -> `127.0.0.1`; `[::1]:4566` -> `[::1]`."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _loopback_client(address: str) -> bool:
    return address in ("127.0.0.1", "::1", "localhost") or address.startswith("127.")


def refusal(
    method: str, host: str, client: str, origin: str | None, console_header: str | None
) -> str | None:
    """Why this request is refused, or None when it may proceed."""
    if not _loopback_client(client):
        return "The console answers only this machine (loopback)."
    if _host_name(host.lower()) not in _LOOPBACK_HOSTS:
        return f"Host {host!r} is not this machine; open the console at 127.0.0.1."
    if method in _SAFE_METHODS:
        return None
    if console_header != "1":
        return f"A change needs the {CONSOLE_HEADER} header (the console's page sends it)."
    if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
        return f"Origin {origin!r} may not change the local cloud."
    return None
