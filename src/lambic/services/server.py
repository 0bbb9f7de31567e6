"""Running the edge port: in the foreground (`lambic services`) or on a background thread.

`EdgeServer` runs uvicorn on its own event loop in a daemon thread. Tests and
`lambic local` use it so the services answer on a real socket while the caller's own
loop stays free; `serve()` runs in the foreground until interrupted.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Mapping
from types import TracebackType

import uvicorn

from lambic.services.auth import Authenticator
from lambic.services.base import Service, ServiceError
from lambic.services.edge import EdgeApp


class PortInUseError(ServiceError):
    """The edge port is taken by another process."""


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only
    # for such sockets, and without it a response written as headers then body waits
    # ~40 ms on Nagle + the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(
            f"Port {port} on {host} is in use; stop what is using it or pick another with --port"
        ) from exc
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _config(app: EdgeApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="httptools",
        # Large S3 uploads arrive as one body; give slow clients time.
        timeout_keep_alive=60,
    )


class EdgeServer:
    """The edge port on a background thread: `with EdgeServer(services) as edge: edge.url`."""

    def __init__(
        self,
        services: Mapping[str, Service],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        auth: Authenticator | None = None,
    ) -> None:
        self.app = EdgeApp(services, auth=auth)
        self._sock = _bind(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._server = uvicorn.Server(_config(self.app, host, self.port))
        self._thread = threading.Thread(target=self._run, name="lambic-edge", daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        self.loop.close()

    def start(self) -> EdgeServer:
        self._thread.start()
        # Bounded wait: uvicorn flips `started` once it accepts connections.
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        raise ServiceError("The edge server did not start within 5 seconds")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        closed: set[int] = set()
        for svc in self.app.services.values():
            if id(svc) not in closed:
                closed.add(id(svc))
                svc.close()

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

    `on_ready(port)` is called once the socket is bound (before serving starts).
    """
    app = EdgeApp(services, auth=auth)
    sock = _bind(host, port)
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    server = uvicorn.Server(_config(app, host, port))
    try:
        server.run(sockets=[sock])
    finally:
        closed: set[int] = set()
        for svc in app.services.values():
            if id(svc) not in closed:
                closed.add(id(svc))
                svc.close()
