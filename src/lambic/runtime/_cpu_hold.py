"""One CPU for a lone invocation: the event loop's thread and its environment together.

A warm invocation is a chain of wakeups: the client's request wakes the event loop,
the INVOKE frame wakes the environment, its RESULT wakes the loop again. Left to
itself the kernel wakes a task on an idle CPU if there is one (the waker's CPU is busy
at that instant: it is the waker), so at one connection the loop and the environment
each keep a CPU of their own (3 migrations in 10,000 requests) and every hop is a
wakeup on the other CPU: an idle virtual CPU must first be run again by the
hypervisor, a busy one makes the woken task wait its turn there. On a 2-vCPU VM shared
with other work (bench/tail.py, base vs this, same runs, 6 runs of 7 x 2,000 requests,
medians): p50 0.29 -> 0.17 ms, p99 3.96 -> 0.43 ms, p99/p50 18.4x -> 2.5x (raw uvicorn
2.8x). Pinning whole servers to one CPU (`bench/tail.py --cpus`) had shown the same.

So while an invocation is the only one in flight (and the ones before it were too),
`CpuHold.place()` keeps the loop's thread on the CPU it is running on and the
environment is placed on that CPU too (`Environment.place`): both wakeups of the
invocation stay on one CPU, and the environment, woken while the loop finishes its
pass, runs as soon as the loop waits. The thread is held only while the invocation is
awaited (`release()` right after): the kernel still moves the loop freely between
requests, and invocations among others run on any CPU as before (one that others join
while it is held is let go at once, and so is one still running at the invoker's first
watchdog tick 20 ms or more after it was held: a long handler is not kept from
moving). Linux gives a new thread or process its creator's CPUs: one the loop's thread
starts inside that window would keep the one CPU for its life. Forks of environments
and zygotes happen before it (an environment is forked before its invocation is
placed); a thread started meanwhile (a worker of the loop's default executor, first
needed by `asyncio.to_thread`) is given every allowed CPU back when the hold ends.

    hold = CpuHold.create()     # None: one CPU allowed, or no affinity API (not Linux)
    held = hold.place(env, alone)   # env.place(cpu or None, hold.allowed) called
    ...                             # await the invocation
    hold.release(env)
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["HOLD_AFTER", "CpuHold", "Placeable"]

#: Lone invocations in a row before the hold applies. Under load from several
#: connections an invocation is often alone for a moment between others (8
#: connections: about one in three started alone), and holding those put the
#: environment on the loop's CPU just as the loop got busy with the next request:
#: -8 to -16% requests/s (bench/trees.py). A steady one-at-a-time caller (one
#: connection, a developer's clicks) is alone every time.
HOLD_AFTER = 8


def _sched_getcpu() -> Callable[[], int] | None:
    # glibc's sched_getcpu is a vDSO call (~0.1 us through ctypes, which the runtime
    # imports anyway); `os` has no binding for it.
    try:
        getcpu: Callable[[], int] = ctypes.CDLL(None, use_errno=True).sched_getcpu
    except (OSError, AttributeError):
        return None
    return getcpu


class Placeable(Protocol):
    """What the hold places: an execution environment (`Environment.place`)."""

    def place(self, cpu: int | None, allowed: frozenset[int], /) -> None: ...


class CpuHold:
    """Keeps the calling thread and a lone invocation's environment on one CPU."""

    def __init__(self, allowed: frozenset[int], getcpu: Callable[[], int]) -> None:
        #: The CPUs the process may use (its affinity when created): what is restored.
        self.allowed = allowed
        self._getcpu = getcpu
        self._held: Placeable | None = None  # the environment of the held invocation
        self._since = 0.0  # when it was held (time.monotonic())
        self._streak = 0  # invocations in a row that started alone
        self._threads = 0  # the process's Python threads when the hold began

    @classmethod
    def create(cls) -> CpuHold | None:
        """A hold for the calling thread, or None when there is nothing to choose."""
        try:
            allowed = frozenset(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not Linux
            return None
        getcpu = _sched_getcpu()
        if getcpu is None or len(allowed) < 2:
            return None
        return cls(allowed, getcpu)

    def place(self, env: Placeable, alone: bool) -> bool:
        """Place `env` for the invocation about to start; True if it is held (then
        `release(env)` when it ends). Held: it is `alone` after a streak of lone
        ones, so the calling thread stays on its CPU and `env` runs there. Else `env`
        may run on any allowed CPU, and an invocation others join lets go at once."""
        if alone:
            self._streak += 1
        else:
            self._streak = 0
            self.let_go()
        cpu = self._take() if self._streak >= HOLD_AFTER else None
        env.place(cpu, self.allowed)
        if cpu is None:
            return False
        self._held = env
        self._since = time.monotonic()
        return True

    def release(self, env: Placeable) -> None:
        """The held invocation of `env` ended: the thread may move again. `env` stays
        where it is, ready for the next lone invocation (no syscall for it then)."""
        if self._held is env:
            self._free_thread()

    def let_go(self, held_before: float = math.inf) -> None:
        """Let the held invocation (if any) and the thread run anywhere: another
        invocation joined, or (the invoker's watchdog, `held_before` a tick ago on
        `time.monotonic()`) it has run long enough that its wakeups no longer matter
        and the kernel should be free to move its work."""
        held = self._held
        if held is not None and self._since < held_before:
            held.place(None, self.allowed)
            self._free_thread()

    def _take(self) -> int | None:
        cpu = self._getcpu()
        if cpu not in self.allowed:  # -1 (error), or the CPU set changed under us
            return None
        try:
            os.sched_setaffinity(0, (cpu,))
        except OSError:
            return None
        self._threads = threading.active_count()
        return cpu

    def _free_thread(self) -> None:
        self._held = None
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, self.allowed)
        if threading.active_count() > self._threads:
            # Threads started during the hold inherited its one CPU (a count is enough:
            # threads rarely end inside a hold, and all get the full set, which the
            # others have anyway).
            current = threading.get_native_id()
            for thread in threading.enumerate():
                native = thread.native_id
                if native is not None and native != current:
                    with contextlib.suppress(OSError):
                        os.sched_setaffinity(native, self.allowed)
