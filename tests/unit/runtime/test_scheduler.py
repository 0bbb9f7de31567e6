from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lambic.app.schedules import parse_schedule
from lambic.runtime.scheduler import Fire, Scheduler, create_rules

T0 = datetime(2026, 11, 25, 10, 0, 7, tzinfo=timezone.utc)


class FakeTime:
    """A clock that moves only when the scheduler sleeps, so tests run instantly."""

    def __init__(self, start: datetime, stop_after: timedelta) -> None:
        self.now = start
        self.stop_at = start + stop_after
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.now > self.stop_at:
            raise asyncio.CancelledError


def run_for(scheduler: Scheduler) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(scheduler.run())


def rules(expression: str, function: str = "update_status") -> list:
    return create_rules(
        [(function, parse_schedule(expression))],
        app_name="trainstatus",
        stage="dev",
        region="us-east-1",
        account="000000000000",
    )


def test_rate_one_minute_fires_every_minute_from_rule_creation() -> None:
    time, fires = FakeTime(T0, timedelta(minutes=3, seconds=30)), []
    scheduler = Scheduler(rules("rate(1 minute)"), fires.append, clock=time.clock, sleep=time.sleep)
    run_for(scheduler)
    assert [f.due for f in fires] == [T0 + timedelta(minutes=k) for k in (1, 2, 3)]


def test_cron_fires_on_calendar_instants_in_utc() -> None:
    time, fires = FakeTime(T0, timedelta(hours=1)), []
    scheduler = Scheduler(
        rules("cron(0/15 * * * ? *)"), fires.append, clock=time.clock, sleep=time.sleep
    )
    run_for(scheduler)
    assert [f.due.strftime("%H:%M:%S") for f in fires] == [
        "10:15:00",
        "10:30:00",
        "10:45:00",
        "11:00:00",
    ]


def test_each_fire_carries_the_scheduled_event_payload() -> None:
    time, fires = FakeTime(T0, timedelta(seconds=70)), []
    run_for(Scheduler(rules("rate(1 minute)"), fires.append, clock=time.clock, sleep=time.sleep))
    [fire] = fires
    event = fire.event
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["detail"] == {}
    assert event["resources"] == [
        "arn:aws:events:us-east-1:000000000000:rule/trainstatus-dev-update_status-event"
    ]
    assert event["time"] == "2026-11-25T10:01:07Z"  # the scheduled instant, whole seconds
    assert event["account"] == "000000000000" and event["region"] == "us-east-1"
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }


def test_missed_fires_are_not_back_filled_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "schedules.sqlite3"
    first = FakeTime(T0, timedelta(seconds=90))
    fires: list[Fire] = []
    run_for(
        Scheduler(
            rules("rate(1 minute)"),
            fires.append,
            state_path=state,
            clock=first.clock,
            sleep=first.sleep,
        )
    )
    assert [f.due for f in fires] == [T0 + timedelta(minutes=1)]

    # lambic local is stopped for ten minutes, then started again.
    later = FakeTime(T0 + timedelta(minutes=11, seconds=30), timedelta(seconds=50))
    fires.clear()
    run_for(
        Scheduler(
            rules("rate(1 minute)"),
            fires.append,
            state_path=state,
            clock=later.clock,
            sleep=later.sleep,
        )
    )
    # Nothing for minutes 2..11; the rule keeps its phase (hh:mm:07) and fires at 12.
    assert [f.due for f in fires] == [T0 + timedelta(minutes=12)]


def test_changing_the_expression_recreates_the_rule_with_a_new_anchor(tmp_path: Path) -> None:
    state = tmp_path / "schedules.sqlite3"
    start = FakeTime(T0, timedelta(seconds=1))
    run_for(
        Scheduler(
            rules("rate(1 minute)"),
            lambda f: None,
            state_path=state,
            clock=start.clock,
            sleep=start.sleep,
        )
    )
    restart_at = T0 + timedelta(minutes=5, seconds=20)
    scheduler = Scheduler(
        rules("rate(2 minutes)"), lambda f: None, state_path=state, clock=lambda: restart_at
    )
    assert scheduler.next_fire("trainstatus-dev-update_status-event") == restart_at + timedelta(
        minutes=2
    )


def test_a_fire_that_cannot_be_delivered_does_not_stop_the_scheduler() -> None:
    time, seen = FakeTime(T0, timedelta(minutes=2, seconds=5)), []

    def flaky(fire: Fire) -> None:
        seen.append(fire.due)
        raise RuntimeError("queue unavailable")

    run_for(Scheduler(rules("rate(1 minute)"), flaky, clock=time.clock, sleep=time.sleep))
    assert len(seen) == 2
