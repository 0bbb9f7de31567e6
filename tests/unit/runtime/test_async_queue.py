from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lambic.runtime.async_queue import AsyncEventQueue, AsyncSettings, Delivery, FailedEvent

FAST = (0.05, 0.1)


@dataclass
class Result:
    status: str
    payload: bytes = b""
    error_type: str | None = None
    request_id: str = "req"


class ScriptedInvoke:
    """Answers each call with the next scripted status; records the payloads seen."""

    def __init__(self, *statuses: str) -> None:
        self.statuses = list(statuses)
        self.calls: list[tuple[str, bytes]] = []
        self.request_ids: list[str] = []

    async def __call__(self, function: str, payload: bytes, request_id: str) -> Result:
        self.calls.append((function, payload))
        self.request_ids.append(request_id)
        status = self.statuses.pop(0) if self.statuses else "ok"
        if status == "error":
            return Result(
                status, b'{"errorMessage": "boom", "errorType": "ValueError"}', "ValueError"
            )
        return Result(status)


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_a_successful_event_is_delivered_once_and_removed(tmp_path: Path) -> None:
    async def scenario() -> None:
        invoke = ScriptedInvoke("ok")
        reports: list[Delivery] = []
        queue = AsyncEventQueue(
            invoke, path=tmp_path / "events.sqlite3", retry_delays=FAST, report=reports.append
        )
        queue.start(["fn"])
        queue.enqueue("fn", b'{"n": 1}', request_id="r1", source="s3")
        await wait_until(lambda: queue.pending() == 0)
        assert invoke.calls == [("fn", b'{"n": 1}')]
        assert [(r.source, r.function, r.outcome, r.attempt) for r in reports] == [
            ("s3", "fn", "ok", 1)
        ]
        await queue.aclose()

    asyncio.run(scenario())


def test_errors_are_retried_twice_then_sent_to_the_destination(tmp_path: Path) -> None:
    async def scenario() -> None:
        invoke = ScriptedInvoke("error", "error", "error", "ok")
        failed: list[FailedEvent] = []
        queue = AsyncEventQueue(
            invoke,
            path=tmp_path / "events.sqlite3",
            retry_delays=FAST,
            on_failure=failed.append,
            function_arn=lambda name: f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        )
        queue.start(["fn"])
        queue.enqueue("fn", b'{"n": 1}', request_id="r1", source="s3")
        await wait_until(lambda: bool(failed))
        assert len(invoke.calls) == 3  # the first try and two retries, no more
        # Every attempt runs under the id the event was accepted with, as on Lambda.
        assert invoke.request_ids == ["r1", "r1", "r1"]
        record = failed[0].destination_record(0.0)
        assert record["requestContext"] == {
            "requestId": "r1",
            "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        }
        assert record["requestPayload"] == {"n": 1}
        assert record["responsePayload"] == {"errorMessage": "boom", "errorType": "ValueError"}
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert queue.pending() == 0
        await queue.aclose()

    asyncio.run(scenario())


def test_throttled_events_wait_without_using_up_retries(tmp_path: Path) -> None:
    async def scenario() -> None:
        invoke = ScriptedInvoke("throttled", "throttled", "throttled", "ok")
        queue = AsyncEventQueue(invoke, path=None, retry_delays=FAST)
        queue.start(["fn"])
        # Throttle backoff is a second in production; the test only checks the outcome.
        queue.enqueue("fn", b"{}", request_id="r1", source="sns")
        await wait_until(lambda: queue.pending() == 0, seconds=8)
        assert len(invoke.calls) == 4
        await queue.aclose()

    asyncio.run(scenario())


def test_retry_attempts_setting_of_zero_gives_up_after_one_try(tmp_path: Path) -> None:
    async def scenario() -> None:
        invoke = ScriptedInvoke("error")
        failed: list[FailedEvent] = []
        queue = AsyncEventQueue(
            invoke,
            path=None,
            retry_delays=FAST,
            on_failure=failed.append,
            settings=lambda name: AsyncSettings(maximum_retry_attempts=0),
        )
        queue.start(["fn"])
        queue.enqueue("fn", b"{}", request_id="r1", source="s3")
        await wait_until(lambda: bool(failed))
        assert len(invoke.calls) == 1
        await queue.aclose()

    asyncio.run(scenario())


def test_events_older_than_the_maximum_age_are_not_run(tmp_path: Path) -> None:
    async def scenario() -> None:
        now = [1000.0]
        invoke = ScriptedInvoke()
        failed: list[FailedEvent] = []
        queue = AsyncEventQueue(
            invoke,
            path=None,
            on_failure=failed.append,
            settings=lambda name: AsyncSettings(maximum_event_age_in_seconds=60),
            clock=lambda: now[0],
        )
        queue.enqueue("fn", b'{"late": true}', request_id="r1", source="schedule")
        now[0] += 61
        queue.start(["fn"])
        await wait_until(lambda: bool(failed))
        assert invoke.calls == []
        record = failed[0].destination_record(now[0])
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert "responsePayload" not in record
        await queue.aclose()

    asyncio.run(scenario())


def test_accepted_events_survive_a_restart_and_are_delivered(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"

    async def accept_only() -> None:
        queue = AsyncEventQueue(ScriptedInvoke(), path=path)
        queue.enqueue("fn", json.dumps({"k": "v"}).encode(), request_id="r1", source="s3")
        await queue.aclose()  # the process goes away before any worker ran

    async def restart() -> list[tuple[str, bytes]]:
        invoke = ScriptedInvoke("ok")
        queue = AsyncEventQueue(invoke, path=path)
        queue.start(["fn"])
        await wait_until(lambda: queue.pending() == 0)
        await queue.aclose()
        return invoke.calls

    asyncio.run(accept_only())
    assert asyncio.run(restart()) == [("fn", b'{"k": "v"}')]


def test_a_failing_destination_keeps_the_event(tmp_path: Path) -> None:
    async def scenario() -> None:
        def broken(event: FailedEvent) -> None:
            raise RuntimeError("queue is gone")

        queue = AsyncEventQueue(
            ScriptedInvoke(*["error"] * 50),
            path=None,
            retry_delays=FAST,
            on_failure=broken,
            settings=lambda name: AsyncSettings(maximum_retry_attempts=0),
        )
        queue.start(["fn"])
        queue.enqueue("fn", b"{}", request_id="r1", source="s3")
        await asyncio.sleep(0.3)
        assert queue.pending() == 1
        await queue.aclose()

    asyncio.run(scenario())


def test_events_accepted_from_another_thread_each_run_exactly_once(tmp_path: Path) -> None:
    """The edge thread accepts S3/SNS events while the worker polls: none twice, none lost."""

    async def scenario() -> list[bytes]:
        seen: list[bytes] = []

        async def invoke(function: str, payload: bytes, request_id: str) -> Result:
            seen.append(payload)
            await asyncio.sleep(0.001)
            return Result("ok")

        queue = AsyncEventQueue(invoke, path=tmp_path / "events.sqlite3", concurrency=lambda n: 3)
        queue.start(["fn"])

        def produce() -> None:
            for index in range(200):
                queue.enqueue("fn", b"%d" % index, request_id=f"r{index}", source="s3")

        await asyncio.gather(asyncio.to_thread(produce), asyncio.to_thread(produce))
        await wait_until(lambda: queue.pending() == 0)
        await queue.aclose()
        return seen

    seen = asyncio.run(scenario())
    assert sorted(seen) == sorted([b"%d" % index for index in range(200)] * 2)


def test_an_accepted_event_starts_without_waiting_for_the_worker(tmp_path: Path) -> None:
    async def scenario() -> float:
        started = asyncio.Event()

        async def invoke(function: str, payload: bytes, request_id: str) -> Result:
            started.set()
            return Result("ok")

        queue = AsyncEventQueue(invoke, path=tmp_path / "events.sqlite3")
        queue.start(["fn"])
        await asyncio.sleep(0.05)  # the worker is parked, waiting for work
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        await asyncio.to_thread(queue.enqueue, "fn", b"{}", request_id="r", source="s3")
        await asyncio.wait_for(started.wait(), 5)
        elapsed = loop.time() - accepted
        await queue.aclose()
        return elapsed

    assert asyncio.run(scenario()) < 1.0


def test_the_worker_does_not_poll_sqlite_while_a_delivery_runs(tmp_path: Path) -> None:
    """A running event once made the worker's timer 0 s: a busy loop of queries stealing
    the CPU from the function it waited for."""

    async def scenario() -> int:
        begun = asyncio.Event()

        async def slow(function: str, payload: bytes, request_id: str) -> Result:
            begun.set()
            await asyncio.sleep(0.3)
            return Result("ok")

        queue = AsyncEventQueue(slow, path=tmp_path / "events.sqlite3")
        queue.start(["fn"])
        queue.enqueue("fn", b"{}", request_id="r", source="s3")
        await asyncio.wait_for(begun.wait(), 5)
        statements: list[str] = []
        queue._db.set_trace_callback(statements.append)
        await asyncio.sleep(0.2)
        queue._db.set_trace_callback(None)
        await queue.aclose()
        return len(statements)

    assert asyncio.run(scenario()) < 5
