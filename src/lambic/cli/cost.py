"""`lambic cost`: what the app that ran locally would cost on AWS, and a month of it.

A thin view of `lambic.cost`: read the stage's metered quantities over `--since`,
price them in `--region`, project them to a month at the observed rate or at
`--per-day N` requests, with or without the free tier; print a table or JSON.
The app is not imported (a broken app.py still has a bill): architectures come from
the project's config.

    lambic cost                         # everything metered so far, us-east-1
    lambic cost --since 1h --region eu-west-1
    lambic cost --per-day 50000 --no-free-tier --format json
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lambic.cli.errors import CLIError
from lambic.cli.logs import parse_since
from lambic.cli.options import project_dir_option, stage_option
from lambic.project.errors import ProjectError

if TYPE_CHECKING:
    from lambic.cost import Estimate, Line

__all__ = ["cost"]


@click.command()
@project_dir_option()
@stage_option("The stage whose local usage to price.")
@click.option(
    "--since",
    default=None,
    help="Window start: a duration (30m, 2h, 1d, 1w) or an ISO-8601 time (default: all).",
)
@click.option(
    "--until",
    default=None,
    help="Window end: an ISO-8601 time or epoch milliseconds (default: now). With it, "
    "two runs price exactly the same window (the console shows its `until`).",
)
@click.option(
    "--per-day",
    type=float,
    default=None,
    help="Project at N requests a day (API Gateway's, else Lambda's) instead of the observed rate.",
)
@click.option("--region", default="us-east-1", show_default=True, help="Price in this region.")
@click.option(
    "--free-tier/--no-free-tier",
    default=True,
    show_default=True,
    help="Take the always-free allowances off the month.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def cost(
    project_dir: Path,
    stage: str,
    since: str | None,
    until: str | None,
    per_day: float | None,
    region: str,
    free_tier: bool,
    output: str,
) -> None:
    """What the local run would cost on AWS, projected to a month."""
    # Imported here: every other command starts without the cost model.
    from lambic.cost import CostError, PriceError, stage_estimate

    now = time.time()
    since_ms = parse_since(since, now) if since else 0
    try:
        result = stage_estimate(
            project_dir,
            stage,
            since_ms=since_ms,
            until_ms=_until_ms(until, now),
            region=region,
            free_tier=free_tier,
            per_day=per_day,
        )
    except (CostError, PriceError, ProjectError, sqlite3.Error) as exc:
        raise CLIError(str(exc)) from exc
    if output == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(render_table(result, stage))


def _until_ms(text: str | None, now: float) -> int:
    if text is None:
        return int(now * 1000) + 1
    if text.strip().isdigit():
        return int(text)
    return parse_since(text, now)


# ---- the table ---------------------------------------------------------------------


def _plain(value: float, digits: int) -> str:
    """`value` to `digits` significant digits, never in scientific notation."""
    return f"{Decimal(f'{value:.{digits}g}'):f}"


def _money(value: float) -> str:
    if value == 0:
        return "$0"
    if value < 0.000001:
        return "<$0.000001"  # JSON has the exact figure; a table needs no more
    if value < 0.01:
        return "$" + _plain(value, 3)  # $0.0000256, not $0.00
    return f"${value:,.2f}"


def _price(value: float) -> str:
    """A unit price exactly as the table lists it: $3.50, $0.125, $0.0000166667."""
    return f"${value:.2f}" if round(value, 2) == value else "$" + _plain(value, 10)


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    if value < 0.001:
        return "<0.001"  # a few bytes of storage in GB-months
    return f"{value:,.1f}" if value >= 10 else _plain(value, 3)


def _per(per: float) -> str:
    return {1: "", 1000: "1K ", 100_000: "100K ", 1_000_000: "1M "}.get(int(per), f"{per:g} ")


def _clock(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _span(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _row(line: Line) -> list[str]:
    unchecked = " *" if line.verified is None else ""  # footnoted under the table
    return [
        line.description,
        line.resource or "(account)",  # e.g. ListBuckets names no bucket
        f"{_number(line.quantity)} {line.unit}",
        f"{_price(line.unit_price)} / {_per(line.per)}{line.unit}{unchecked}",
        _money(line.amount),
        _money(line.monthly_amount),
        _money(line.monthly_billed),
    ]


def render_table(result: Estimate, stage: str) -> str:
    """The estimate as `lambic cost` prints it."""
    from lambic.cost.model import SERVICE_NAMES

    if not result.lines:
        return (
            f"Nothing billable metered in stage {stage} for this window; run `lambic local`, "
            "use the app, then ask again."
        )
    if result.basis == "observed":
        rate = f"at the observed rate (x{result.factor:,.1f})"
    else:
        rate = f"at {result.per_day:,.0f} requests a day (x{result.factor:,.2f})"
    free = "after the always-free tier" if result.free_tier else "without the free tier"
    lines = [
        f"Stage {stage}, {result.region} prices of {result.price_date} ({result.currency})",
        f"Activity {_clock(result.first_ms)} to {_clock(result.last_ms)} "
        f"({_span(result.span_hours)}); a month ({result.month_hours:g} h) {rate}",
        "",
    ]
    header = ["WHAT", "RESOURCE", "QUANTITY", "UNIT PRICE", "COST", "MONTH", "MONTH BILLED"]
    rows = [header, *(_row(line) for line in result.lines)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {4, 5, 6}
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(f"Total: {_money(result.amount)} for the window; a month "
                 f"{_money(result.monthly_amount)} at list price, "
                 f"{_money(result.monthly_billed)} {free}.")  # fmt: skip
    services = ", ".join(
        f"{SERVICE_NAMES.get(name, name)} {_money(t['monthly_billed'])}"
        for name, t in result.by_service().items()
    )
    lines.append(f"Per month by service ({free}): {services}")
    functions = result.by_function()
    if functions:
        lines.append(
            "Per month by function: "
            + ", ".join(f"{name} {_money(t['monthly_billed'])}" for name, t in functions.items())
        )
    lines.append(result.summary())
    if result.unverified:
        lines.append(
            f"* Not verified: the {result.region} price of {', '.join(result.unverified)} "
            "was shipped without being checked against AWS's pricing pages; these amounts "
            "may be wrong. Check them there (the price table names its sources)."
        )
    if result.unpriced:
        lines.append(
            f"Not priced (no {result.region} price in the table): {', '.join(result.unpriced)}"
        )
    return "\n".join(lines)
