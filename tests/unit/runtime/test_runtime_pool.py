"""FunctionPool bookkeeping: warm reuse, limits, idle reclaim, draining."""

from __future__ import annotations

from unittest.mock import Mock

from lambic.project.config import FunctionSettings
from lambic.runtime.environment import Environment
from lambic.runtime.pool import ConcurrencyLimiter, FunctionPool


def settings(reserved: int | None = None) -> FunctionSettings:
    return FunctionSettings("f", "app-dev-f", "app.f", "lambda", 128, 3, reserved, {})


def make_pool(reserved: int | None = None, account: int = 10) -> tuple[FunctionPool, list[Mock]]:
    spawned: list[Mock] = []

    def spawn(_: FunctionSettings) -> Environment:
        env = Mock(spec=Environment)
        env.alive = True
        env.busy = False
        spawned.append(env)
        return env  # type: ignore[no-any-return]

    return FunctionPool(settings(reserved), spawn, ConcurrencyLimiter(account), 60.0), spawned


def test_a_released_environment_is_reused_warm_most_recent_first() -> None:
    pool, spawned = make_pool()
    a, b = pool.try_acquire(), pool.try_acquire()
    assert a is not None and b is not None and a.cold and b.cold
    pool.release(a)
    pool.release(b)
    again = pool.try_acquire()
    assert again is not None and not again.cold and again.env is b.env
    assert len(spawned) == 2


def test_reserved_concurrency_refuses_past_the_limit_and_frees_on_release() -> None:
    pool, _ = make_pool(reserved=1)
    first = pool.try_acquire()
    assert first is not None
    assert pool.try_acquire() is None
    assert pool.throttle_reason() == "ReservedFunctionConcurrentInvocationLimitExceeded"
    pool.release(first)
    assert pool.try_acquire() is not None


def test_unreserved_functions_share_the_account_limit() -> None:
    account = ConcurrencyLimiter(1)
    pool_a = FunctionPool(settings(), lambda _: Mock(spec=Environment, alive=True), account, 60)
    pool_b = FunctionPool(settings(), lambda _: Mock(spec=Environment, alive=True), account, 60)
    lease = pool_a.try_acquire()
    assert lease is not None
    assert pool_b.try_acquire() is None
    assert pool_b.throttle_reason() == "ConcurrentInvocationLimitExceeded"
    pool_a.release(lease)
    assert pool_b.try_acquire() is not None


def test_dead_environments_are_never_reused() -> None:
    pool, spawned = make_pool()
    lease = pool.try_acquire()
    assert lease is not None
    lease.env.alive = False
    pool.release(lease)
    assert not pool.idle and not pool.environments
    nxt = pool.try_acquire()
    assert nxt is not None and nxt.cold and len(spawned) == 2


def test_idle_environments_older_than_the_timeout_are_closed() -> None:
    pool, spawned = make_pool()
    lease = pool.try_acquire()
    assert lease is not None
    pool.release(lease)
    lease.env.last_used = 100.0
    assert pool.reap_idle(now=130.0) == 0
    assert pool.reap_idle(now=161.0) == 1
    spawned[0].close.assert_called_once()
    assert not pool.idle and not pool.environments


def test_a_draining_pool_closes_idle_now_and_busy_ones_when_released() -> None:
    pool, _ = make_pool()
    busy, idle = pool.try_acquire(), pool.try_acquire()
    assert busy is not None and idle is not None
    pool.release(idle)
    pool.drain()
    idle.env.close.assert_called_once()
    busy.env.close.assert_not_called()
    pool.release(busy)
    busy.env.close.assert_called_once()
    assert not pool.environments
