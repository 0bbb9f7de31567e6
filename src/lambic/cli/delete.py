"""`lambic delete`: remove everything a stage's deploy created, and nothing else."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.deploy import profile_option, project_dir_option, stage_option
from lambic.cli.errors import CLIError
from lambic.deploy.deployer import delete as run_delete
from lambic.deploy.errors import DeployError


@click.command("delete")
@stage_option
@project_dir_option
@profile_option
def delete(stage: str, project_dir: Path, profile: str | None) -> None:
    """Delete the stage's resources listed in .lambic/deployed/<stage>.json."""
    try:
        run_delete(project_dir, stage, profile=profile, echo=click.echo)
    except DeployError as exc:
        raise CLIError(str(exc)) from exc
