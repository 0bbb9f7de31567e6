"""`lambic new-project NAME`: create a project directory from the hello-world skeleton."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.templates import create_project_skeleton


@click.command("new-project")
@click.argument("project_name")
def new_project(project_name: str) -> None:
    """Create PROJECT_NAME/ with app.py, requirements.txt, .lambic/config.json, .gitignore."""
    dest = Path(project_name)
    create_project_skeleton(dest, dest.name)
    click.echo(f"Your project has been generated in ./{project_name}")
    click.echo(f"Run it locally with: cd {project_name} && lambic local")
