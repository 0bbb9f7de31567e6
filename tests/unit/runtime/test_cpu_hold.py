from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

from lambic.runtime._cpu_hold import HOLD_AFTER, CpuHold

ALLOWED = frozenset(os.sched_getaffinity(0))
two_cpus = pytest.mark.skipif(len(ALLOWED) < 2, reason="needs two CPUs to choose between")
T = TypeVar("T")


class Env:
    """Records where the hold places it, as `Environment.place` would apply it."""

    def __init__(self) -> None:
        self.cpus: frozenset[int] | None = None  # None: never placed (inherited)

    def place(self, cpu: int | None, allowed: frozenset[int], /) -> None:
        self.cpus = allowed if cpu is None else frozenset((cpu,))


def in_thread(fn: Callable[[], T]) -> T:
    """Run `fn` in a thread of its own: affinity is per thread, the test's stays put."""
    found: list[T] = []
    thread = threading.Thread(target=lambda: found.append(fn()))
    thread.start()
    thread.join(10)
    return found[0]


@two_cpus
def test_a_streak_of_lone_invocations_holds_the_thread_and_environment_on_one_cpu() -> None:
    def body() -> tuple[list[bool], bool, set[int], frozenset[int] | None, set[int]]:
        hold = CpuHold.create()
        assert hold is not None and hold.allowed == ALLOWED
        env = Env()
        before = [hold.place(env, alone=True) for _ in range(HOLD_AFTER - 1)]
        assert os.sched_getaffinity(0) == ALLOWED and env.cpus == ALLOWED
        held = hold.place(env, alone=True)
        during = os.sched_getaffinity(0)
        hold.release(env)
        return before, held, during, env.cpus, os.sched_getaffinity(0)

    before, held, during, env_cpus, after = in_thread(body)
    assert before == [False] * (HOLD_AFTER - 1) and held
    assert len(during) == 1 and env_cpus == frozenset(during)  # the thread's CPU, the env's too
    assert after == ALLOWED  # the thread moves freely between invocations


@two_cpus
def test_an_invocation_others_join_lets_the_held_one_go_and_breaks_the_streak() -> None:
    # Under load from several connections an invocation is often alone for a moment:
    # holding then would put its environment on the loop's busy CPU.
    def body() -> tuple[bool, frozenset[int] | None, frozenset[int] | None, set[int], bool]:
        hold = CpuHold.create()
        assert hold is not None
        first, second = Env(), Env()
        for _ in range(HOLD_AFTER):
            hold.place(first, alone=True)
        joined = hold.place(second, alone=False)  # `first` still in flight
        thread = os.sched_getaffinity(0)
        hold.release(first)
        return joined, first.cpus, second.cpus, thread, hold.place(first, alone=True)

    joined, first, second, thread, next_held = in_thread(body)
    assert not joined and first == ALLOWED and second == ALLOWED and thread == ALLOWED
    assert not next_held  # a new streak starts


@two_cpus
def test_let_go_frees_the_held_invocation_and_the_thread() -> None:
    # The invoker's watchdog calls it: a long handler is not kept on one CPU, a short
    # one is left alone.
    def body() -> tuple[frozenset[int] | None, set[int], frozenset[int] | None]:
        hold = CpuHold.create()
        assert hold is not None
        env = Env()
        for _ in range(HOLD_AFTER):
            hold.place(env, alone=True)
        held_on = env.cpus
        hold.let_go(held_before=time.monotonic() - 60)  # a tick: held too recently
        assert env.cpus == held_on and len(os.sched_getaffinity(0)) == 1
        hold.let_go(held_before=time.monotonic())
        hold.release(env)  # when the invocation ends: nothing left to do
        return held_on, os.sched_getaffinity(0), env.cpus

    held_on, thread, env_cpus = in_thread(body)
    assert held_on is not None and len(held_on) == 1
    assert thread == ALLOWED and env_cpus == ALLOWED


def test_no_hold_where_only_one_cpu_is_allowed() -> None:
    def body() -> CpuHold | None:
        os.sched_setaffinity(0, {min(ALLOWED)})
        return CpuHold.create()

    assert in_thread(body) is None


def test_a_cpu_outside_the_allowed_set_is_not_taken() -> None:
    def body() -> tuple[bool, set[int], frozenset[int] | None]:
        hold = CpuHold(ALLOWED, getcpu=lambda: -1)  # sched_getcpu's error value
        env = Env()
        held = [hold.place(env, alone=True) for _ in range(HOLD_AFTER)][-1]
        hold.release(env)
        return held, os.sched_getaffinity(0), env.cpus

    assert in_thread(body) == (False, set(ALLOWED), ALLOWED)


@two_cpus
def test_a_thread_started_during_a_hold_gets_every_cpu_back_when_it_ends() -> None:
    # Linux gives a new thread its creator's CPUs: a worker the loop's thread first
    # starts while held would otherwise stay on that one CPU for its life.
    def body() -> tuple[set[int], set[int]]:
        hold = CpuHold.create()
        assert hold is not None
        env = Env()
        for _ in range(HOLD_AFTER):
            hold.place(env, alone=True)
        seen: list[set[int]] = []
        go_on = threading.Event()
        done = threading.Event()

        def worker() -> None:
            seen.append(os.sched_getaffinity(0))
            go_on.wait(10)
            seen.append(os.sched_getaffinity(0))
            done.set()

        threading.Thread(target=worker, daemon=True).start()
        while not seen:
            time.sleep(0.001)
        hold.release(env)
        go_on.set()
        done.wait(10)
        return seen[0], seen[1]

    inherited, after = in_thread(body)
    assert len(inherited) == 1
    assert after == ALLOWED
