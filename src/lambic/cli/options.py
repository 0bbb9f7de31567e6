"""The options every project command shares, spelled once.

@click.command("logs")
@stage_option("The config stage to read.")
@project_dir_option("The project directory (holds .lambic/).")
def logs(stage: str, project_dir: Path) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["project_dir_option", "stage_option"]

F = TypeVar("F", bound=Callable[..., Any])


def project_dir_option(
    help: str = "The project directory (holds app.py).", *, must_exist: bool = False
) -> Callable[[F], F]:
    """`--project-dir`, default the current directory."""
    return click.option(
        "--project-dir",
        type=click.Path(file_okay=False, exists=must_exist, path_type=Path),
        default=Path("."),
        show_default=True,
        help=help,
    )


def stage_option(help: str = "The config stage.") -> Callable[[F], F]:
    """`--stage`, default `dev`: a stage of `.lambic/config.json` (and its local state)."""
    return click.option("--stage", default="dev", show_default=True, help=help)
