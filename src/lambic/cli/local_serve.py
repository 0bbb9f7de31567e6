"""What `lambic local` does once its options are parsed: serve the project as a local
cloud until Ctrl-C / SIGTERM.

Apart from the click command (`cli.local`) and free of click: the console script
parses `lambic local`'s options in a short-lived fork (`parse_ahead`) and serves from
here in a process that never imports the command line's framework (~1 MB of its own
memory for as long as the cloud runs). Both ways run `serve`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambic.runtime.local import LocalCloud

__all__ = ["LocalOptions", "serve"]


@dataclass(frozen=True)
class LocalOptions:
    """`lambic local`'s options, as its click command parsed them."""

    project_dir: Path
    host: str
    port: int
    stage: str
    no_reload: bool
    services_port: int
    ws_port: int | None
    no_services: bool
    verbose: bool

    def to_json(self) -> bytes:
        return json.dumps({**asdict(self), "project_dir": str(self.project_dir)}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LocalOptions:
        fields: dict[str, Any] = json.loads(data)
        return cls(**{**fields, "project_dir": Path(fields["project_dir"])})


def serve(options: LocalOptions) -> None:
    """Serve the project as `lambic local --help` describes, until Ctrl-C / SIGTERM."""
    # Start-up allocates for good (modules, services, the project): collections would
    # walk it all again and again on the way to the first answer (~10-20 ms of CPU).
    # `LocalCloud.serve` freezes what start-up made and turns collection back on.
    gc.disable()
    # The port and the zygote first, with this module's light imports only: the
    # zygote's boto3 import then runs beside the imports below, not after them.
    from lambic._start_trace import stamp

    stamp("main: cli")
    from lambic.runtime.head_start import head_start

    head = head_start(options.project_dir, options.stage, options.host, options.port)
    stamp("main: head started")
    from lambic.runtime.live_event_sources import LiveEventSources
    from lambic.runtime.local import LocalCloud
    from lambic.runtime.local_services import LocalServices
    from lambic.runtime.websocket_gateway import WebSocketGateway

    stamp("main: imports done")
    host = options.host
    services = None if options.no_services else LocalServices(host=host, port=options.services_port)
    ws_port = options.port + 1 if options.ws_port is None else options.ws_port
    cloud = LocalCloud(
        options.project_dir,
        host=host,
        port=options.port,
        stage=options.stage,
        reload=not options.no_reload,
        echo=_echo,
        log_fd=sys.stdout.fileno(),
        verbose=options.verbose,
        services=[services] if services else [],
        head_start=head,
        # The WebSocket API first: its @connections endpoint goes into every environment.
        event_sources=[WebSocketGateway(host=host, port=ws_port), LiveEventSources(services)],
    )
    with contextlib.suppress(KeyboardInterrupt):
        _run(cloud)


def _echo(line: str) -> None:
    # The cloud's own lines (where it serves, reloads, shutting down): plain text.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _run(cloud: LocalCloud) -> None:
    # Imported here: this module is imported before the parsing fork, which a process
    # that has imported asyncio does not make (`_zygote_fork.can_fork`).
    import asyncio

    try:
        # uvloop makes the HTTP front and the environments' sockets cheaper; optional.
        import uvloop
    except ImportError:
        asyncio.run(cloud.serve())
        return
    uvloop.run(cloud.serve())
