"""`lambic deploy`: create or update a stage on AWS, printing each resource and its URLs."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.options import project_dir_option, stage_option
from lambic.deploy.deployer import deploy as run_deploy

profile_option = click.option("--profile", default=None, help="AWS profile to deploy with.")


@click.command("deploy")
@stage_option("The config stage to deploy.")
@project_dir_option(must_exist=True)
@profile_option
@click.option("--region", default=None, help="AWS region (default: the profile's or env's).")
def deploy(stage: str, project_dir: Path, profile: str | None, region: str | None) -> None:
    """Deploy the app to AWS Lambda and API Gateway (honours AWS_ENDPOINT_URL)."""
    # The deployer prints a line per resource and the summary with the stage's URLs.
    run_deploy(project_dir, stage, profile=profile, region=region, echo=click.echo)
