"""`lambic auth token`: mint a user-pool token `lambic local` accepts, offline.

There is no Cognito locally: the stage's local issuer signs tokens with a key kept in
`.lambic/state/<stage>/`, and `lambic local` (and the test client) verify
`CognitoUserPoolAuthorizer` routes against it. Use the token as the header value:

    curl -H "Authorization: $(lambic auth token --user alice)" localhost:8000/me
"""

from __future__ import annotations

from pathlib import Path

import click

from lambic.cli.options import project_dir_option, stage_option
from lambic.project.paths import ProjectPaths
from lambic.project.project import load_project
from lambic.runtime.authorization.local_issuer import LocalIssuer, find_user_pool


@click.group("auth")
def auth() -> None:
    """Credentials for the local cloud's authorizers."""


@auth.command("token")
@click.option("--user", "username", default="user", show_default=True, help="The user's name.")
@click.option(
    "--pool",
    default=None,
    help="The user pool: its ARN, its id or the CognitoUserPoolAuthorizer's name "
    "(default: the app's only user pool).",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="An OAuth scope (repeatable); makes an access token, as routes with "
    "authorization scopes require. Without it: an ID token.",
)
@click.option("--group", "groups", multiple=True, help="A cognito:groups entry (repeatable).")
@click.option(
    "--expires-in", default=3600, show_default=True, type=int, help="Validity in seconds."
)
@stage_option("The stage whose local issuer signs the token.")
@project_dir_option()
def token(
    username: str,
    pool: str | None,
    scopes: tuple[str, ...],
    groups: tuple[str, ...],
    expires_in: int,
    stage: str,
    project_dir: Path,
) -> None:
    """Print a Cognito user-pool token that `lambic local` accepts for this project."""
    described = []
    if pool is None or not pool.startswith("arn:"):
        project = load_project(project_dir, stage)
        described = [
            info.authorizer
            for methods in project.manifest.routes.values()
            for info in methods.values()
            if info.authorizer is not None
        ]
    try:
        provider_arn = find_user_pool(pool, described)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    issuer = LocalIssuer(ProjectPaths(project_dir.resolve()).local_issuer_key(stage))
    click.echo(
        issuer.mint(
            provider_arn=provider_arn,
            username=username,
            scopes=scopes,
            groups=groups,
            expires_in=expires_in,
        )
    )
