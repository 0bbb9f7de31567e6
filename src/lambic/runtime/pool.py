"""Function pools: how many execution environments a function has, and which is free.

A `FunctionPool` per function keeps warm environments (most recently used first,
as Lambda tends to reuse the warmest sandbox), forks a new one when all are busy,
and refuses when the function is at its concurrency limit: Lambda throttles then
(TooManyRequestsException) rather than queueing, and so do we.

The limit is the function's `reserved_concurrency` if it has one; otherwise the
function shares the account's unreserved concurrency (`ConcurrencyLimiter`) with
every other unreserved function, as in a Lambda account. Concurrency counts
invocations in flight (a cold start in progress included), not idle environments.

Idle environments are reclaimed after `idle_timeout` seconds (scale to zero).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from lambic.project.config import FunctionSettings
from lambic.runtime.environment import Environment

__all__ = ["ConcurrencyLimiter", "FunctionPool", "Lease"]


class ConcurrencyLimiter:
    """A counter with a ceiling: the account's unreserved concurrency."""

    __slots__ = ("in_flight", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def try_acquire(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1


@dataclass(slots=True)
class Lease:
    env: Environment
    cold: bool


class FunctionPool:
    """Environments of one function (one code version: a reload makes a new pool)."""

    def __init__(
        self,
        settings: FunctionSettings,
        spawn: Callable[[FunctionSettings], Environment],
        account: ConcurrencyLimiter,
        idle_timeout: float,
    ) -> None:
        self.settings = settings
        self._spawn = spawn
        self._account = account
        self.idle_timeout = idle_timeout
        self.idle: list[Environment] = []
        self.environments: set[Environment] = set()
        self.in_flight = 0
        self.draining = False

    @property
    def reserved(self) -> bool:
        return self.settings.reserved_concurrency is not None

    def throttle_reason(self) -> str:
        """Lambda's `Reason` for the throttle this pool would answer now."""
        if self.reserved:
            return "ReservedFunctionConcurrentInvocationLimitExceeded"
        return "ConcurrentInvocationLimitExceeded"

    def try_acquire(self) -> Lease | None:
        """A warm or new environment for one invocation, or None: throttled."""
        reserved = self.settings.reserved_concurrency
        if reserved is not None:
            if self.in_flight >= reserved:
                return None
        elif not self._account.try_acquire():
            return None
        self.in_flight += 1
        while self.idle:
            env = self.idle.pop()
            if env.alive:
                return Lease(env, cold=False)
            self.environments.discard(env)
        env = self._spawn(self.settings)
        self.environments.add(env)
        return Lease(env, cold=True)

    def release(self, lease: Lease) -> None:
        self.in_flight -= 1
        if not self.reserved:
            self._account.release()
        env = lease.env
        if env.alive and not self.draining:
            env.last_used = time.monotonic()
            self.idle.append(env)
        else:
            self._discard(env)

    def _discard(self, env: Environment) -> None:
        self.environments.discard(env)
        if env.alive:
            env.close()
        else:
            env.drain_output(final=True)
            env.close()

    def busy(self) -> list[Environment]:
        return [env for env in self.environments if env.busy]

    def reap_idle(self, now: float | None = None) -> int:
        """Close environments idle longer than `idle_timeout`; returns how many."""
        now = time.monotonic() if now is None else now
        keep: list[Environment] = []
        reaped = 0
        for env in self.idle:
            if now - env.last_used >= self.idle_timeout or not env.alive:
                self._discard(env)
                reaped += 1
            else:
                keep.append(env)
        self.idle = keep
        return reaped

    def drain(self) -> None:
        """Stop reusing environments (reload/shutdown); busy ones close when released."""
        self.draining = True
        for env in self.idle:
            self._discard(env)
        self.idle = []

    def kill_all(self) -> None:
        for env in list(self.environments):
            env.kill("shutdown")
            self._discard(env)
        self.idle = []
