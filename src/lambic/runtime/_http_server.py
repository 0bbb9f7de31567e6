"""The gateway's HTTP server: uvicorn on the caller's event loop, tuned for the gateway.

`GatewayServer` runs any ASGI app (the `GatewayApp`) under uvicorn's httptools
protocol without `Server.serve()`, whose signal handlers would fight `lambic local`'s.
Two changes to the protocol, both for API Gateway fidelity or speed:

- request header names keep the client's spelling (API Gateway passes them so);
- each response leaves in one write (`_CoalescingTransport`).

Errors: `GatewayError` (a `LambicRuntimeError`) and its `PortInUseError`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from lambic.runtime.errors import LambicRuntimeError

__all__ = ["GatewayError", "GatewayServer", "PortInUseError", "bind_socket"]

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class GatewayError(LambicRuntimeError):
    """The gateway cannot serve: the message says what to change."""


class PortInUseError(GatewayError):
    """Another process listens on the gateway's port."""


class _CoalescingTransport:
    """Sends what one event-loop turn wrote in a single `send()`.

    uvicorn writes a response's status line and headers, then its body, as two
    writes: two system calls and two TCP segments per request. Gathering them until
    the end of the loop turn halves that cost, which is most of a warm request's.
    Everything but writing and closing is delegated to the real transport.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending = []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _CasePreservingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, keeping header names as the client sent them.

    API Gateway passes request headers to the function with the client's spelling
    (`Content-Type`, `X-Custom`); ASGI servers lowercase them. Only the gateway app
    reads these headers, and it compares names case-insensitively.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing = _CoalescingTransport(transport, asyncio.get_running_loop())
        super().connection_made(cast(asyncio.Transport, coalescing))

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))


def bind_socket(host: str, port: int) -> socket.socket:
    """Listen on host:port now, so a port in use is reported before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only for
    # such sockets; without it a response sent as headers then body stalls ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(
            f"Port {port} on {host} is in use; stop what is using it or pick another with --port"
        ) from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class GatewayServer:
    """Runs an ASGI app (the `GatewayApp`) under uvicorn on the caller's event loop.

    server = GatewayServer(app, host="127.0.0.1", port=0)
    await server.start(); ...; await server.stop(grace=10)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        sock: socket.socket | None = None,
    ) -> None:
        self.app = app
        self.host = host
        # A socket bound earlier by `bind_socket` (to fail fast on a port in use) or ours.
        self._sock = sock if sock is not None else bind_socket(host, port)
        self.port: int = self._sock.getsockname()[1]
        self._config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            http=_CasePreservingProtocol,
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            server_header=False,
            # No X-Forwarded-* rewriting: API Gateway reports the socket peer as
            # sourceIp, and the middleware would cost a coroutine per request.
            proxy_headers=False,
            timeout_keep_alive=60,
        )
        self._server = uvicorn.Server(self._config)
        self._main: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start accepting connections; returns once the socket is served."""
        # Not `Server.serve()`: it installs its own signal handlers, and `lambic local`
        # owns SIGINT/SIGTERM to shut every component down in order.
        self._config.load()
        self._server.lifespan = self._config.lifespan_class(self._config)
        await self._server.startup(sockets=[self._sock])
        if self._server.should_exit:
            raise GatewayError(f"The gateway could not start on {self.url}")
        self._main = asyncio.ensure_future(self._server.main_loop())

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish for `grace` seconds, then cancel."""
        self._config.timeout_graceful_shutdown = max(int(grace), 1)
        self._server.should_exit = True
        if self._main is not None:
            await self._main
            self._main = None
            await self._server.shutdown(sockets=[self._sock])
        else:
            self._sock.close()
