"""`lambic deploy`: create or update a stage on AWS and print its API URL."""

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
    record = run_deploy(project_dir, stage, profile=profile, region=region, echo=click.echo)
    api = record.resources.get("api")
    if record.api_url and api is not None:
        label = "Rest API URL" if api.kind == "rest_api" else "HTTP API URL"
        click.echo(f"{label}: {record.api_url}")
