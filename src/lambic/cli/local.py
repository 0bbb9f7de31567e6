"""`lambic local`: serve the project as a local cloud until Ctrl-C / SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lambic.cli.options import project_dir_option, stage_option
from lambic.project.account import DEFAULT_SERVICES_PORT

if TYPE_CHECKING:
    from lambic.runtime.local import LocalCloud


def _run(cloud: LocalCloud) -> None:
    try:
        # uvloop makes the HTTP front and the environments' sockets cheaper; optional.
        import uvloop
    except ImportError:
        asyncio.run(cloud.serve())
        return
    uvloop.run(cloud.serve())


@click.command("local")
@project_dir_option("The project directory (holds app.py and .lambic/config.json).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@stage_option("The config stage to run.")
@click.option("--no-reload", is_flag=True, help="Do not reload the app when its files change.")
@click.option(
    "--services-port",
    default=DEFAULT_SERVICES_PORT,
    show_default=True,
    type=int,
    help="Port of the local S3/DynamoDB/SQS/SNS/EventBridge edge (AWS_ENDPOINT_URL).",
)
@click.option(
    "--ws-port",
    default=None,
    type=int,
    help="Port of the WebSocket API and its @connections API, for apps with @app.on_ws_* "
    "handlers.  [default: --port + 1, so 8001]",
)
@click.option(
    "--no-services",
    is_flag=True,
    help="Do not start the local AWS services (functions then reach real AWS, if any).",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also print each invocation's START/END/REPORT lines (always in `lambic logs`).",
)
def local(
    project_dir: Path,
    host: str,
    port: int,
    stage: str,
    no_reload: bool,
    services_port: int,
    ws_port: int | None,
    no_services: bool,
    verbose: bool,
) -> None:
    """Run the app locally: API Gateway at http://HOST:PORT/, Lambda-style environments,
    local AWS services at http://HOST:SERVICES_PORT/, every event handler live, and the
    WebSocket API (if app.py has @app.on_ws_* handlers) at ws://HOST:WS_PORT/."""
    # Start-up allocates for good (modules, services, the project): collections would
    # walk it all again and again on the way to the first answer (~10-20 ms of CPU).
    # `LocalCloud.serve` freezes what start-up made and turns collection back on.
    gc.disable()
    # The port and the zygote first, with this module's light imports only: the
    # zygote's boto3 import then runs beside the imports below, not after them.
    from lambic._start_trace import stamp

    stamp("main: cli")
    from lambic.runtime.head_start import head_start

    head = head_start(project_dir, stage, host, port)
    stamp("main: head started")
    from lambic.runtime.live_event_sources import LiveEventSources
    from lambic.runtime.local import LocalCloud
    from lambic.runtime.local_services import LocalServices
    from lambic.runtime.websocket_gateway import WebSocketGateway

    stamp("main: imports done")
    services = None if no_services else LocalServices(host=host, port=services_port)
    cloud = LocalCloud(
        project_dir,
        host=host,
        port=port,
        stage=stage,
        reload=not no_reload,
        echo=lambda line: click.echo(line),
        log_fd=sys.stdout.fileno(),
        verbose=verbose,
        services=[services] if services else [],
        head_start=head,
        # The WebSocket API first: its @connections endpoint goes into every environment.
        event_sources=[
            WebSocketGateway(host=host, port=port + 1 if ws_port is None else ws_port),
            LiveEventSources(services),
        ],
    )
    with contextlib.suppress(KeyboardInterrupt):
        _run(cloud)
