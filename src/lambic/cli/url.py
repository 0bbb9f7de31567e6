"""`lambic url`: print a deployed stage's API endpoint."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.deploy import project_dir_option, stage_option
from lambic.cli.errors import CLIError
from lambic.deploy.deployer import url as stage_url
from lambic.deploy.errors import DeployError


@click.command("url")
@stage_option
@project_dir_option
def url(stage: str, project_dir: Path) -> None:
    """Print the API URL recorded for the stage."""
    try:
        click.echo(stage_url(project_dir, stage))
    except DeployError as exc:
        raise CLIError(str(exc)) from exc
