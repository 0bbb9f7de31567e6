"""`lambic gen-policy`: print the IAM policy `lambic deploy` gives the stage's functions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lambic.cli.options import project_dir_option, stage_option
from lambic.deploy.deployable import load_deployable


@click.command("gen-policy")
@stage_option("The config stage to generate the policy for.")
@project_dir_option(must_exist=True)
def gen_policy(stage: str, project_dir: Path) -> None:
    """Print the least-privilege policy generated from the code's boto3 calls.

    With `autogen_policy: false` this prints the policy file the stage uses instead.
    """
    policy = load_deployable(project_dir, stage).policy
    click.echo(json.dumps(policy, indent=2))
