"""The price table: AWS's list prices per region, shipped as data (`prices.json`).

Each entry is keyed `<service>.<metric>` (`lambda.requests`, `dynamodb.write_units`,
`s3.tier1`...) and says what it prices (`unit`, `per`: the quantity one price is
for, e.g. 1,000,000 requests), where the figure comes from (`sources`), the free
tier if any (`free`: quantity per month, `kind` "always" or "12-months", and a
`pool` when several keys share one allowance) and a price per region: a number, or
a volume ladder of `[up_to, price]` (cumulative monthly quantity where the tier
ends, null for the last tier).

`verified` says which regions' figures were checked against a source, when and
where: `{"us-east-1": {"date": "2026-12-06", "source": "https://..."}}`. A region
missing there has a price that was shipped unchecked; `lambic cost` prices with it
and says so (`Price.verification(region)` is None), rather than presenting a guess
as AWS's figure.

    >>> table = load_prices()
    >>> price = table.price("lambda.requests")
    >>> price.unit_price("us-east-1"), price.per
    (0.2, 1000000.0)
    >>> price.amount("us-east-1", 3_000_000)
    0.6
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["FreeTier", "Price", "PriceError", "PriceTable", "Verification", "load_prices"]

#: Tiers of one region: (cumulative quantity where the tier ends or None, price per `per`).
Ladder = tuple[tuple[float | None, float], ...]


class PriceError(Exception):
    """The price table is unreadable or has no price for what was asked."""


@dataclass(frozen=True)
class FreeTier:
    quantity: float
    kind: str  # "always" | "12-months"
    pool: str  # keys sharing one monthly allowance share a pool name


@dataclass(frozen=True)
class Verification:
    """A region's figure checked against `source` on `date` (ISO 8601)."""

    date: str
    source: str


@dataclass(frozen=True)
class Price:
    key: str
    description: str
    unit: str
    per: float
    sources: tuple[str, ...]
    regions: dict[str, Ladder]
    free: FreeTier | None = None
    verified: dict[str, Verification] = field(default_factory=dict)

    def verification(self, region: str) -> Verification | None:
        """Where and when `region`'s figure was checked; None if it never was."""
        return self.verified.get(region)

    def ladder(self, region: str) -> Ladder:
        try:
            return self.regions[region]
        except KeyError:
            raise PriceError(
                f"The price table has no {self.key} price for {region}; "
                f"it has {', '.join(sorted(self.regions))}"
            ) from None

    def unit_price(self, region: str) -> float:
        """The first tier's price per `per` units."""
        return self.ladder(region)[0][1]

    def amount(self, region: str, quantity: float, *, already: float = 0.0) -> float:
        """What `quantity` costs in a month in which `already` units were billed before it
        (so it starts further up the volume ladder)."""
        total = 0.0
        start, end = already, already + quantity
        floor = 0.0
        for up_to, price in self.ladder(region):
            top = end if up_to is None else min(end, up_to)
            low = max(start, floor)
            if top > low:
                total += (top - low) * price / self.per
            if up_to is None or end <= up_to:
                break
            floor = up_to
        return total


@dataclass(frozen=True)
class PriceTable:
    date: str
    currency: str
    month_hours: float
    notes: tuple[str, ...]
    prices: dict[str, Price]

    def price(self, key: str) -> Price:
        try:
            return self.prices[key]
        except KeyError:
            raise PriceError(f"The price table has no price named {key}") from None

    def regions(self) -> list[str]:
        """Regions every price of the table covers (the ones `lambic cost` offers)."""
        sets = [set(p.regions) for p in self.prices.values() if len(p.regions) > 2]
        return sorted(set.intersection(*sets)) if sets else []


def _ladder(value: Any, key: str, region: str) -> Ladder:
    if isinstance(value, (int, float)):
        return ((None, float(value)),)
    if isinstance(value, list) and value:
        steps = []
        for step in value:
            up_to, price = step
            steps.append((None if up_to is None else float(up_to), float(price)))
        if steps[-1][0] is not None:
            steps.append((None, steps[-1][1]))  # past the last listed tier: its price
        return tuple(steps)
    raise PriceError(f"{key}: the price for {region} must be a number or [[up_to, price], ...]")


def _verified(raw: Any, key: str, regions: dict[str, Ladder]) -> dict[str, Verification]:
    checked: dict[str, Verification] = {}
    for region, entry in (raw or {}).items():
        if region not in regions:
            raise PriceError(f"{key}: verified names {region}, which has no price")
        checked[region] = Verification(str(entry["date"]), str(entry["source"]))
    return checked


def _price(key: str, raw: dict[str, Any]) -> Price:
    free = raw.get("free")
    regions = {r: _ladder(v, key, r) for r, v in raw["regions"].items()}
    return Price(
        key=key,
        description=str(raw["description"]),
        unit=str(raw["unit"]),
        per=float(raw["per"]),
        sources=tuple(raw.get("sources") or ()),
        regions=regions,
        free=(
            FreeTier(float(free["quantity"]), str(free["kind"]), str(free.get("pool", key)))
            if free
            else None
        ),
        verified=_verified(raw.get("verified"), key, regions),
    )


def load_prices(path: Path | None = None) -> PriceTable:
    """The price table shipped with Lambic, or the one at `path`."""
    try:
        if path is None:
            text = resources.files("lambic.cost").joinpath("prices.json").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        raw = json.loads(text)
        return PriceTable(
            date=str(raw["date"]),
            currency=str(raw["currency"]),
            month_hours=float(raw["month_hours"]),
            notes=tuple(raw.get("notes") or ()),
            prices={key: _price(key, entry) for key, entry in raw["prices"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PriceError(f"Cannot read the price table: {exc}") from exc
