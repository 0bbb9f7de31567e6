"""Listening sockets for Lambic's servers: the gateway and the services' edge.

Both bind before anything else starts, so a port in use is one clear error at once
rather than a half-started local cloud. Kept outside the layers (runtime and services
each import it) because it is about sockets, not about either layer.

    >>> sock = bind_socket("127.0.0.1", 0)
    >>> sock.getsockname()[1] > 0
    True
    >>> sock.close()
"""

from __future__ import annotations

import socket

__all__ = ["PortInUseError", "bind_socket"]


class PortInUseError(OSError):
    """The address is taken by another process (EADDRINUSE, said plainly)."""


def bind_socket(host: str, port: int, *, option: str = "--port") -> socket.socket:
    """Listen on host:port now; `option` names the flag that picks another port."""
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
            f"Port {port} on {host} is in use; stop what is using it or pick another with {option}"
        ) from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock
