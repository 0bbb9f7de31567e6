"""The estimate of one project stage's local run: what `lambic cost` prints and the
console's cost panel shows, computed once here so the two always agree.

The app is not imported (a broken app.py still has a bill): functions' architectures
come from the project's config; the quantities from the stage's log store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from lambic.cost.model import CostError, Estimate, estimate
from lambic.cost.prices import load_prices
from lambic.cost.quantities import read_quantities
from lambic.project.config import API_FUNCTION, load_config
from lambic.project.paths import ProjectPaths

__all__ = ["stage_estimate"]


def _architectures(project_dir: Path, stage: str) -> Callable[[str], str]:
    """Deployed function name -> architecture, from the config (the app is not read)."""
    config = load_config(project_dir)
    app = config.app_name or project_dir.resolve().name
    prefix = f"{app}-{stage}"

    def architecture(name: str) -> str:
        if name == prefix:
            short = API_FUNCTION
        elif name.startswith(prefix + "-"):
            short = name[len(prefix) + 1 :]
        else:  # a function of another app name (renamed since): Lambda's default
            return "x86_64"
        return config.resolve(stage, short, app_name=app).architecture

    return architecture


def stage_estimate(
    project_dir: Path,
    stage: str,
    *,
    since_ms: int,
    until_ms: int,
    region: str = "us-east-1",
    free_tier: bool = True,
    per_day: float | None = None,
) -> Estimate:
    """Price what ran in `stage` between `since_ms` and `until_ms`, projected to a month.

    Raises `CostError` (nothing ran yet, an unknown region), `PriceError`,
    `ProjectError` (a bad config) or `sqlite3.Error`.
    """
    prices = load_prices()
    if region not in prices.regions():
        raise CostError(
            f"--region {region}: the price table ({prices.date}) has prices for "
            f"{', '.join(prices.regions())}"
        )
    path = ProjectPaths(project_dir).state_dir(stage) / "logs.sqlite3"
    if not path.exists():
        raise CostError(
            f"Nothing has run in stage {stage} yet ({path} does not exist); "
            "run `lambic local` and use the app, then ask again"
        )
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        observed = read_quantities(
            conn,
            since_ms=since_ms,
            until_ms=until_ms,
            architecture=_architectures(project_dir, stage),
        )
    finally:
        conn.close()
    return estimate(observed, prices, region=region, free_tier=free_tier, per_day=per_day)
