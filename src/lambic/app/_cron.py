"""Parse and evaluate the six fields of an EventBridge cron expression (private).

`lambic.app.schedules.Cron` validates its fields through `compile_cron`, which turns
the text into sets of allowed values plus a day matcher, and walks calendars with
`next_match`. Errors are `CronFieldError` (a ValueError); `schedules` re-raises them
as `ScheduleExpressionError` so users see one exception type.

The syntax is EventBridge's (Quartz-derived), field by field:

    field          values             wildcards
    minutes        0-59               , - * /
    hours          0-23               , - * /
    day-of-month   1-31               , - * ? / L W
    month          1-12 or JAN-DEC    , - * /
    day-of-week    1-7 or SUN-SAT     , - * ? L #      (1 = SUN ... 7 = SAT)
    year           1970-2199          , - * /
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

__all__ = ["CompiledCron", "CronFieldError", "compile_cron"]


class CronFieldError(ValueError):
    """One cron field is malformed; the message names the field and the problem."""


_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
_DAY_NAMES = {
    name: number
    for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}
_INT = re.compile(r"[0-9]+")


class _FieldSpec:
    __slots__ = ("high", "label", "low", "names", "wildcards")

    def __init__(self, label: str, low: int, high: int, names: dict[str, int], wildcards: str):
        self.label = label
        self.low = low
        self.high = high
        self.names = names
        self.wildcards = wildcards  # the special characters beyond digits and names


_MINUTES = _FieldSpec("minutes", 0, 59, {}, ",-*/")
_HOURS = _FieldSpec("hours", 0, 23, {}, ",-*/")
_DAY_OF_MONTH = _FieldSpec("day-of-month", 1, 31, {}, ",-*?/LW")
_MONTH = _FieldSpec("month", 1, 12, _MONTH_NAMES, ",-*/")
_DAY_OF_WEEK = _FieldSpec("day-of-week", 1, 7, _DAY_NAMES, ",-*?L#")
_YEAR = _FieldSpec("year", 1970, 2199, {}, ",-*/")


def _fail(spec: _FieldSpec, text: str, problem: str) -> CronFieldError:
    return CronFieldError(f"{spec.label} field {text!r}: {problem}")


def _value(spec: _FieldSpec, token: str, whole: str) -> int:
    upper = token.upper()
    if upper in spec.names:
        return spec.names[upper]
    if not _INT.fullmatch(token):
        allowed = f"{spec.low}-{spec.high}"
        if spec.names:
            names = list(spec.names)
            allowed += f" or {names[0]}-{names[-1]}"
        raise _fail(spec, whole, f"{token!r} is not a value; use {allowed}")
    number = int(token)
    if not spec.low <= number <= spec.high:
        raise _fail(spec, whole, f"{number} is out of range {spec.low}-{spec.high}")
    return number


def _check_wildcards(spec: _FieldSpec, text: str) -> None:
    letters = set("".join(spec.names))
    for char in text:
        if char.isdigit() or char.upper() in letters:
            continue
        if char not in spec.wildcards:
            allowed = " ".join(spec.wildcards)
            raise _fail(spec, text, f"{char!r} is not allowed here (allowed: {allowed})")


def _parse_item(spec: _FieldSpec, item: str, whole: str) -> set[int]:
    """One comma-separated item: `*`, `n`, `a-b`, each optionally `/step`."""
    if not item:
        raise _fail(spec, whole, "empty item in list")
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not _INT.fullmatch(step_text):
            raise _fail(spec, whole, f"increment {step_text!r} must be a positive integer")
        step = int(step_text)
        span = spec.high - spec.low + 1
        if not 1 <= step <= span:
            raise _fail(spec, whole, f"increment {step} must be between 1 and {span}")
    if base == "*":
        start, end = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(spec, first, whole), _value(spec, last, whole)
        if start > end:
            # AWS documents ranges as low-high; a wrapping range is ambiguous, so we ask
            # for the explicit list rather than guess.
            raise _fail(
                spec,
                whole,
                f"range {base} runs backwards; write it as two ranges in a list "
                f"(e.g. {first}-{spec.high},{spec.low}-{last})",
            )
    else:
        start = _value(spec, base, whole)
        # Quartz (and so AWS): "5/15" means 5, 20, 35, ... up to the field's maximum.
        end = spec.high if slash else start
    return set(range(start, end + 1, step))


def _parse_values(spec: _FieldSpec, text: str) -> frozenset[int]:
    _check_wildcards(spec, text)
    values: set[int] = set()
    for item in text.split(","):
        values |= _parse_item(spec, item, text)
    return frozenset(values)


class _DayRule:
    """Which days of a month match: plain values plus AWS's L / W / # forms."""

    # Plain classes, not dataclasses: `dataclasses` costs import time in cold starts.
    __slots__ = (
        "days_of_month",
        "days_of_week",
        "last_day",
        "last_of_week_day",
        "last_weekday",
        "nearest_weekday",
        "nth_week_day",
    )

    def __init__(
        self,
        *,
        days_of_month: frozenset[int] = frozenset(),
        last_day: bool = False,
        last_weekday: bool = False,
        nearest_weekday: int | None = None,
        days_of_week: frozenset[int] = frozenset(),
        last_of_week_day: int | None = None,
        nth_week_day: tuple[int, int] | None = None,
    ) -> None:
        self.days_of_month = days_of_month
        self.last_day = last_day  # L in day-of-month
        self.last_weekday = last_weekday  # LW
        self.nearest_weekday = nearest_weekday  # 15W
        self.days_of_week = days_of_week  # 1 = SUN ... 7 = SAT
        self.last_of_week_day = last_of_week_day  # 6L in day-of-week: last Friday
        self.nth_week_day = nth_week_day  # 3#2: (TUE, second)

    def days(self, year: int, month: int) -> list[int]:
        first_weekday, length = calendar.monthrange(year, month)
        matched = {d for d in self.days_of_month if d <= length}
        if self.last_day:
            matched.add(length)
        if self.last_weekday:
            matched.add(_nearest_weekday(year, month, length, length))
        if self.nearest_weekday is not None and self.nearest_weekday <= length:
            matched.add(_nearest_weekday(year, month, self.nearest_weekday, length))
        if self.days_of_week or self.last_of_week_day or self.nth_week_day:
            for day in range(1, length + 1):
                aws_dow = _aws_weekday(first_weekday, day)
                if aws_dow in self.days_of_week or (
                    self.last_of_week_day == aws_dow and day + 7 > length
                ):
                    matched.add(day)
                elif self.nth_week_day is not None:
                    wanted_dow, nth = self.nth_week_day
                    if aws_dow == wanted_dow and (day - 1) // 7 + 1 == nth:
                        matched.add(day)
        return sorted(matched)


def _aws_weekday(first_weekday: int, day: int) -> int:
    # calendar: Monday = 0 ... Sunday = 6; AWS: Sunday = 1 ... Saturday = 7.
    python_weekday = (first_weekday + day - 1) % 7
    return (python_weekday + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int:
    """Quartz's `W`: the weekday nearest `day` without leaving the month."""
    weekday = calendar.weekday(year, month, day)
    if weekday < 5:
        return day
    if weekday == 5:  # Saturday: Friday before, unless that is in the previous month
        return day - 1 if day > 1 else day + 2
    # Sunday: Monday after, unless that is in the next month
    return day + 1 if day < length else day - 2


def _parse_day_of_month(text: str) -> _DayRule:
    spec = _DAY_OF_MONTH
    _check_wildcards(spec, text)
    upper = text.upper()
    if upper == "L":
        return _DayRule(last_day=True)
    if upper == "LW":
        return _DayRule(last_weekday=True)
    if upper.endswith("W"):
        day_text = upper[:-1]
        if not _INT.fullmatch(day_text):
            raise _fail(spec, text, "W must follow a single day of the month, e.g. 15W")
        return _DayRule(nearest_weekday=_value(spec, day_text, text))
    if "L" in upper or "W" in upper:
        raise _fail(spec, text, "L and W stand alone (L, LW, 15W); they cannot be in a list")
    return _DayRule(days_of_month=_parse_values(spec, text))


def _parse_day_of_week(text: str) -> _DayRule:
    spec = _DAY_OF_WEEK
    _check_wildcards(spec, text)
    upper = text.upper()
    if "#" in upper:
        day_text, _, nth_text = upper.partition("#")
        if "," in upper or "-" in upper:
            raise _fail(spec, text, "with # the field can hold only one expression, e.g. 3#2")
        if not _INT.fullmatch(nth_text) or not 1 <= int(nth_text) <= 5:
            raise _fail(spec, text, "the number after # must be 1-5 (which week of the month)")
        return _DayRule(nth_week_day=(_value(spec, day_text, text), int(nth_text)))
    if upper == "L":
        # Quartz: L alone in day-of-week is the last day of the week, Saturday.
        return _DayRule(days_of_week=frozenset({7}))
    if upper.endswith("L") and upper not in spec.names:
        day_text = text[:-1]
        if "," in day_text or "-" in day_text or day_text in ("", "*"):
            raise _fail(spec, text, "L must follow a single day of the week, e.g. 6L or FRIL")
        return _DayRule(last_of_week_day=_value(spec, day_text, text))
    return _DayRule(days_of_week=_parse_values(spec, text))


class CompiledCron:
    """The allowed values of each field, ready for calendar walks."""

    __slots__ = ("day_rule", "hours", "minutes", "months", "years")

    def __init__(
        self,
        *,
        minutes: tuple[int, ...],
        hours: tuple[int, ...],
        months: tuple[int, ...],
        years: tuple[int, ...],
        day_rule: _DayRule,
    ) -> None:
        self.minutes = minutes
        self.hours = hours
        self.months = months
        self.years = years
        self.day_rule = day_rule

    def next_match(self, after: datetime) -> datetime | None:
        """The first matching minute strictly after `after` (aware, UTC), or None."""
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for candidate in self._walk(start):
            return candidate
        return None

    def _walk(self, start: datetime) -> Iterator[datetime]:
        for year in self.years:
            if year < start.year:
                continue
            same_year = year == start.year
            for month in self.months:
                if same_year and month < start.month:
                    continue
                same_month = same_year and month == start.month
                for day in self.day_rule.days(year, month):
                    if same_month and day < start.day:
                        continue
                    same_day = same_month and day == start.day
                    for hour in self.hours:
                        if same_day and hour < start.hour:
                            continue
                        same_hour = same_day and hour == start.hour
                        for minute in self.minutes:
                            if same_hour and minute < start.minute:
                                continue
                            yield datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def compile_cron(
    minutes: str, hours: str, day_of_month: str, month: str, day_of_week: str, year: str
) -> CompiledCron:
    """Validate the six fields and compile them; raise `CronFieldError` on bad input."""
    dom_any, dow_any = day_of_month == "?", day_of_week == "?"
    if dom_any == dow_any:
        # AWS rejects both "?" and neither "?": one day field must give way to the other.
        raise CronFieldError(
            "exactly one of day-of-month and day-of-week must be '?' "
            f"(got {day_of_month!r} and {day_of_week!r}); e.g. cron(0 12 * * ? *) "
            "for every day or cron(0 12 ? * MON-FRI *) for weekdays"
        )
    for spec, text in ((_MINUTES, minutes), (_HOURS, hours), (_MONTH, month), (_YEAR, year)):
        if "?" in text:
            raise _fail(spec, text, "'?' is allowed only in day-of-month or day-of-week")
    if "?" in day_of_month and not dom_any:
        raise _fail(_DAY_OF_MONTH, day_of_month, "'?' must stand alone")
    if "?" in day_of_week and not dow_any:
        raise _fail(_DAY_OF_WEEK, day_of_week, "'?' must stand alone")
    day_rule = _parse_day_of_week(day_of_week) if dom_any else _parse_day_of_month(day_of_month)
    return CompiledCron(
        minutes=tuple(sorted(_parse_values(_MINUTES, minutes))),
        hours=tuple(sorted(_parse_values(_HOURS, hours))),
        months=tuple(sorted(_parse_values(_MONTH, month))),
        years=tuple(sorted(_parse_values(_YEAR, year))),
        day_rule=day_rule,
    )
