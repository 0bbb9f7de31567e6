"""The local EventBridge scheduler: fires each `@app.schedule` in real time, in UTC.

Data flow: `Scheduler.run()` sleeps until the earliest due fire across all rules,
then for each due rule builds EventBridge's "Scheduled Event" (its `time` is the
scheduled instant, as AWS sends it) and hands it to `fire`, which enqueues an
asynchronous invocation.

What happens to fires missed while `lambic local` was not running: they are skipped,
never back-filled, as on AWS (a rule that could not deliver does not replay later).
On start each rule's next fire is the first one strictly after now:
- `cron(...)` rules are calendar-based, so that is simply the next calendar match;
- `rate(...)` rules count from the moment the rule was created (`anchor + k *
  period`). The anchor is kept in the state directory, so a restarted `lambic local`
  keeps each rule's phase, as a rule that existed all along would; changing the
  expression re-creates the rule with a new anchor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambic.app.event_payloads import create_scheduled_event
from lambic.app.schedules import Cron, Rate
from lambic.project.sqlite import open_database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ScheduledRule:
    """One schedule rule targeting one function."""

    function: str  # short function name
    expression: Rate | Cron
    rule_name: str
    rule_arn: str


@dataclass(frozen=True)
class Fire:
    """A due fire: the rule, the instant it was due, and the event to deliver."""

    rule: ScheduledRule
    due: datetime
    event: dict[str, Any]


def create_rules(
    schedules: Iterable[tuple[str, Rate | Cron]],
    *,
    app_name: str,
    stage: str,
    region: str,
    account: str,
) -> list[ScheduledRule]:
    """Rules named as the deployer names them: `<app>-<stage>-<function>-event`."""
    rules = []
    for function, expression in schedules:
        name = f"{app_name}-{stage}-{function}-event"
        rules.append(
            ScheduledRule(
                function, expression, name, f"arn:aws:events:{region}:{account}:rule/{name}"
            )
        )
    return rules


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Scheduler:
    """Fires schedule rules on time; `run()` until cancelled."""

    def __init__(
        self,
        rules: Iterable[ScheduledRule],
        fire: Callable[[Fire], None],
        *,
        state_path: Path | None = None,
        clock: Clock = _utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._rules = list(rules)
        self._fire = fire
        self._clock = clock
        self._sleep = sleep
        self._db = open_database(state_path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS schedule_rules ("
            " rule_name TEXT PRIMARY KEY, expression TEXT NOT NULL, created_at TEXT NOT NULL)"
        )
        now = self._clock()
        self._anchors = {rule.rule_name: self._anchor(rule, now) for rule in self._rules}
        self._next: dict[str, datetime | None] = {
            rule.rule_name: rule.expression.next_fire_after(
                now, anchor=self._anchors[rule.rule_name]
            )
            for rule in self._rules
        }

    def _anchor(self, rule: ScheduledRule, now: datetime) -> datetime:
        expression = rule.expression.to_string()
        row = self._db.execute(
            "SELECT expression, created_at FROM schedule_rules WHERE rule_name = ?",
            (rule.rule_name,),
        ).fetchone()
        if row is not None and row[0] == expression:
            return datetime.fromisoformat(row[1])
        self._db.execute(
            "INSERT OR REPLACE INTO schedule_rules (rule_name, expression, created_at)"
            " VALUES (?, ?, ?)",
            (rule.rule_name, expression, now.isoformat()),
        )
        return now

    @property
    def rules(self) -> list[ScheduledRule]:
        return list(self._rules)

    def next_fire(self, rule_name: str) -> datetime | None:
        return self._next.get(rule_name)

    def due_fires(self) -> list[Fire]:
        """Fires due now, advancing each rule past them (one fire per rule per call)."""
        now = self._clock()
        fires = []
        for rule in self._rules:
            due = self._next[rule.rule_name]
            if due is None or due > now:
                continue
            fires.append(Fire(rule, due, create_scheduled_event(rule_arn=rule.rule_arn, time=due)))
            # Skip any fires that fell due while we were busy: no back-fill, as on AWS.
            self._next[rule.rule_name] = rule.expression.next_fire_after(
                max(due, now), anchor=self._anchors[rule.rule_name]
            )
        return fires

    def seconds_until_next(self) -> float | None:
        upcoming = [due for due in self._next.values() if due is not None]
        if not upcoming:
            return None
        return max(0.0, (min(upcoming) - self._clock()).total_seconds())

    async def run(self) -> None:
        """Fire rules as they fall due, until cancelled or no rule has a future fire."""
        while True:
            for fire in self.due_fires():
                try:
                    self._fire(fire)
                except Exception:
                    log.exception("Could not deliver schedule %s", fire.rule.rule_name)
            wait = self.seconds_until_next()
            if wait is None:
                return
            await self._sleep(wait)

    def close(self) -> None:
        self._db.close()
