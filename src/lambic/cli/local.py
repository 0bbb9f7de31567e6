"""`lambic local`: serve the project as a local cloud until Ctrl-C / SIGTERM."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from lambic.cli.errors import CLIError
from lambic.runtime.errors import LambicRuntimeError
from lambic.runtime.local import LocalCloud


def _run(cloud: LocalCloud) -> None:
    try:
        # uvloop roughly doubles the gateway's throughput; it is optional.
        import uvloop
    except ImportError:
        asyncio.run(cloud.serve())
        return
    uvloop.run(cloud.serve())


@click.command("local")
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project directory (holds app.py and .lambic/config.json).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--stage", default="dev", show_default=True, help="The config stage to run.")
@click.option("--no-reload", is_flag=True, help="Do not reload the app when its files change.")
def local(project_dir: Path, host: str, port: int, stage: str, no_reload: bool) -> None:
    """Run the app locally: API Gateway at http://HOST:PORT/, Lambda-style environments."""
    cloud = LocalCloud(
        project_dir,
        host=host,
        port=port,
        stage=stage,
        reload=not no_reload,
        echo=lambda line: click.echo(line),
    )
    try:
        _run(cloud)
    except LambicRuntimeError as exc:
        raise CLIError(str(exc)) from exc
    except KeyboardInterrupt:
        pass
