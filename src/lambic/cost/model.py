"""The cost model: observed quantities x the price table = the bill, and its month.

    observed quantities (window) ──price──> amount of the window
            │ x factor (month / observed span, or the stated daily rate)
            v
    monthly quantities ──free tier (always-free, per pool)──price, volume tiers──>
    monthly bill, per line, per service, and what dominates it

A line is one quantity of one resource (a function's GB-seconds, a table's write
units). The window's amount prices the quantity as if it were the month's first
(first tier; no free tier: what ran, at list price). The projection scales request
quantities by `factor`: `month_hours / span_hours` at the observed rate, where the
span runs from the first to the last activity of the window (at least a minute), or
`per_day x month_hours / 24 / observed requests` at a stated rate (the requests are
API Gateway's, else Lambda's invocations), keeping the observed mix. Stored data is
not scaled by traffic: the month holds the average observed size.

Free tier: the always-free allowances (Lambda, SQS, SNS, DynamoDB storage and
streams) are taken off the monthly quantities, shared by the keys of one pool
(x86_64 and arm64 GB-seconds share Lambda's 400,000); the legacy 12-month offers are
listed in the price table and never applied.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lambic.cost.prices import PriceError, PriceTable, Verification
from lambic.cost.quantities import Observed, Quantity

__all__ = ["CostError", "Estimate", "Line", "estimate"]

_GIB = 1024**3
_MIN_SPAN_HOURS = 1 / 60
SERVICE_NAMES = {
    "lambda": "Lambda",
    "apigateway": "API Gateway",
    "dynamodb": "DynamoDB",
    "s3": "S3",
    "sqs": "SQS",
    "sns": "SNS",
    "events": "EventBridge",
}


class CostError(Exception):
    """The estimate cannot be made as asked (say what to change)."""


@dataclass(frozen=True)
class Line:
    service: str
    resource: str
    metric: str
    price_key: str
    description: str
    unit: str
    quantity: float  # in the window, in `unit`
    unit_price: float  # first tier, per `per` units
    per: float
    amount: float  # the window's quantity at `unit_price`
    monthly_quantity: float
    monthly_amount: float  # the month at list price (volume tiers applied)
    free_quantity: float  # of the monthly quantity, covered by the free tier
    monthly_billed: float  # the month after the free tier
    # Where and when this region's unit price was checked; None: shipped unchecked.
    verified: Verification | None = None


@dataclass(frozen=True)
class Estimate:
    region: str
    currency: str
    price_date: str
    month_hours: float
    since_ms: int
    until_ms: int
    first_ms: int | None
    last_ms: int | None
    span_hours: float
    basis: str  # "observed" | "per-day"
    per_day: float | None
    factor: float
    free_tier: bool
    lines: list[Line] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)  # price keys the table lacks

    @property
    def amount(self) -> float:
        return sum(line.amount for line in self.lines)

    @property
    def unverified(self) -> list[str]:
        """Price keys this estimate used whose figure for its region was never checked
        against a source (the table ships them, marked; see `Price.verification`)."""
        return sorted({line.price_key for line in self.lines if line.verified is None})

    @property
    def monthly_amount(self) -> float:
        return sum(line.monthly_amount for line in self.lines)

    @property
    def monthly_billed(self) -> float:
        return sum(line.monthly_billed for line in self.lines)

    def by_service(self) -> dict[str, dict[str, float]]:
        """{service: {amount, monthly_amount, monthly_billed}}, most billed first."""
        totals: dict[str, dict[str, float]] = {}
        for line in self.lines:
            entry = totals.setdefault(
                line.service, {"amount": 0.0, "monthly_amount": 0.0, "monthly_billed": 0.0}
            )
            entry["amount"] += line.amount
            entry["monthly_amount"] += line.monthly_amount
            entry["monthly_billed"] += line.monthly_billed
        return dict(sorted(totals.items(), key=_heaviest))

    def by_function(self) -> dict[str, dict[str, float]]:
        """Lambda's lines per function: {function: {amount, monthly_amount, monthly_billed}}."""
        totals: dict[str, dict[str, float]] = {}
        for line in self.lines:
            if line.service != "lambda":
                continue
            entry = totals.setdefault(
                line.resource, {"amount": 0.0, "monthly_amount": 0.0, "monthly_billed": 0.0}
            )
            entry["amount"] += line.amount
            entry["monthly_amount"] += line.monthly_amount
            entry["monthly_billed"] += line.monthly_billed
        return dict(sorted(totals.items(), key=_heaviest))

    def dominant(self) -> Line | None:
        """The line that weighs most on the month (after the free tier when it applies;
        at list price when everything is free)."""
        if not self.lines:
            return None
        billed = max(self.lines, key=lambda line: line.monthly_billed)
        if billed.monthly_billed > 0:
            return billed
        return max(self.lines, key=lambda line: line.monthly_amount)

    def summary(self) -> str:
        """One sentence saying what dominates the month."""
        line = self.dominant()
        if line is None or line.monthly_amount == 0:
            return "Nothing billable ran in this window."
        what = f"{line.description} ({line.resource})" if line.resource else line.description
        if self.monthly_billed == 0:
            return (
                f"Everything fits in the always-free tier; without it {what} would "
                f"dominate: {_money(line.monthly_amount)} of {_money(self.monthly_amount)} "
                "a month."
            )
        share = line.monthly_billed / self.monthly_billed
        return (
            f"{what} dominates: {_money(line.monthly_billed)} of "
            f"{_money(self.monthly_billed)} a month ({share:.0%})."
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything, for `--format json` and the console: quantities, unit prices,
        amounts, totals per service and per function, the dominant line."""
        dominant = self.dominant()
        return {
            "region": self.region,
            "currency": self.currency,
            "price_date": self.price_date,
            "month_hours": self.month_hours,
            "window": {
                "since_ms": self.since_ms,
                "until_ms": self.until_ms,
                "first_activity_ms": self.first_ms,
                "last_activity_ms": self.last_ms,
                "span_hours": self.span_hours,
            },
            "projection": {"basis": self.basis, "per_day": self.per_day, "factor": self.factor},
            "free_tier": self.free_tier,
            "lines": [asdict(line) for line in self.lines],
            "unpriced": self.unpriced,
            "unverified": self.unverified,
            "totals": {
                "amount": self.amount,
                "monthly_amount": self.monthly_amount,
                "monthly_billed": self.monthly_billed,
            },
            "by_service": self.by_service(),
            "by_function": self.by_function(),
            "dominant": asdict(dominant) if dominant is not None else None,
            "summary": self.summary(),
        }


def _heaviest(item: tuple[str, dict[str, float]]) -> tuple[float, float]:
    """Sort key: the most billed first, then the most at list price."""
    return (-item[1]["monthly_billed"], -item[1]["monthly_amount"])


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.2g}"


def _factor(
    observed: Observed, span_hours: float, month_hours: float, per_day: float | None
) -> float:
    if per_day is None:
        return month_hours / span_hours
    if per_day < 0:
        raise CostError("--per-day must be zero or more requests a day")
    requests = observed.total("apigateway", "requests") or observed.total("lambda", "requests")
    if requests <= 0:
        raise CostError(
            "No requests were observed in this window to scale to --per-day; "
            "send some requests to the app or widen --since"
        )
    return per_day * month_hours / 24 / requests


def estimate(
    observed: Observed,
    prices: PriceTable,
    *,
    region: str = "us-east-1",
    free_tier: bool = True,
    per_day: float | None = None,
) -> Estimate:
    """Price `observed` in `region`; project it to a month (see the module docstring)."""
    if observed.first_ms is not None and observed.last_ms is not None:
        span_hours = max((observed.last_ms - observed.first_ms) / 3_600_000, _MIN_SPAN_HOURS)
    else:
        span_hours = _MIN_SPAN_HOURS
    month = prices.month_hours
    factor = _factor(observed, span_hours, month, per_day) if observed.quantities else 0.0
    lines: list[Line] = []
    unpriced: list[str] = []
    free_left: dict[str, float] = {}
    billed_so_far: dict[str, float] = {}  # per price key, for the volume ladder
    for quantity in sorted(observed.quantities, key=lambda q: (q.price_key, q.resource)):
        try:
            price = prices.price(quantity.price_key)
            unit_price = price.unit_price(region)
        except PriceError:
            if quantity.price_key not in unpriced:
                unpriced.append(quantity.price_key)
            continue
        window_q, monthly_q = _in_price_unit(quantity, span_hours, month, factor)
        free_q = 0.0
        if free_tier and price.free is not None and price.free.kind == "always":
            pool = price.free.pool
            left = free_left.setdefault(pool, price.free.quantity)
            free_q = min(left, monthly_q)
            free_left[pool] = left - free_q
        already = billed_so_far.get(price.key, 0.0)
        gross_already = billed_so_far.get("gross:" + price.key, 0.0)
        lines.append(
            Line(
                service=quantity.service,
                resource=quantity.resource,
                metric=quantity.metric,
                price_key=price.key,
                description=price.description,
                unit=price.unit,
                quantity=window_q,
                unit_price=unit_price,
                per=price.per,
                amount=window_q * unit_price / price.per,
                monthly_quantity=monthly_q,
                monthly_amount=price.amount(region, monthly_q, already=gross_already),
                free_quantity=free_q,
                monthly_billed=price.amount(region, monthly_q - free_q, already=already),
                verified=price.verification(region),
            )
        )
        billed_so_far[price.key] = already + monthly_q - free_q
        billed_so_far["gross:" + price.key] = gross_already + monthly_q
    return Estimate(
        region=region,
        currency=prices.currency,
        price_date=prices.date,
        month_hours=month,
        since_ms=observed.since_ms,
        until_ms=observed.until_ms,
        first_ms=observed.first_ms,
        last_ms=observed.last_ms,
        span_hours=span_hours,
        basis="observed" if per_day is None else "per-day",
        per_day=per_day,
        factor=factor,
        free_tier=free_tier,
        lines=lines,
        unpriced=unpriced,
    )


def _in_price_unit(
    quantity: Quantity, span_hours: float, month_hours: float, factor: float
) -> tuple[float, float]:
    """(window, month) quantities in the price's unit; storage as GB-months."""
    if quantity.metric == "byte_hours":
        # GB-month = byte-hours / 2**30 / hours in a month; the month holds the
        # window's average size all month long.
        return (
            quantity.quantity / _GIB / month_hours,
            quantity.quantity / _GIB / span_hours,
        )
    return quantity.quantity, quantity.quantity * factor
