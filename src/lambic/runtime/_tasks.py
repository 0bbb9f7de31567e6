"""Stopping background tasks (private): cancel them and wait until they have ended.

Event sources, pollers and the async queue each run loops as tasks; stopping one
must not return while its task is still running (it could touch a closed engine),
and the cancellation it caused is not an error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def cancel_and_wait(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel every task, then wait for each to finish."""
    running = list(tasks)
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError):
            await task
