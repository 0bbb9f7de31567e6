"""`lambic url`: print a deployed stage's API endpoint (or its website's, `--website`)."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.options import project_dir_option, stage_option
from lambic.deploy.deployer import url as stage_url


@click.command("url")
@stage_option("The config stage to print the URL of.")
@project_dir_option(must_exist=True)
@click.option(
    "--website",
    is_flag=True,
    help="Print the website URL of each website bucket instead (one per line).",
)
def url(stage: str, project_dir: Path, website: bool) -> None:
    """Print the API URL recorded for the stage (the website's when it has no API)."""
    click.echo(stage_url(project_dir, stage, website=website))
