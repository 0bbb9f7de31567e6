"""`lambic local`: serve the project as a local cloud until Ctrl-C / SIGTERM.

The command parses; `local_serve.serve` serves. Run by the console script, the parse
happens in a short-lived fork that hands the options back (`parse_ahead.HandBack`).
"""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.local_serve import LocalOptions, serve
from lambic.cli.options import project_dir_option, stage_option
from lambic.cli.parse_ahead import HandBack
from lambic.project.account import DEFAULT_SERVICES_PORT


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
    options = LocalOptions(
        project_dir=project_dir,
        host=host,
        port=port,
        stage=stage,
        no_reload=no_reload,
        services_port=services_port,
        ws_port=ws_port,
        no_services=no_services,
        verbose=verbose,
    )
    hand_back = click.get_current_context().find_object(HandBack)
    if hand_back is not None:
        hand_back(options)
        return
    serve(options)
