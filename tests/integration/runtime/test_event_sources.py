"""Schedules and EventBridge rules delivered through real execution environments."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambic.project.manifest import FunctionEntry
from lambic.project.project import load_project
from lambic.runtime.async_queue import AsyncEventQueue, AsyncSettings, Delivery, FailedEvent
from lambic.runtime.event_sources import (
    Account,
    Engines,
    UnsupportedEventSourceError,
    accept,
    check_supported,
    create_event_sources,
    scheduled_event,
)
from lambic.runtime.invoker import create_invoker
from lambic.services.events import EventBus
from lambic.services.s3 import create_service as create_s3
from lambic.services.sqs import create_service as create_sqs

APP = Path(__file__).resolve().parents[2] / "apps" / "event_handlers"


async def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for the handler")


def recorded(out: Path, kind: str) -> list[dict[str, Any]]:
    path = out / f"{kind}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(APP, target)
    return target


def test_schedule_and_eventbridge_events_reach_their_handlers(
    project_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()

    async def scenario() -> tuple[list[Delivery], list[FailedEvent]]:
        project = load_project(project_dir)
        invoker = create_invoker(project, "dev", extra_env={"OUT_DIR": str(out)})
        reports: list[Delivery] = []
        failed: list[FailedEvent] = []
        queue = AsyncEventQueue(
            lambda fn, payload, rid: invoker.invoke(fn, payload, request_id=rid),
            path=tmp_path / "events.sqlite3",
            retry_delays=(0.05, 0.05),
            report=reports.append,
            on_failure=failed.append,
            settings=lambda name: AsyncSettings(maximum_retry_attempts=2),
        )
        bus = EventBus()
        account = Account("eventhandlers", "dev")
        sources = create_event_sources(
            project.manifest.functions,
            queue,
            account,
            Engines(s3=create_s3(None).engine, sqs=create_sqs(None).engine, event_bus=bus),
            invoke=lambda fn, p, rid: invoker.invoke(fn, p, request_id=rid),
            state_dir=tmp_path,
        )
        await sources.start()
        try:
            # What `lambic invoke --schedule` sends, accepted as the rule's fire is.
            event = scheduled_event(account, "every_minute")
            accept(queue, "every_minute", event, source="schedule")
            bus.put_events(
                [
                    {"Source": "shop.orders", "DetailType": "Order", "Detail": '{"total": 500}'},
                    {"Source": "shop.orders", "DetailType": "Order", "Detail": '{"total": 5}'},
                    {"Source": "other", "DetailType": "Order", "Detail": '{"total": 900}'},
                    {
                        "Source": "shop.orders",
                        "DetailType": "Order",
                        "Detail": '{"total": 101, "fail": true}',
                    },
                ]
            )
            await wait_for(lambda: bool(recorded(out, "schedule")) and bool(failed))
            await wait_for(lambda: queue.pending() == 0)
        finally:
            await sources.stop()
            await queue.aclose()
            await invoker.aclose(5.0)
        return reports, failed

    reports, failed = asyncio.run(scenario())
    [scheduled] = recorded(out, "schedule")
    assert scheduled["detail-type"] == "Scheduled Event"
    assert scheduled["resources"] == [
        "arn:aws:events:us-east-1:000000000000:rule/eventhandlers-dev-every_minute-event"
    ]
    orders = recorded(out, "big_order")
    # The matching order once, the failing one on its first try and both retries.
    assert [o["detail"]["total"] for o in orders].count(500) == 1
    assert [o["detail"]["total"] for o in orders].count(101) == 3
    assert all(o["detail"]["total"] > 100 for o in orders)
    assert [f.condition for f in failed] == ["RetriesExhausted"]
    assert failed[0].error_type == "ValueError"
    outcomes = sorted((r.source, r.outcome) for r in reports)
    assert outcomes.count(("events", "error")) == 3
    assert ("schedule", "ok") in outcomes


def test_a_handler_kind_not_fed_locally_is_a_clear_startup_error() -> None:
    kinesis = FunctionEntry("on_stream", "app.on_stream", "kinesis", {"stream": "s"})
    with pytest.raises(UnsupportedEventSourceError, match=r"app\.on_stream is a kinesis"):
        check_supported([kinesis], frozenset({"api"}))


def test_after_a_reload_removed_functions_keep_their_events_queued_and_new_ones_run(
    tmp_path: Path,
) -> None:
    calls: list[str] = []

    @dataclass
    class Ok:
        status: str = "ok"
        payload: bytes = b""
        error_type: str | None = None
        request_id: str = "req"

    async def invoke(function: str, payload: bytes, request_id: str) -> Ok:
        calls.append(function)
        return Ok()

    async def scenario() -> int:
        queue = AsyncEventQueue(invoke, path=tmp_path / "events.sqlite3")
        queue.start(["kept", "removed"])
        queue.retain(["kept", "added"])
        for function in ("kept", "removed", "added"):
            queue.enqueue(function, b"{}", request_id=function, source="s3")
        await wait_for(lambda: sorted(calls) == ["added", "kept"])
        await asyncio.sleep(0.2)
        pending = queue.pending("removed")
        queue.retain(["kept", "added", "removed"])  # the handler comes back
        await wait_for(lambda: "removed" in calls)
        await queue.aclose()
        return pending

    assert asyncio.run(scenario()) == 1
    assert sorted(calls) == ["added", "kept", "removed"]


def test_closing_the_queue_bounds_in_flight_deliveries_and_keeps_their_events(
    tmp_path: Path,
) -> None:
    async def scenario() -> int:
        begun = asyncio.Event()

        async def hang(function: str, payload: bytes, request_id: str) -> Any:
            begun.set()
            await asyncio.sleep(3600)

        queue = AsyncEventQueue(hang, path=tmp_path / "events.sqlite3")
        queue.start(["slow"])
        queue.enqueue("slow", b"{}", request_id="r1", source="s3")
        await asyncio.wait_for(begun.wait(), 5)
        await asyncio.wait_for(queue.aclose(grace=0.1), 5)
        reopened = AsyncEventQueue(hang, path=tmp_path / "events.sqlite3")
        try:
            return reopened.pending("slow")
        finally:
            await reopened.aclose()

    assert asyncio.run(scenario()) == 1
