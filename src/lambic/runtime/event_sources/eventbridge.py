"""`@app.on_cw_event` handlers: EventBridge rules on the local default bus.

Data flow: PutEvents (edge thread) -> `EventBus` matches each rule's pattern ->
the subscriber `accept()`s the event into the durable queue -> the function's async
worker. One bus subscription per handler, named `<app>-<stage>-<function>` as the
deployed rule is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from lambic.project.manifest import FunctionEntry
from lambic.runtime.event_sources.base import (
    Account,
    EventQueue,
    QueuedSource,
    accept,
    settings,
)

if TYPE_CHECKING:
    from lambic.services.events import EventBus


class EventBridgeRules(QueuedSource["EventBus"]):
    """Subscribes each `@app.on_cw_event` handler's pattern to the bus until `stop()`."""

    def __init__(
        self, functions: Iterable[FunctionEntry], bus: EventBus, queue: EventQueue, account: Account
    ) -> None:
        super().__init__(functions, bus, queue, account)
        self._subscriptions: list[str] = []

    async def start(self) -> None:
        for function in self._functions:
            name = f"{self._account.app_name}-{self._account.stage}-{function.name}"
            pattern = settings(function)["event_pattern"]
            self._engine.subscribe(name, pattern, self._deliver_to(function.name))
            self._subscriptions.append(name)

    async def stop(self) -> None:
        for name in self._subscriptions:
            self._engine.unsubscribe(name)
        self._subscriptions.clear()

    def _deliver_to(self, function: str) -> Callable[[dict[str, Any]], None]:
        def deliver(event: dict[str, Any]) -> None:
            accept(self._queue, function, event, source="events")

        return deliver
