"""Rate/Cron: AWS EventBridge schedule syntax, validation and next-fire calendars."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lambic.app.errors import ChaliceError
from lambic.app.schedules import Cron, Rate, ScheduleExpressionError, parse_schedule

UTC = timezone.utc


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def fires(expression: str, start: datetime, end: datetime) -> list[datetime]:
    return list(parse_schedule(expression).fires_between(start, end))


# ----------------------------------------------------------------------------- Rate


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Rate(1, unit=Rate.MINUTES), "rate(1 minute)"),
        (Rate(5, unit=Rate.MINUTES), "rate(5 minutes)"),
        (Rate(1, unit=Rate.HOURS), "rate(1 hour)"),
        (Rate(12, unit=Rate.HOURS), "rate(12 hours)"),
        (Rate(1, unit=Rate.DAYS), "rate(1 day)"),
        (Rate(7, unit=Rate.DAYS), "rate(7 days)"),
    ],
)
def test_rate_renders_singular_for_one_and_plural_otherwise(rate: Rate, text: str) -> None:
    assert rate.to_string() == text
    assert parse_schedule(text) == rate


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rate(1 minutes)", "singular"),
        ("rate(2 minute)", "plural"),
        ("rate(0 minutes)", "positive"),
        ("rate(-5 minutes)", "positive"),
        ("rate(1.5 hours)", "positive"),
        ("rate(5 seconds)", "unit"),
        ("rate(5 weeks)", "unit"),
        ("rate(5  minutes)", "one space"),
        ("rate(5minutes)", "one space"),
        ("rate()", "one space"),
        ("every 5 minutes", "must be rate"),
        ("", "must be rate"),
    ],
)
def test_rejects_invalid_rate_expressions_saying_why(text: str, problem: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=problem):
        parse_schedule(text)


def test_schedule_errors_are_value_errors_under_the_app_root() -> None:
    with pytest.raises(ValueError):
        parse_schedule("rate(0 minutes)")
    assert issubclass(ScheduleExpressionError, ChaliceError)


@pytest.mark.parametrize("value", [0, -1, True, 2.5, "5"])
def test_rate_constructor_rejects_non_positive_integer_values(value: object) -> None:
    with pytest.raises(ScheduleExpressionError, match="positive integer"):
        Rate(value, unit=Rate.MINUTES)  # type: ignore[arg-type]


def test_rate_constructor_rejects_unknown_units() -> None:
    with pytest.raises(ScheduleExpressionError, match=r"Rate\.MINUTES"):
        Rate(5, unit="SECONDS")


def test_rate_fires_at_whole_periods_after_the_anchor() -> None:
    rate = Rate(5, unit=Rate.MINUTES)
    anchor = at(2026, 1, 1, 0, 0, 30)
    assert rate.next_fire_after(at(2026, 1, 1, 0, 0, 30), anchor=anchor) == at(2026, 1, 1, 0, 5, 30)
    assert rate.next_fire_after(at(2026, 1, 1, 0, 7), anchor=anchor) == at(2026, 1, 1, 0, 10, 30)
    # exactly on a fire time: the next one is strictly later
    assert rate.next_fire_after(at(2026, 1, 1, 0, 10, 30), anchor=anchor) == at(
        2026, 1, 1, 0, 15, 30
    )


def test_rate_without_anchor_fires_one_period_after() -> None:
    assert Rate(2, unit=Rate.HOURS).next_fire_after(at(2026, 3, 1, 10, 15)) == at(
        2026, 3, 1, 12, 15
    )


def test_rate_fires_between_lists_every_period() -> None:
    got = list(
        Rate(1, unit=Rate.DAYS).fires_between(
            at(2026, 2, 27), at(2026, 3, 3), anchor=at(2026, 2, 26, 6)
        )
    )
    assert got == [at(2026, 2, 27, 6), at(2026, 2, 28, 6), at(2026, 3, 1, 6), at(2026, 3, 2, 6)]


# ----------------------------------------------------------------------------- Cron


def test_cron_renders_its_fields_as_given() -> None:
    cron = Cron(0, 12, "?", "*", "MON-FRI", "*")
    assert cron.to_string() == "cron(0 12 ? * MON-FRI *)"
    assert parse_schedule("cron(0 12 ? * MON-FRI *)") == cron
    assert str(cron) == "cron(0 12 ? * MON-FRI *)"


def test_every_day_at_noon() -> None:
    assert fires("cron(0 12 * * ? *)", at(2026, 1, 1), at(2026, 1, 4)) == [
        at(2026, 1, 1, 12),
        at(2026, 1, 2, 12),
        at(2026, 1, 3, 12),
    ]


def test_weekdays_use_sun_to_sat_numbering_one_to_seven() -> None:
    # 2026-01-05 is a Monday. 2-6 = MON-FRI in AWS's numbering.
    by_number = fires("cron(30 9 ? * 2-6 *)", at(2026, 1, 3), at(2026, 1, 11))
    by_name = fires("cron(30 9 ? * MON-FRI *)", at(2026, 1, 3), at(2026, 1, 11))
    assert by_number == by_name == [at(2026, 1, d, 9, 30) for d in range(5, 10)]
    assert fires("cron(0 0 ? * 1 *)", at(2026, 1, 1), at(2026, 1, 15)) == [
        at(2026, 1, 4),
        at(2026, 1, 11),
    ]
    assert fires("cron(0 0 ? * sat *)", at(2026, 1, 1), at(2026, 1, 15)) == [
        at(2026, 1, 3),
        at(2026, 1, 10),
    ]


def test_minute_steps_with_slash_and_star_slash() -> None:
    assert fires("cron(0/15 10 * * ? *)", at(2026, 5, 1, 10), at(2026, 5, 1, 11)) == [
        at(2026, 5, 1, 10, m) for m in (0, 15, 30, 45)
    ]
    assert fires("cron(5/20 10 * * ? *)", at(2026, 5, 1, 10), at(2026, 5, 1, 11)) == [
        at(2026, 5, 1, 10, m) for m in (5, 25, 45)
    ]
    assert len(fires("cron(*/5 * * * ? *)", at(2026, 5, 1), at(2026, 5, 2))) == 288


def test_lists_ranges_and_month_names() -> None:
    got = fires("cron(0 8 1 JAN,jul-AUG ? 2026)", at(2026, 1, 1), at(2027, 1, 1))
    assert got == [at(2026, 1, 1, 8), at(2026, 7, 1, 8), at(2026, 8, 1, 8)]
    got = fires("cron(0,30 8-9 15 * ? 2026)", at(2026, 3, 1), at(2026, 4, 1))
    assert got == [
        at(2026, 3, 15, 8),
        at(2026, 3, 15, 8, 30),
        at(2026, 3, 15, 9),
        at(2026, 3, 15, 9, 30),
    ]


def test_last_day_of_month_follows_month_lengths_and_leap_years() -> None:
    got = fires("cron(0 0 L * ? *)", at(2023, 12, 31, 1), at(2024, 5, 1))
    assert got == [at(2024, 1, 31), at(2024, 2, 29), at(2024, 3, 31), at(2024, 4, 30)]
    assert fires("cron(0 0 L 2 ? *)", at(2025, 1, 1), at(2026, 1, 1)) == [at(2025, 2, 28)]


def test_day_31_skips_short_months_and_feb_29_waits_for_a_leap_year() -> None:
    got = fires("cron(0 0 31 * ? *)", at(2026, 1, 1), at(2026, 6, 1))
    assert got == [at(2026, 1, 31), at(2026, 3, 31), at(2026, 5, 31)]
    assert parse_schedule("cron(0 0 29 2 ? *)").next_fire_after(at(2025, 3, 1)) == at(2028, 2, 29)


def test_last_weekday_of_month_lw() -> None:
    # Jan 31 2026 is a Saturday, Feb 28 2026 a Saturday, May 31 2026 a Sunday.
    got = fires("cron(0 9 LW * ? 2026)", at(2026, 1, 1), at(2026, 6, 1))
    assert got == [
        at(2026, 1, 30, 9),
        at(2026, 2, 27, 9),
        at(2026, 3, 31, 9),
        at(2026, 4, 30, 9),
        at(2026, 5, 29, 9),
    ]


def test_nearest_weekday_w_never_leaves_the_month() -> None:
    # Feb 1 2026 is a Sunday -> Monday 2nd; Aug 1 2026 is a Saturday -> Monday 3rd
    # (Friday would be July 31st); Jan 15 2026 is a Thursday -> itself.
    assert parse_schedule("cron(0 0 1W * ? *)").next_fire_after(at(2026, 1, 31)) == at(2026, 2, 2)
    assert parse_schedule("cron(0 0 1W * ? *)").next_fire_after(at(2026, 7, 2)) == at(2026, 8, 3)
    assert parse_schedule("cron(0 0 15W * ? *)").next_fire_after(at(2026, 1, 1)) == at(2026, 1, 15)
    # Nov 15 2026 is a Sunday -> Monday 16th; Aug 15 2026 a Saturday -> Friday 14th.
    assert parse_schedule("cron(0 0 15W * ? *)").next_fire_after(at(2026, 11, 1)) == at(
        2026, 11, 16
    )
    assert parse_schedule("cron(0 0 15W * ? *)").next_fire_after(at(2026, 8, 1)) == at(2026, 8, 14)
    # May 31 2026 is a Sunday -> Friday 29th (Monday would be June).
    assert parse_schedule("cron(0 0 31W * ? *)").next_fire_after(at(2026, 5, 1)) == at(2026, 5, 29)


def test_last_given_weekday_of_month_with_l_suffix() -> None:
    # 6 = FRI in AWS numbering; 5 = THU.
    got = fires("cron(15 10 ? * 6L *)", at(2026, 1, 1), at(2026, 4, 1))
    assert got == [at(2026, 1, 30, 10, 15), at(2026, 2, 27, 10, 15), at(2026, 3, 27, 10, 15)]
    assert fires("cron(15 10 ? * FRIL *)", at(2026, 1, 1), at(2026, 4, 1)) == got
    assert fires("cron(0 0 ? * 5L 2026)", at(2026, 1, 1), at(2026, 3, 1)) == [
        at(2026, 1, 29),
        at(2026, 2, 26),
    ]


def test_l_alone_in_day_of_week_is_saturday() -> None:
    assert fires("cron(0 0 ? * L *)", at(2026, 1, 1), at(2026, 1, 12)) == [
        at(2026, 1, 3),
        at(2026, 1, 10),
    ]


def test_nth_weekday_of_month_with_hash() -> None:
    # 3#2: second Tuesday.
    got = fires("cron(0 9 ? * 3#2 2026)", at(2026, 1, 1), at(2026, 4, 1))
    assert got == [at(2026, 1, 13, 9), at(2026, 2, 10, 9), at(2026, 3, 10, 9)]
    # 6#5: fifth Friday exists only in some months (Jan 2026 yes, Feb no, May yes).
    got = fires("cron(0 0 ? * FRI#5 2026)", at(2026, 1, 1), at(2026, 6, 1))
    assert got == [at(2026, 1, 30), at(2026, 5, 29)]


def test_year_field_limits_fires_and_ends_the_schedule() -> None:
    cron = parse_schedule("cron(0 0 1 1 ? 2027-2028)")
    assert cron.next_fire_after(at(2026, 6, 1)) == at(2027, 1, 1)
    assert cron.next_fire_after(at(2027, 1, 1)) == at(2028, 1, 1)
    assert cron.next_fire_after(at(2028, 1, 1)) is None


def test_impossible_dates_have_no_fire() -> None:
    assert parse_schedule("cron(0 0 30 FEB ? *)").next_fire_after(at(2026, 1, 1)) is None


def test_next_fire_is_strictly_after_and_at_minute_resolution() -> None:
    cron = parse_schedule("cron(* * * * ? *)")
    assert cron.next_fire_after(at(2026, 1, 1, 0, 0)) == at(2026, 1, 1, 0, 1)
    assert cron.next_fire_after(datetime(2026, 1, 1, 0, 0, 59, 999)) == at(2026, 1, 1, 0, 1)


def test_times_are_utc_whatever_the_zone_of_the_input() -> None:
    # AWS cron is UTC: 12:00 in UTC+2 is 10:00 UTC, so the noon fire is the same day.
    plus_two = timezone(timedelta(hours=2))
    after = datetime(2026, 3, 29, 12, 0, tzinfo=plus_two)
    assert parse_schedule("cron(0 12 * * ? *)").next_fire_after(after) == at(2026, 3, 29, 12)
    # a naive datetime is read as UTC
    assert parse_schedule("cron(0 12 * * ? *)").next_fire_after(datetime(2026, 3, 29, 12)) == at(
        2026, 3, 30, 12
    )


def test_dst_changes_do_not_move_fires() -> None:
    # 2026-03-29 is the EU switch to summer time; in UTC nothing changes.
    got = fires("cron(30 1 * * ? *)", at(2026, 3, 28), at(2026, 3, 31))
    assert got == [at(2026, 3, 28, 1, 30), at(2026, 3, 29, 1, 30), at(2026, 3, 30, 1, 30)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("cron(0 12 * * ?)", "6 fields.*got 5.*Unix"),
        ("cron(0 12 * * ? * *)", "6 fields.*got 7"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 12 * * ? *)", "minutes.*out of range 0-59"),
        ("cron(0 24 * * ? *)", "hours.*out of range 0-23"),
        ("cron(0 0 0 * ? *)", "day-of-month.*out of range 1-31"),
        ("cron(0 0 32 * ? *)", "day-of-month.*out of range"),
        ("cron(0 0 1 13 ? *)", "month.*out of range 1-12"),
        ("cron(0 0 ? * 8 *)", "day-of-week.*out of range 1-7"),
        ("cron(0 0 ? * 0 *)", "day-of-week.*out of range 1-7"),
        ("cron(0 0 1 * ? 1969)", "year.*out of range 1970-2199"),
        ("cron(0 0 1 * ? 2200)", "year.*out of range"),
        ("cron(0 0 ? FOO * *)", "month.*'FOO' is not a value"),
        ("cron(0 0 ? * MOO *)", "day-of-week.*'MOO'"),
        ("cron(0 0 ? * 1/2 *)", r"day-of-week.*'/' is not allowed"),
        ("cron(0 0 ? 1#2 * *)", "month.*'#' is not allowed"),
        ("cron(L 0 1 * ? *)", "minutes.*'L' is not allowed"),
        ("cron(0 0 ? * 1W *)", "day-of-week.*'1W' is not a value"),
        ("cron(? 0 1 * ? *)", "'\\?' is allowed only in day-of-month or day-of-week"),
        ("cron(0 0 ? * 3#1,6#3 *)", "only one expression"),
        ("cron(0 0 ? * 3#6 *)", "1-5"),
        ("cron(0 0 1-5W * ? *)", "W must follow a single day"),
        ("cron(0 0 L,15 * ? *)", "L and W stand alone"),
        ("cron(0 0 ? * 2-3L *)", "L must follow a single day"),
        ("cron(0 22-2 * * ? *)", "runs backwards"),
        ("cron(0/0 * * * ? *)", "increment 0"),
        ("cron(0/61 * * * ? *)", "increment 61"),
        ("cron(1,,2 * * * ? *)", "empty item"),
        ("cron 0 12 * * ? *", "must be rate"),
    ],
)
def test_rejects_invalid_cron_expressions_saying_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=problem):
        parse_schedule(text)


def test_cron_constructor_validates_fields_at_once() -> None:
    with pytest.raises(ScheduleExpressionError, match="exactly one"):
        Cron(0, 12, "*", "*", "*", "*")
    with pytest.raises(ScheduleExpressionError, match="no spaces"):
        Cron("0 1", 12, "*", "*", "?", "*")


def test_cron_objects_compare_and_hash_by_fields() -> None:
    assert Cron(0, 12, "*", "*", "?", "*") == Cron("0", "12", "*", "*", "?", "*")
    assert len({Cron(0, 12, "*", "*", "?", "*"), Cron("0", "12", "*", "*", "?", "*")}) == 1
    assert Rate(5, Rate.MINUTES) != Cron(0, 12, "*", "*", "?", "*")


def test_accepts_whitespace_around_the_whole_expression() -> None:
    assert parse_schedule("  rate(5 minutes) ").to_string() == "rate(5 minutes)"
