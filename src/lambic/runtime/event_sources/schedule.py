"""`@app.schedule` handlers: the scheduler's fires, accepted as asynchronous invocations.

Data flow: `Scheduler.run()` (a task on the runtime's loop) -> `Fire` (EventBridge's
Scheduled Event for the due instant) -> `accept()` into the durable queue -> the
function's async worker. Rule names and ARNs are the deployer's
(`<app>-<stage>-<function>-event`); each rate rule's phase is kept in
`<state>/schedules.sqlite3`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from lambic.app.event_payloads import create_scheduled_event
from lambic.app.schedules import parse_schedule
from lambic.project.manifest import FunctionEntry
from lambic.runtime._tasks import cancel_and_wait
from lambic.runtime.event_sources.base import Account, EventQueue, accept, settings
from lambic.runtime.scheduler import Fire, ScheduledRule, Scheduler, create_rules

#: Builds the scheduler (the benchmark injects one with a fast clock).
SchedulerFactory = Callable[..., Scheduler]


def schedule_rule_arn(account: Account, function: str) -> str:
    """The ARN of a schedule handler's rule, named as the deployer names it."""
    name = f"{account.app_name}-{account.stage}-{function}-event"
    return f"arn:aws:events:{account.region}:{account.account_id}:rule/{name}"


def scheduled_event(account: Account, function: str) -> dict[str, Any]:
    """The Scheduled Event a schedule handler's rule sends when it fires now."""
    return create_scheduled_event(rule_arn=schedule_rule_arn(account, function))


class ScheduleSource:
    """Fires every `@app.schedule` handler on time until `stop()`."""

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        queue: EventQueue,
        account: Account,
        *,
        state_path: Path | None = None,
        scheduler_factory: SchedulerFactory = Scheduler,
    ) -> None:
        self._functions = list(functions)
        self._queue = queue
        self._account = account
        self._state_path = state_path
        self._scheduler_factory = scheduler_factory
        self._scheduler: Scheduler | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self._functions:
            return
        self._scheduler = self._scheduler_factory(
            self._rules(), self._fire, state_path=self._state_path
        )
        self._task = asyncio.get_running_loop().create_task(self._scheduler.run())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None
        if self._scheduler is not None:
            self._scheduler.close()
            self._scheduler = None

    def upcoming(self) -> list[tuple[str, str, datetime | None]]:
        """(function, expression, next fire in UTC or None) for each schedule handler."""
        scheduler = self._scheduler
        if scheduler is None:
            return []
        return [
            (r.function, r.expression.to_string(), scheduler.next_fire(r.rule_name))
            for r in scheduler.rules
        ]

    def fire_now(self, function: str) -> str:
        """Deliver one Scheduled Event to `function` now, asynchronously as the rule would."""
        return accept(
            self._queue, function, scheduled_event(self._account, function), source="schedule"
        )

    def _rules(self) -> list[ScheduledRule]:
        account = self._account
        return create_rules(
            [
                (f.name, parse_schedule(str(settings(f)["schedule_expression"])))
                for f in self._functions
            ],
            app_name=account.app_name,
            stage=account.stage,
            region=account.region,
            account=account.account_id,
        )

    def _fire(self, fire: Fire) -> None:
        accept(self._queue, fire.rule.function, fire.event, source="schedule")
