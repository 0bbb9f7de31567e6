"""The gateway's shared integration-timeout timer."""

from __future__ import annotations

import asyncio
from typing import Any

from lambic.runtime._deadlines import Deadlines


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_an_unanswered_request_expires_after_the_timeout_and_answered_ones_never_do() -> None:
    async def scenario() -> tuple[list[str], float]:
        loop = asyncio.get_running_loop()
        expired: list[str] = []
        deadlines = Deadlines(loop, 0.05, expired.append)
        started = loop.time()
        answered = deadlines.add("answered")
        deadlines.add("slow")
        answered.context = None
        while not expired:
            await asyncio.sleep(0.005)
        waited = loop.time() - started
        await asyncio.sleep(0.1)
        return expired, waited

    expired, waited = run(scenario())
    assert expired == ["slow"]
    assert 0.045 <= waited < 0.5


def test_later_requests_expire_at_their_own_deadline_not_the_first_ones() -> None:
    async def scenario() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        expired: list[tuple[str, float]] = []
        deadlines = Deadlines(loop, 0.1, lambda name: expired.append((name, loop.time() - started)))
        deadlines.add("first")
        await asyncio.sleep(0.06)
        deadlines.add("second")
        await asyncio.sleep(0.3)
        return expired

    expired = run(scenario())
    assert [name for name, _ in expired] == ["first", "second"]
    assert 0.095 <= expired[0][1] < 0.15
    assert 0.155 <= expired[1][1] < 0.3


def test_answered_tickets_do_not_pile_up_behind_the_head() -> None:
    async def scenario() -> tuple[int, int]:
        deadlines = Deadlines(asyncio.get_running_loop(), 60.0, lambda _: None)
        for _ in range(1000):
            deadlines.add("quick").context = None
        waiting = deadlines.add("waiting")
        held = len(deadlines._queue)
        pending = len(deadlines)
        waiting.context = None
        deadlines.close()
        return held, pending

    held, pending = run(scenario())
    assert held == 1  # answered tickets were dropped as new requests arrived
    assert pending == 1
