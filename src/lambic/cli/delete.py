"""`lambic delete`: remove everything a stage's deploy created, and nothing else."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.deploy import profile_option
from lambic.cli.options import project_dir_option, stage_option
from lambic.deploy.deployer import delete as run_delete


@click.command("delete")
@stage_option("The config stage to delete.")
@project_dir_option(must_exist=True)
@profile_option
def delete(stage: str, project_dir: Path, profile: str | None) -> None:
    """Delete the stage's resources listed in .lambic/deployed/<stage>.json."""
    run_delete(project_dir, stage, profile=profile, echo=click.echo)
