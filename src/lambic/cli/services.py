"""`lambic services`: the local AWS services on one edge port, in the foreground.

    lambic services                       # state in .lambic/state/dev/, port 4566
    lambic services --in-memory --port 0  # throwaway, any free port
    lambic services --require-auth AKID:SECRET
    lambic services --identities ids.json  # several accounts (or LAMBIC_IDENTITIES=ids.json)
    lambic services --identities ids.json --require-auth   # and only their keys

Point boto3 at it with `AWS_ENDPOINT_URL=http://127.0.0.1:4566`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import click

from lambic.cli.errors import CLIError
from lambic.cli.options import project_dir_option, stage_option
from lambic.project.paths import LOCAL_ENDPOINT_FILE, SERVICES_LOCK_FILE, ProjectPaths
from lambic.runtime.endpoint_file import ServicesLock, remove_endpoint, write_endpoint


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
    metavar="[ACCESS_KEY:SECRET]",
    is_flag=False,
    flag_value="",
    default=None,
    help="Refuse unsigned requests and keys not known (this key pair, and those of "
    "--identities); default: accept any key.",
)
@click.option(
    "--identities",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON file of accounts and their access keys (default: $LAMBIC_IDENTITIES; "
    "none: one account, any key).",
)
def services(
    port: int,
    host: str,
    state: Path | None,
    in_memory: bool,
    stage: str,
    project_dir: Path,
    require_auth: str | None,
    identities: Path | None,
) -> None:
    """Run the local S3, DynamoDB, SQS and SNS services on one port."""
    # Start-up only allocates what lives as long as the process (modules, the first
    # engine): a collection before the first answer frees nothing and costs ~7% of the
    # start's CPU. Collections resume at the first answer (or a second after the port
    # opens, if none comes), with start-up's objects frozen out of their way.
    collecting = gc.isenabled()
    gc.disable()

    def resume_collection() -> None:
        if collecting and not gc.isenabled():
            gc.freeze()
            gc.enable()

    try:
        _serve(
            port,
            host,
            state,
            in_memory,
            stage,
            project_dir,
            require_auth,
            identities,
            resume_collection,
        )
    finally:
        if collecting:
            gc.enable()


def _serve(
    port: int,
    host: str,
    state: Path | None,
    in_memory: bool,
    stage: str,
    project_dir: Path,
    require_auth: str | None,
    identities_file: Path | None,
    resume_collection: Callable[[], None],
) -> None:
    import asyncio

    from lambic._sockets import PortInUseError
    from lambic.console import CONSOLE_PATH
    from lambic.project.identities import IdentitiesError, configured_identities
    from lambic.project.metering import create_meter
    from lambic.services.auth import Authenticator, parse_credentials
    from lambic.services.base import Service, ServiceError
    from lambic.services.factory import create_deferred_services
    from lambic.services.server import serve

    if in_memory and state is not None:
        raise CLIError("Use either --state DIR or --in-memory, not both")
    state_dir = None if in_memory else (state or ProjectPaths(project_dir).state_dir(stage))
    try:
        identities = configured_identities(identities_file)
    except IdentitiesError as exc:
        raise CLIError(str(exc)) from exc
    credentials = None
    if require_auth:
        try:
            access_key, secret = parse_credentials(require_auth)
        except ValueError as exc:
            raise CLIError(f"--require-auth: {exc}") from exc
        credentials = {access_key: secret}
    elif require_auth is not None and identities is None:
        raise CLIError(
            "--require-auth needs ACCESS_KEY:SECRET, or --identities FILE (or "
            "LAMBIC_IDENTITIES) listing the keys to accept"
        )
    auth = Authenticator(credentials, identities=identities, require=require_auth is not None)
    # One process per state directory (runtime.endpoint_file): never a second set of
    # engines over the files a `lambic local` or `lambic invoke` has open.
    lock = ServicesLock(state_dir / SERVICES_LOCK_FILE) if state_dir is not None else None
    if lock is not None and not lock.try_acquire():
        raise CLIError(
            f"The state in {state_dir} is in use by another Lambic process "
            f"(pid {lock.holder() or '?'}); stop it, or pass --in-memory or --state DIR"
        )
    endpoint_file = None
    meter = create_meter(state_dir)  # what AWS would bill, for `lambic cost`
    try:
        # Each service is imported and opened by the first request that needs it, and
        # only then: start-up waits for none of them, and a service never called costs
        # no memory (`services._deferred`).
        built = create_deferred_services(state_dir, meter=meter, warm=False, identities=identities)
        built.on_first_answer(resume_collection)
        where = "in memory" if state_dir is None else f"state in {state_dir}"

        by_name = built.by_name()

        def console() -> Service:
            from lambic.console import ConsoleService

            # The console's service panels (S3, DynamoDB, SQS, SNS, EventBridge).
            return ConsoleService(None, services=by_name)

        # Deferred too: it is built by its first page or after the first answer.
        served = {**by_name, "console": built.add("console", console)}

        def ready(bound_port: int) -> None:
            nonlocal endpoint_file
            asyncio.get_running_loop().call_later(1.0, resume_collection)
            names = ", ".join(by_name)
            url = f"http://{host}:{bound_port}"
            click.echo(f"Lambic services ({names}) on {url} ({where})")
            click.echo(f"Console: {url}{CONSOLE_PATH}")
            if state_dir is not None and not auth.require:
                # `lambic invoke` uses these services as it would `lambic local`'s (it
                # signs with the local keys, so not when --require-auth is set).
                endpoint_file = state_dir / LOCAL_ENDPOINT_FILE
                write_endpoint(endpoint_file, url)

        try:
            serve(served, host=host, port=port, auth=auth, on_ready=ready)
        except (ServiceError, PortInUseError):
            built.close()
            raise
    finally:
        if meter is not None:
            meter.close()
        if endpoint_file is not None:
            remove_endpoint(endpoint_file)
        if lock is not None:
            lock.release()
