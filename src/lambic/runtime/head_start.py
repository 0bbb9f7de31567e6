"""What `lambic local` starts before it imports the rest of itself.

On the way to the first answer the longest step is the zygote's own start (a new
interpreter importing boto3: most of the wall time before app.py can be read), and
the gateway's process spends about as long importing the gateway, the services and
the event sources. Started first, the zygote's imports run beside those instead of
after them:

    head = head_start(project_dir, "dev", "127.0.0.1", 8000)   # light imports only
    from lambic.runtime.local import LocalCloud                   # the heavy ones
    cloud = LocalCloud(project_dir, port=8000, head_start=head)   # takes both over

The port is bound before the zygote starts, as `LocalCloud` would: a port in use is
one clear error, and no process is left (the CLI may have started the zygote's process
even earlier, before its own imports: `_zygote_launch.launch_ahead`; it is stopped
then). The zygote forks the log store's writer when the store gets busy
(`_log_writer_fork`: it shares the zygote's pages instead of being a new
interpreter); this process keeps its end of the writer's socket. This module imports
only what the zygote's handle, the writer's handle and the socket need (no services,
no gateway).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from lambic._sockets import bind_socket
from lambic.project.paths import ProjectPaths
from lambic.runtime._log_writer_fork import ForkedWriter
from lambic.runtime._zygote_launch import Launched, launch_local, take_ahead
from lambic.runtime.zygote import Zygote

__all__ = ["HeadStart", "head_start", "protected_paths", "start_zygote"]


@dataclass
class HeadStart:
    """The gateway's listening socket, the zygote and the log writer, started ahead of
    everything."""

    sock: socket.socket
    zygote: Zygote
    log_writer: ForkedWriter | None = None


def protected_paths(project_dir: Path, stage: str) -> list[str]:
    """What app.py's import (in the zygote's manifest reader) must not open: the
    project, whose snapshot it reads, and the stage's state."""
    project = project_dir.resolve()
    return [str(project), str(ProjectPaths(project).state_dir(stage))]


def start_zygote(project_dir: Path, stage: str, launched: Launched | None = None) -> Zygote:
    """`lambic local`'s zygote: its first request is the manifest read, so it builds
    its boto3 clients after that one (`Zygote(hold_warm=True)`). `launched`: the process
    already started (else the CLI's, `_zygote_launch.launch_ahead`, when there is one)."""
    protect = protected_paths(project_dir, stage)
    if launched is None:
        launched = take_ahead()
    return Zygote(protect=protect, hold_warm=True, launched=launched)


def head_start(project_dir: Path, stage: str, host: str, port: int) -> HeadStart:
    """Bind the gateway's port (PortInUseError says which option to change), then start
    the zygote, which forks the log writer; `LocalCloud(head_start=...)` takes them over."""
    try:
        sock = bind_socket(host, port)
    except BaseException:
        # The zygote the CLI started ahead, if any, is not left running meanwhile.
        launched = take_ahead()
        if launched is not None:
            launched.close()
        raise
    launched = take_ahead()
    writer = None
    try:
        if launched is None:
            launched = launch_local()
        # The zygote forks the writer when the log store gets busy (`_log_writer_fork`).
        writer = launched.take_log_writer()
        return HeadStart(sock, start_zygote(project_dir, stage, launched), writer)
    except BaseException:
        if writer is not None:
            writer.close()
        if launched is not None:
            launched.close()
        sock.close()
        raise
