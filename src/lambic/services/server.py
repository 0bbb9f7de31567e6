"""Running the edge port: in the foreground (`lambic services`) or on a background thread.

`EdgeServer` runs the edge's HTTP server (`_http.py`, on `lambic._http_core`) on its own
event loop in a daemon thread. Tests and `lambic local` use it so the services answer on
a real socket while the caller's own loop stays free; `serve()` runs in the foreground
until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Mapping
from types import TracebackType

from lambic._http_limits import SERVICES_LIMITS, EdgeLimits
from lambic._sockets import bind_socket
from lambic.services._http import edge_http_server, new_event_loop
from lambic.services.auth import Authenticator
from lambic.services.base import Service, ServiceError
from lambic.services.edge import EdgeApp


def _close_services(app: EdgeApp) -> None:
    closed: set[int] = set()
    for service in app.services.values():
        if id(service) not in closed:
            closed.add(id(service))
            service.close()


class EdgeServer:
    """The edge port on a background thread: `with EdgeServer(services) as edge: edge.url`."""

    def __init__(
        self,
        services: Mapping[str, Service],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        auth: Authenticator | None = None,
        port_option: str = "--port",
        limits: EdgeLimits = SERVICES_LIMITS,
    ) -> None:
        self.app = EdgeApp(services, auth=auth)
        # Sizes, timeouts, connections per client (`lambic._http_limits`); tests shorten them.
        self.limits = limits
        # `port_option`: the flag that picks another port, named if this one is taken.
        self._sock = bind_socket(host, port, option=port_option)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name="lambic-edge", daemon=True)
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self.loop = new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported by start() on the caller's thread
            self._error = exc
            self._started.set()
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        server = edge_http_server(self.app, self.limits)
        self._stopping = asyncio.Event()
        await server.start(self._sock)
        self._started.set()
        await self._stopping.wait()
        await server.stop()

    def start(self) -> EdgeServer:
        self._thread.start()
        # Bounded wait: the loop sets `_started` once the socket accepts connections.
        if not self._started.wait(timeout=5) or self._error is not None:
            raise ServiceError("The edge server did not start within 5 seconds") from self._error
        return self

    def stop(self) -> None:
        loop, stopping = self.loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already finished
                loop.call_soon_threadsafe(stopping.set)
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()
        _close_services(self.app)

    def __enter__(self) -> EdgeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    services: Mapping[str, Service],
    *,
    host: str = "127.0.0.1",
    port: int = 4566,
    auth: Authenticator | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Run the edge port in the foreground until Ctrl-C / SIGTERM.

    `on_ready(port)` is called once the socket is bound and accepting.
    """
    app = EdgeApp(services, auth=auth)
    sock = bind_socket(host, port)

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        server = edge_http_server(app)
        await server.start(sock)
        if on_ready is not None:
            on_ready(sock.getsockname()[1])
        await stopping.wait()
        await server.stop()

    loop = new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
        sock.close()
        _close_services(app)
