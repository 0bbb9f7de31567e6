"""`lambic deploy`: create or update a stage on AWS and print its API URL."""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.errors import CLIError
from lambic.deploy.deployer import deploy as run_deploy
from lambic.deploy.errors import DeployError

project_dir_option = click.option(
    "--project-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    help="Directory holding app.py (default: current directory).",
)
stage_option = click.option("--stage", default="dev", show_default=True, help="Config stage.")
profile_option = click.option("--profile", default=None, help="AWS profile to deploy with.")


@click.command("deploy")
@stage_option
@project_dir_option
@profile_option
@click.option("--region", default=None, help="AWS region (default: the profile's or env's).")
def deploy(stage: str, project_dir: Path, profile: str | None, region: str | None) -> None:
    """Deploy the app to AWS Lambda and API Gateway (honours AWS_ENDPOINT_URL)."""
    try:
        record = run_deploy(project_dir, stage, profile=profile, region=region, echo=click.echo)
    except DeployError as exc:
        raise CLIError(str(exc)) from exc
    api = record.resources.get("api")
    if record.api_url and api is not None:
        label = "Rest API URL" if api.kind == "rest_api" else "HTTP API URL"
        click.echo(f"{label}: {record.api_url}")
