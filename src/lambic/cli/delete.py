"""`lambic delete`: remove what a stage's deploy created; its data only when asked.

Tables and buckets are kept unless --include-data; deleting them asks on the terminal
first, and without a terminal needs --yes (a script must say so explicitly).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lambic.cli.deploy import profile_option
from lambic.cli.options import project_dir_option, stage_option
from lambic.deploy.deployer import Confirm
from lambic.deploy.deployer import delete as run_delete
from lambic.deploy.errors import DeleteRefusedError


@click.command("delete")
@stage_option("The config stage to delete.")
@project_dir_option(must_exist=True)
@profile_option
@click.option(
    "--include-data",
    is_flag=True,
    help="Also delete the stage's DynamoDB tables and S3 buckets, with everything in them.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting data.")
def delete(
    stage: str, project_dir: Path, profile: str | None, include_data: bool, yes: bool
) -> None:
    """Delete the stage's resources listed in .lambic/deployed/<stage>.json.

    Tables and buckets (and their data) are kept unless --include-data is given.
    """
    run_delete(
        project_dir,
        stage,
        include_data=include_data,
        confirm=None if yes else ask_on_terminal(sys.stdin.isatty()),
        profile=profile,
        echo=click.echo,
    )


def ask_on_terminal(interactive: bool) -> Confirm:
    """A confirmation that asks on the terminal, or refuses when there is none."""

    def confirm(held: list[str]) -> bool:
        if not interactive:
            raise DeleteRefusedError(
                "--include-data deletes tables and buckets with their data and there is no "
                "terminal to confirm on; pass --yes to delete them (nothing was deleted)"
            )
        listed = "".join(f"\n  {line}" for line in held)
        return click.confirm(f"Delete these and all their data?{listed}\n", default=False)

    return confirm
