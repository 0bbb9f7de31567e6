"""`lambic services`: the local AWS services on one edge port, in the foreground.

    lambic services                       # state in .lambic/state/dev/, port 4566
    lambic services --in-memory --port 0  # throwaway, any free port
    lambic services --require-auth AKID:SECRET

Point boto3 at it with `AWS_ENDPOINT_URL=http://127.0.0.1:4566`.
"""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.errors import CLIError
from lambic.cli.options import project_dir_option, stage_option
from lambic.project.paths import ProjectPaths


@click.command("services")
@click.option("--port", type=int, default=4566, show_default=True, help="Edge port (0: any).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--state",
    "state",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="State directory (default: .lambic/state/<stage>/ of the project).",
)
@click.option("--in-memory", is_flag=True, help="Keep no state on disk.")
@stage_option("The stage whose state to use.")
@project_dir_option("The project directory (default: the current one).")
@click.option(
    "--require-auth",
    metavar="ACCESS_KEY:SECRET",
    default=None,
    help="Verify SigV4 signatures against this key pair (default: accept any key).",
)
def services(
    port: int,
    host: str,
    state: Path | None,
    in_memory: bool,
    stage: str,
    project_dir: Path,
    require_auth: str | None,
) -> None:
    """Run the local S3, DynamoDB, SQS and SNS services on one port."""
    from lambic._sockets import PortInUseError
    from lambic.services.auth import Authenticator, parse_credentials
    from lambic.services.base import ServiceError
    from lambic.services.factory import create_services
    from lambic.services.server import serve

    if in_memory and state is not None:
        raise CLIError("Use either --state DIR or --in-memory, not both")
    state_dir = None if in_memory else (state or ProjectPaths(project_dir).state_dir(stage))
    credentials = None
    if require_auth is not None:
        try:
            access_key, secret = parse_credentials(require_auth)
        except ValueError as exc:
            raise CLIError(f"--require-auth: {exc}") from exc
        credentials = {access_key: secret}
    built = create_services(state_dir)
    where = "in memory" if state_dir is None else f"state in {state_dir}"

    by_name = built.by_name()

    def ready(bound_port: int) -> None:
        names = ", ".join(by_name)
        click.echo(f"Lambic services ({names}) on http://{host}:{bound_port} ({where})")

    try:
        serve(by_name, host=host, port=port, auth=Authenticator(credentials), on_ready=ready)
    except (ServiceError, PortInUseError):
        built.close()
        raise
