"""EventBridge schedule expressions: `Rate`, `Cron`, and `parse_schedule`.

`@app.schedule(...)` takes a `Rate`, a `Cron` or the AWS text form; the deployer
writes `.to_string()` into the EventBridge rule and the local scheduler asks
`.next_fire_after()` when to fire next. Both follow EventBridge's rules exactly:

    >>> Rate(5, unit=Rate.MINUTES).to_string()
    'rate(5 minutes)'
    >>> parse_schedule("cron(0 12 ? * MON-FRI *)").to_string()
    'cron(0 12 ? * MON-FRI *)'
    >>> from datetime import datetime, timezone
    >>> Cron(15, 10, "?", "*", "6L", "*").next_fire_after(
    ...     datetime(2026, 11, 1, tzinfo=timezone.utc))
    datetime.datetime(2026, 11, 27, 10, 15, tzinfo=datetime.timezone.utc)

Errors:

    ChaliceError (lambic.app.errors)
    └── ScheduleExpressionError (also a ValueError)   the expression is not valid AWS syntax

AWS evaluates cron expressions in UTC (EventBridge rules have no time zone), so all
times here are UTC: naive datetimes are taken as UTC, aware ones are converted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from lambic.app._cron import CompiledCron, CronFieldError, compile_cron
from lambic.app.errors import ChaliceError

__all__ = [
    "Cron",
    "Rate",
    "ScheduleExpression",
    "ScheduleExpressionError",
    "parse_schedule",
]


class ScheduleExpressionError(ChaliceError, ValueError):
    """A `rate(...)` or `cron(...)` expression breaks EventBridge's syntax rules."""


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class ScheduleExpression:
    """Base of `Rate` and `Cron` (Chalice's name, so `isinstance` checks port)."""

    def to_string(self) -> str:
        """The AWS expression, e.g. `rate(5 minutes)`."""
        raise NotImplementedError

    def next_fire_after(
        self, after: datetime, *, anchor: datetime | None = None
    ) -> datetime | None:
        """The first fire time strictly after `after` (UTC), or None if there is none."""
        raise NotImplementedError

    def fires_between(
        self, start: datetime, end: datetime, *, anchor: datetime | None = None
    ) -> Iterator[datetime]:
        """Yield every fire time `t` with `start <= t < end`, in order (UTC)."""
        start, end = _as_utc(start), _as_utc(end)
        moment = self.next_fire_after(start - timedelta(microseconds=1), anchor=anchor)
        while moment is not None and moment < end:
            yield moment
            moment = self.next_fire_after(moment, anchor=anchor)

    def __str__(self) -> str:
        return self.to_string()


_UNIT_SECONDS = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86400}
_UNIT_ALIASES = {
    "MINUTE": "MINUTES",
    "MINUTES": "MINUTES",
    "HOUR": "HOURS",
    "HOURS": "HOURS",
    "DAY": "DAYS",
    "DAYS": "DAYS",
}


class Rate(ScheduleExpression):
    """A fixed-interval schedule: `Rate(5, unit=Rate.MINUTES)` is `rate(5 minutes)`.

    AWS counts a rate from the moment the rule is created: fires are at
    `anchor + k * period` for k = 1, 2, ...
    """

    MINUTES = "MINUTES"
    HOURS = "HOURS"
    DAYS = "DAYS"

    def __init__(self, value: int, unit: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ScheduleExpressionError(
                f"rate value must be a positive integer, got {value!r}; e.g. Rate(5, Rate.MINUTES)"
            )
        canonical = _UNIT_ALIASES.get(unit.upper()) if isinstance(unit, str) else None
        if canonical is None:
            raise ScheduleExpressionError(
                f"rate unit must be Rate.MINUTES, Rate.HOURS or Rate.DAYS, got {unit!r}"
            )
        self.value: int = value
        self.unit: str = canonical

    @property
    def period(self) -> timedelta:
        """The interval between two fires."""
        return timedelta(seconds=self.value * _UNIT_SECONDS[self.unit])

    def to_string(self) -> str:
        unit = self.unit.lower()
        if self.value == 1:
            # AWS requires the singular unit for 1 ("rate(1 minute)") and rejects it otherwise.
            unit = unit[:-1]
        return f"rate({self.value} {unit})"

    def next_fire_after(
        self, after: datetime, *, anchor: datetime | None = None
    ) -> datetime | None:
        """`anchor + k * period` for the smallest k >= 1 past `after`.

        Without an anchor the rule is taken to start at `after`, so the next fire is
        one period later.
        """
        after = _as_utc(after)
        start = after if anchor is None else _as_utc(anchor)
        period = self.period
        elapsed = after - start
        periods = 1 if elapsed < period else elapsed // period + 1
        return start + periods * period

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rate):
            return NotImplemented
        return (self.value, self.unit) == (other.value, other.unit)

    def __hash__(self) -> int:
        return hash(("rate", self.value, self.unit))

    def __repr__(self) -> str:
        return f"Rate({self.value}, unit=Rate.{self.unit})"


class Cron(ScheduleExpression):
    """A calendar schedule in EventBridge's six-field cron syntax (UTC).

        Cron(0, 12, "?", "*", "MON-FRI", "*")     # noon UTC on weekdays
        Cron("0/15", "*", "*", "*", "?", "*")     # every quarter hour
        Cron(0, 9, "LW", "*", "?", "*")           # 09:00 on the last weekday of the month

    Day-of-week runs 1-7 = SUN-SAT as in AWS; exactly one of day-of-month and
    day-of-week must be "?". Invalid fields raise `ScheduleExpressionError` at once.
    """

    def __init__(
        self,
        minutes: str | int,
        hours: str | int,
        day_of_month: str | int,
        month: str | int,
        day_of_week: str | int,
        year: str | int,
    ) -> None:
        self.minutes: str | int = minutes
        self.hours: str | int = hours
        self.day_of_month: str | int = day_of_month
        self.month: str | int = month
        self.day_of_week: str | int = day_of_week
        self.year: str | int = year
        fields = self._fields()
        for text in fields:
            if not text or any(ch.isspace() for ch in text):
                raise ScheduleExpressionError(
                    f"cron field {text!r} must be non-empty and contain no spaces"
                )
        try:
            self._compiled: CompiledCron = compile_cron(*fields)
        except CronFieldError as exc:
            raise ScheduleExpressionError(f"invalid {self.to_string()}: {exc}") from exc

    def _fields(self) -> tuple[str, str, str, str, str, str]:
        return (
            str(self.minutes),
            str(self.hours),
            str(self.day_of_month),
            str(self.month),
            str(self.day_of_week),
            str(self.year),
        )

    def to_string(self) -> str:
        return "cron({})".format(" ".join(self._fields()))

    def next_fire_after(
        self, after: datetime, *, anchor: datetime | None = None
    ) -> datetime | None:
        """The first matching minute strictly after `after`; None once the years run out.

        `anchor` is accepted for symmetry with `Rate` and ignored: a cron schedule
        depends only on the calendar.
        """
        return self._compiled.next_match(_as_utc(after))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cron):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(("cron", *self._fields()))

    def __repr__(self) -> str:
        return "Cron({})".format(", ".join(repr(field) for field in self._fields()))


_RATE = re.compile(r"rate\((?P<value>[^ )]*) (?P<unit>[^ )]*)\)")
_CRON = re.compile(r"cron\((?P<fields>.*)\)")


def parse_schedule(text: str) -> Rate | Cron:
    """Parse an AWS schedule expression: `rate(5 minutes)` or `cron(0 12 * * ? *)`.

    Raises `ScheduleExpressionError` naming what is wrong, as EventBridge's
    PutRule would reject it.
    """
    if not isinstance(text, str):
        raise ScheduleExpressionError(f"schedule expression must be a string, got {text!r}")
    expression = text.strip()
    if expression.startswith("rate("):
        return _parse_rate(expression)
    if expression.startswith("cron("):
        return _parse_cron(expression)
    raise ScheduleExpressionError(
        f"schedule expression {text!r} must be rate(value unit) or cron(6 fields), "
        "e.g. 'rate(5 minutes)' or 'cron(0 12 * * ? *)'"
    )


def _parse_rate(expression: str) -> Rate:
    match = _RATE.fullmatch(expression)
    if match is None:
        raise ScheduleExpressionError(
            f"invalid {expression!r}: write rate(<value> <unit>) with one space, "
            "e.g. rate(1 minute) or rate(5 minutes)"
        )
    value_text, unit_text = match["value"], match["unit"]
    if not value_text.isdigit() or int(value_text) < 1:
        raise ScheduleExpressionError(
            f"invalid {expression!r}: the value must be a positive whole number"
        )
    value = int(value_text)
    singular = {"minute", "hour", "day"}
    plural = {"minutes", "hours", "days"}
    if unit_text not in singular | plural:
        raise ScheduleExpressionError(
            f"invalid {expression!r}: the unit must be minute(s), hour(s) or day(s)"
        )
    if value == 1 and unit_text in plural:
        raise ScheduleExpressionError(
            f"invalid {expression!r}: AWS requires the singular unit for 1, "
            f"e.g. rate(1 {unit_text[:-1]})"
        )
    if value > 1 and unit_text in singular:
        raise ScheduleExpressionError(
            f"invalid {expression!r}: AWS requires a plural unit for values above 1, "
            f"e.g. rate({value} {unit_text}s)"
        )
    return Rate(value, unit_text.upper())


def _parse_cron(expression: str) -> Cron:
    match = _CRON.fullmatch(expression)
    if match is None:
        raise ScheduleExpressionError(f"invalid {expression!r}: write cron(<six fields>)")
    fields = match["fields"].split()
    if len(fields) != 6:
        hint = (
            " (a Unix crontab has 5; AWS adds the year, e.g. cron(0 12 * * ? *))"
            if len(fields) == 5
            else ""
        )
        raise ScheduleExpressionError(
            f"invalid {expression!r}: cron needs 6 fields (minutes hours day-of-month "
            f"month day-of-week year), got {len(fields)}{hint}"
        )
    return Cron(*fields)
