"""`lambic invoke`: run one function of the project through real execution environments.

The function runs exactly as under `lambic local` (same zygote, environment, limits
and log store), against the local cloud: a running `lambic local`'s services for the
stage, else services opened for this one invocation over the stage's state
(`runtime.stage_services`); `--aws` sends its AWS calls to real AWS instead. The
result payload is printed on stdout and the invocation's log lines on stderr, as
`sam local invoke` does. A function error prints Lambda's error JSON and exits 1; a
problem the user can fix exits 2 with one line.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from pathlib import Path

import click

from lambic.cli.errors import CLIError
from lambic.cli.options import project_dir_option, stage_option
from lambic.project.account import LOCAL_REGION
from lambic.project.manifest import require_app_py
from lambic.runtime import (
    InvocationResult,
    Invoker,
    LogEvent,
    Project,
    create_invoker,
    load_config,
    load_project,
)
from lambic.runtime.local_services import endpoint_environment
from lambic.runtime.stage_services import stage_services

__all__ = ["invoke"]


def _read_payload(payload: str | None, payload_file: Path | None) -> bytes:
    if payload is not None and payload_file is not None:
        raise CLIError("Give either --payload or --payload-file, not both")
    if payload_file is not None:
        try:
            raw = payload_file.read_bytes()
        except OSError as exc:
            raise CLIError(f"Cannot read --payload-file {payload_file}: {exc.strerror}") from exc
        source = f"--payload-file {payload_file}"
    elif payload is not None:
        raw, source = payload.encode("utf-8"), "--payload"
    elif not sys.stdin.isatty():  # as `chalice invoke`: the event may come on stdin
        raw, source = sys.stdin.buffer.read(), "stdin"
    else:
        raw, source = b"", ""
    if not raw.strip():
        return b"{}"
    try:
        json.loads(raw)
    except ValueError as exc:
        raise CLIError(f"{source} is not valid JSON: {exc}") from exc
    return raw


def _scheduled_payload(project: Project, stage: str, name: str) -> bytes:
    """`--schedule`: the Scheduled Event NAME's rule would send if it fired now."""
    from lambic.runtime.event_sources import Account, scheduled_event

    functions = project.functions(stage)
    settings = functions.get(name) or next(
        (f for f in functions.values() if f.deployed_name == name), None
    )
    if settings is None or settings.kind != "schedule":
        schedules = ", ".join(sorted(f.name for f in functions.values() if f.kind == "schedule"))
        raise CLIError(
            f"--schedule needs an @app.schedule handler; {name!r} is "
            + (f"a {settings.kind} function" if settings else "not a function of this app")
            + f". Schedule handlers: {schedules or 'none'}"
        )
    event = scheduled_event(Account(project.app_name, stage), settings.name)
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


async def _invoke(
    project_dir: Path, stage: str, name: str, payload: bytes | None, *, aws: bool
) -> tuple[InvocationResult, list[LogEvent]]:
    if aws:
        return await _run(project_dir, stage, name, payload, extra_env=None, region=_aws_region())
    # Before any service starts: no state directory appears where no project is.
    require_app_py(project_dir.resolve())
    invoker: list[Invoker] = []  # Lambda's API on the services needs it once it exists
    resources = load_config(project_dir).resources(stage)
    echo = functools.partial(click.echo, err=True)
    async with stage_services(
        project_dir, stage, resources, invoker=lambda: invoker[0] if invoker else None, echo=echo
    ) as url:
        # environ={}: the local credentials even when the shell has its own, so no
        # credential of the shell's ever reaches the function (the invoker then copies
        # none either).
        env = endpoint_environment(url, environ={})
        return await _run(project_dir, stage, name, payload, extra_env=env, created=invoker)


async def _run(
    project_dir: Path,
    stage: str,
    name: str,
    payload: bytes | None,
    *,
    extra_env: dict[str, str] | None,
    region: str = LOCAL_REGION,
    created: list[Invoker] | None = None,
) -> tuple[InvocationResult, list[LogEvent]]:
    # With --aws (no extra_env) the function reaches AWS with the shell's identity;
    # reading the app sees the same. Otherwise it sees only the local credentials.
    project = load_project(
        project_dir, stage, extra_env=extra_env, shell_identity=extra_env is None
    )
    for warning in project.warnings(stage):
        click.echo(f"Warning: {warning}", err=True)
    if payload is None:
        payload = _scheduled_payload(project, stage, name)
    lines: list[LogEvent] = []
    # One invocation: warming boto3 in a zygote first would only move that cost out
    # of the Init Duration a real cold start reports, and delay the answer.
    invoker = create_invoker(
        project,
        stage,
        extra_env=extra_env,
        log_sink=lines.append,  # every event the log store gets, as it happens
        region=region,
        preload=("json", "logging", "lambic.app"),
    )
    if created is not None:
        created.append(invoker)
    try:
        return await invoker.invoke(name, payload), lines
    finally:
        await invoker.aclose()


def _aws_region() -> str:
    """The region the shell's AWS configuration picks (the SDK's default if none)."""
    import boto3

    return boto3.session.Session().region_name or LOCAL_REGION


@click.command("invoke")
@click.option("-n", "--name", "function_name", required=True, help="The function to run.")
@click.option("--payload", default=None, help="The event, as JSON (default: stdin or {}).")
@click.option(
    "--payload-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the event from this JSON file.",
)
@click.option(
    "--schedule",
    "as_schedule",
    is_flag=True,
    help="Fire NAME's schedule once now: send it the rule's Scheduled Event.",
)
@click.option(
    "--aws",
    "use_aws",
    is_flag=True,
    help="Let the function reach real AWS with your shell's credentials and region "
    "(default: the local services).",
)
@stage_option("The config stage to use.")
@project_dir_option()
def invoke(
    function_name: str,
    payload: str | None,
    payload_file: Path | None,
    as_schedule: bool,
    use_aws: bool,
    stage: str,
    project_dir: Path,
) -> None:
    """Run function NAME once with an event and print its result.

    NAME is a short name from app.py (`api_handler` for the routes) or the deployed
    name (`myapp-dev-worker`). Its AWS calls go to the running `lambic local`'s
    services for the stage, else to local services started for this invocation over
    the stage's state; `--aws` sends them to real AWS. The result goes to stdout, the
    invocation's log lines to stderr. A function error prints Lambda's error JSON, exit 1.
    """
    if as_schedule and (payload is not None or payload_file is not None):
        raise CLIError("--schedule sends the Scheduled Event; drop --payload/--payload-file")
    body = None if as_schedule else _read_payload(payload, payload_file)
    result, lines = asyncio.run(_invoke(project_dir, stage, function_name, body, aws=use_aws))
    click.echo(result.payload.decode("utf-8", "replace"))
    for event in lines:
        click.echo(event.message.rstrip("\n"), err=True)
    if result.status not in ("ok",):
        click.echo(
            f"Error: {result.function_name} failed ({result.status}: {result.error_type})",
            err=True,
        )
        sys.exit(1)
