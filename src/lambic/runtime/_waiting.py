"""Waiting for a condition that nothing signals: ask, then sleep 1 ms, twice as long
each time, at most 50 ms (a process's end seen through `waitpid(WNOHANG)` or /proc).
Standard library only: the zygote's and the log writer's handles use it on the way to
the first answer."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["poll_until"]


def poll_until(done: Callable[[], bool], timeout: float | None) -> bool:
    """Whether `done()` came true within `timeout` seconds (None: however long)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.001
    while not done():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True
