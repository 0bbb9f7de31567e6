"""`lambic logs`: read the local log store (`.lambic/state/<stage>/logs.sqlite3`), or
CloudWatch Logs for a stage deployed with `lambic deploy`.

`--source auto` (the default) reads CloudWatch when the stage has a deploy record
(`.lambic/deployed/<stage>.json`) and no local logs, so `lambic logs --stage prod` shows
the deployed functions; `--source local` / `--source aws` choose explicitly.

Log groups are named as on AWS (`/aws/lambda/<app>-<stage>[-<function>]`); `-n`
takes the short name from app.py or the deployed name. The app is not imported, so
logs stay readable while app.py is broken.
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import click

from lambic.cli.errors import CLIError
from lambic.cli.options import project_dir_option, stage_option
from lambic.project.config import load_config
from lambic.project.errors import ProjectError
from lambic.project.paths import ProjectPaths
from lambic.runtime.logstore import StoredEvent, iter_events, log_groups, resolve_log_group

__all__ = ["logs", "parse_since"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_FOLLOW_POLL_SECONDS = 0.5


def parse_since(text: str, now: float) -> int:
    """`10m`, `2h`, `30s`, `1d`, `1w` before `now`, or an ISO-8601 time; epoch ms."""
    match = re.fullmatch(r"(\d+)\s*([smhdw])", text.strip())
    if match:
        return int((now - int(match.group(1)) * _UNITS[match.group(2)]) * 1000)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise CLIError(
            f"--since {text!r} is neither a duration like 10m, 2h, 1d nor an ISO-8601 time"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _format(event: StoredEvent) -> str:
    ts = event.timestamp_ms / 1000
    stamp = (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{event.timestamp_ms % 1000:03d}Z"
    )
    # As `chalice logs`: a short id of the stream tells the environments apart.
    short = event.log_stream.rsplit("]", 1)[-1][:6]
    return f"{stamp} {event.function_name} {short} {event.message}"


def _print_deployed(
    project_dir: Path, stage: str, function: str | None, since_ms: int, follow: bool
) -> None:
    from lambic.deploy.logs import read_deployed_logs

    since = datetime.fromtimestamp(since_ms / 1000, tz=timezone.utc) if since_ms else None
    try:
        for event in read_deployed_logs(
            project_dir, stage, function=function, since=since, follow=follow
        ):
            ts = event.timestamp / 1000
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
            stamp += f".{event.timestamp % 1000:03d}Z"
            short = event.log_stream.rsplit("]", 1)[-1][:6]
            click.echo(f"{stamp} {event.function_name} {short} {event.message.rstrip()}")
    except KeyboardInterrupt:
        return


@click.command("logs")
@click.option("-n", "--name", "function_name", default=None, help="Only this function's logs.")
@click.option("--follow", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option("--since", default=None, help="Only events newer than this: 10m, 2h, 1d, or ISO.")
@stage_option("The config stage to read.")
@project_dir_option("The project directory (holds .lambic/).")
@click.option(
    "--source",
    type=click.Choice(["auto", "local", "aws"]),
    default="auto",
    show_default=True,
    help="local log store, or CloudWatch Logs of the deployed stage; auto picks the one "
    "that exists (local first).",
)
def logs(
    function_name: str | None,
    follow: bool,
    since: str | None,
    stage: str,
    project_dir: Path,
    source: str,
) -> None:
    """Print the functions' logs (START/END/REPORT lines and their output)."""
    since_ms = parse_since(since, time.time()) if since else 0
    paths = ProjectPaths(project_dir)
    db = paths.log_store(stage)
    deployed = paths.deployed_record(stage).exists()
    if source == "aws" or (source == "auto" and deployed and not db.exists()):
        _print_deployed(project_dir, stage, function_name, since_ms, follow)
        return
    if not db.exists():
        raise CLIError(
            f"No logs for stage {stage!r} in {project_dir.resolve()}; "
            "run `lambic local` or `lambic invoke` first"
        )
    try:
        app_name = load_config(project_dir).app_name
    except ProjectError:
        app_name = None  # a broken config must not hide the logs
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        group: str | None = None
        if function_name is not None:
            group = resolve_log_group(conn, function_name, app_name, stage)
            if group is None:
                known = ", ".join(g.rsplit("/", 1)[-1] for g in log_groups(conn)) or "none"
                raise CLIError(
                    f"No logs for function {function_name!r}; functions with logs: {known}"
                )
        last_id = 0
        while True:
            for event in iter_events(conn, group, since_ms=since_ms, after_id=last_id):
                click.echo(_format(event))
                last_id = event.id
            if not follow:
                return
            time.sleep(_FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        return
    finally:
        conn.close()
