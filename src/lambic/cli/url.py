"""`lambic url`: print a deployed stage's API endpoint."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.options import project_dir_option, stage_option
from lambic.deploy.deployer import url as stage_url


@click.command("url")
@stage_option("The config stage to print the URL of.")
@project_dir_option(must_exist=True)
def url(stage: str, project_dir: Path) -> None:
    """Print the API URL recorded for the stage."""
    click.echo(stage_url(project_dir, stage))
