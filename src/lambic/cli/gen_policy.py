"""`lambic gen-policy`: print the IAM policy generated from the project's boto3 usage."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lambic.cli.deploy import project_dir_option
from lambic.cli.errors import CLIError
from lambic.deploy.errors import DeployError
from lambic.deploy.policy import generate_policy


@click.command("gen-policy")
@project_dir_option
def gen_policy(project_dir: Path) -> None:
    """Print the least-privilege policy `lambic deploy` would give the functions."""
    try:
        policy = generate_policy(project_dir.resolve())
    except DeployError as exc:
        raise CLIError(str(exc)) from exc
    click.echo(json.dumps(policy, indent=2))
