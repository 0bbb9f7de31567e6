"""`lambic gen-policy`: print the IAM policy `lambic deploy` gives the stage's functions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lambic.cli.deploy import project_dir_option, stage_option
from lambic.cli.errors import CLIError
from lambic.deploy.errors import DeployError
from lambic.deploy.project import load_project


@click.command("gen-policy")
@stage_option
@project_dir_option
def gen_policy(stage: str, project_dir: Path) -> None:
    """Print the least-privilege policy generated from the code's boto3 calls.

    With `autogen_policy: false` this prints the policy file the stage uses instead.
    """
    try:
        policy = load_project(project_dir, stage).policy
    except DeployError as exc:
        raise CLIError(str(exc)) from exc
    click.echo(json.dumps(policy, indent=2))
