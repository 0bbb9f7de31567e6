"""The invoker: run a function of the project the way Lambda's Invoke API does.

Everything that runs user code goes through here (the gateway, `lambic invoke`,
schedules and the other event sources), so a function behaves the same whatever
calls it:

    invoker = create_invoker(project, "dev", extra_env={"AWS_ENDPOINT_URL": url})
    result = await invoker.invoke("api_handler", b'{"path": "/"}')
    result.status, result.payload      # "ok", b'{"statusCode": 200, ...}'
    await invoker.reload(new_project)  # next invocations run the new code
    await invoker.aclose(5.0)          # in-flight work finishes or is killed; no child left

Data path of one synchronous invocation:

    invoke() -> FunctionPool.try_acquire() -> (cold: fork from the zygote, init)
             -> INVOKE frame over the environment's socketpair -> RESULT frame
             -> START/output/END/REPORT into the log store and the log sink
             -> usage record -> InvocationResult

Statuses: "ok"; "error" (the handler raised; Lambda's error payload); "timeout"
(Sandbox.Timedout); "oom" (Runtime.OutOfMemory); "crash" (Runtime.ExitError: the
process died); "throttled" (TooManyRequestsException); "accepted" (an Event
invocation was queued, Lambda's 202).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lambic._start_trace import stamp
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.project.config import FunctionSettings
from lambic.project.environ import function_environment
from lambic.project.paths import LAMBIC_DIR, LOG_STORE_FILE
from lambic.project.project import Project
from lambic.project.sdk_use import imports_boto3
from lambic.runtime._cpu_hold import CpuHold
from lambic.runtime._log_lines import PathRewrite
from lambic.runtime._log_writer_fork import ForkedWriter
from lambic.runtime._reporting import Report, finish_report, init_failure_report
from lambic.runtime.environment import Environment, InitOutcome, Outcome
from lambic.runtime.errors import (
    FunctionNotFoundError,
    InvalidRequestContentError,
    InvokerClosedError,
    RequestTooLargeError,
)
from lambic.runtime.journal import InvocationJournal
from lambic.runtime.logstore import LogEvent, LogStore
from lambic.runtime.pool import ConcurrencyLimiter, FunctionPool, Lease
from lambic.runtime.results import InvocationResult
from lambic.runtime.zygote import DEFAULT_PRELOAD, Zygote

__all__ = [
    "INIT_TIMEOUT_SECONDS",
    "InvocationResult",
    "Invoker",
    "LogSink",
    "create_invoker",
]

# Lambda gives the init phase 10 s on an on-demand function; we mirror it.
INIT_TIMEOUT_SECONDS = 10.0
# Lambda retries a failed asynchronous invocation twice, about 1 and 2 minutes later.
ASYNC_RETRY_DELAYS = (60.0, 120.0)
# The watchdog's tick: timeouts are enforced and memory sampled this often.
_MEMORY_POLL_SECONDS = 0.02
# Lambda's request payload quotas: 6 MB for a synchronous invoke, 1 MB for an Event
# invoke (raised from 256 KB in late 2025). The response limit is in `_reporting`.
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_EVENT_PAYLOAD = 1024 * 1024

LogSink = Callable[[LogEvent], None]


class Invoker:
    """Runs a project's functions in pooled execution environments (asyncio-native)."""

    def __init__(
        self,
        project: Project,
        stage: str = "dev",
        *,
        extra_env: Mapping[str, str] | None = None,
        log_sink: LogSink | None = None,
        log_fd: int | None = None,
        log_rewrite: PathRewrite | None = None,
        log_verbose: bool = True,
        state_dir: str | Path | None = None,
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
        preload: tuple[str, ...] = DEFAULT_PRELOAD,
        zygote: Zygote | None = None,
        log_writer: ForkedWriter | None = None,
        async_retry_delays: tuple[float, ...] = ASYNC_RETRY_DELAYS,
    ) -> None:
        self.project = project
        self.stage = stage
        self.region = region
        self.account_id = account_id
        self.extra_env = dict(extra_env or {})
        self.log_sink = log_sink
        self.async_retry_delays = async_retry_delays
        state = Path(state_dir) if state_dir else project.paths.state_dir(stage)
        # What no handler may open: the state, and the project (config.json's secrets)
        # whose snapshot the functions run from.
        project_root = state.parents[2] if state.parent.parent.name == LAMBIC_DIR else state
        self._protect = sorted({os.path.realpath(state), os.path.realpath(project_root)})
        self.store = LogStore(
            state / LOG_STORE_FILE,
            echo_fd=log_fd,
            rewrite=log_rewrite,
            verbose=log_verbose,
            forked=log_writer,
        )
        self._preload = preload
        # A zygote started earlier (`lambic local` starts it first, so that its preload
        # runs while the services open and app.py is read) becomes this invoker's.
        self._zygote = zygote if zygote is not None else Zygote(preload)
        self._dead_zygotes: list[Zygote] = []
        self._account = ConcurrencyLimiter(project.config.local.account_concurrency)
        self._pools: dict[str, FunctionPool] = {}
        self._aliases: dict[str, str] = {}
        self._old_pools: list[FunctionPool] = []
        self._uses_boto3 = False
        self._build_pools(project)
        self._active = 0
        self._cpu_hold = CpuHold.create()
        self._idle_event: asyncio.Event | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._event_tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        #: The recent invocations' events and responses (the console shows them).
        self.journal = InvocationJournal()

    # ------------------------------------------------------------------ public API

    def function_names(self) -> list[str]:
        """Short names of the functions the current code defines."""
        return list(self._pools)

    def settings(self, function_name: str) -> FunctionSettings:
        return self._pool(function_name).settings

    def environment_counts(self, function_name: str) -> tuple[int, int]:
        """(warm and idle, total) execution environments of a function now."""
        pool = self._pool(function_name)
        return len(pool.idle), len(pool.environments)

    async def invoke(
        self,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        client_context: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
        request_id: str | None = None,
    ) -> InvocationResult:
        """Invoke `function_name` (short or deployed name) with a JSON `payload`.

        RequestResponse waits for the result. Event queues it (with Lambda's two
        retries) and returns status "accepted" at once. DryRun only checks the name.
        `trace_id` (an X-Amzn-Trace-Id value) becomes the function's `_X_AMZN_TRACE_ID`,
        as Lambda sets it from the caller's trace header. `request_id`: the id an
        asynchronous invocation was accepted under (every attempt runs under it, as on
        Lambda); None gives a new one.
        """
        if self._closed:
            raise InvokerClosedError("the invoker is shutting down; no new invocations")
        pool = self._pool(function_name)
        request_id = request_id or _request_id()
        if invocation_type == "RequestResponse":
            if len(payload) > MAX_SYNC_PAYLOAD:
                raise RequestTooLargeError(
                    f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the "
                    "InvokeFunction operation"
                )
            return await self._run(pool, payload, request_id, client_context, trace_id)
        if invocation_type == "DryRun":
            return InvocationResult("dry_run", b"", None, request_id)
        if invocation_type != "Event":
            raise ValueError(
                f"invocation_type must be RequestResponse, Event or DryRun, got {invocation_type!r}"
            )
        if len(payload) > MAX_EVENT_PAYLOAD:
            raise RequestTooLargeError(
                f"Request must be smaller than {MAX_EVENT_PAYLOAD} bytes for the "
                "InvokeAsync operation"
            )
        _check_json(payload)
        task = asyncio.get_running_loop().create_task(
            self._run_event(pool.settings.name, payload, request_id)
        )
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)
        return InvocationResult(
            "accepted", b"", None, request_id, function_name=pool.settings.deployed_name
        )

    async def reload(self, project: Project) -> None:
        """Use `project`'s code and config for the next invocations.

        In-flight invocations finish on their old environments, which are then
        discarded; idle old environments are reclaimed now.
        """
        old = list(self._pools.values())
        self.project = project
        self._build_pools(project)
        for pool in old:
            pool.drain()
            if pool.environments:
                self._old_pools.append(pool)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop: wait up to `timeout` s for in-flight work, then kill; leave no process."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._event_tasks):
            task.cancel()  # queued async events are dropped, as a deleted function's are
        if self._active and self._idle_event is not None:
            self._idle_event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._idle_event.wait(), timeout)
        for pool in [*self._pools.values(), *self._old_pools]:
            pool.kill_all()
        if self._event_tasks:
            await asyncio.gather(*self._event_tasks, return_exceptions=True)
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        for zygote in [*self._dead_zygotes, self._zygote]:
            await zygote.aclose()
        await asyncio.to_thread(self.store.close)

    # ------------------------------------------------------------------ pools

    def _build_pools(self, project: Project) -> None:
        """The function pools for `project`'s code and config, and what its code tells
        the zygote (whether to lay boto3's groundwork before forking our environments)."""
        self._uses_boto3 = imports_boto3(project.project_dir)
        idle = project.config.local.idle_timeout_seconds
        functions = project.functions(self.stage)
        # As in a Lambda account, reserved concurrency is carved out of the account's
        # pool; the functions without a reservation share what is left (at least 1).
        reserved = sum(f.reserved_concurrency or 0 for f in functions.values())
        self._account.limit = max(project.config.local.account_concurrency - reserved, 1)
        self._pools = {
            name: FunctionPool(settings, self._spawn, self._account, idle)
            for name, settings in functions.items()
        }
        self._aliases = {p.settings.deployed_name: name for name, p in self._pools.items()}

    def _pool(self, function_name: str) -> FunctionPool:
        name = function_name.rsplit(":function:", 1)[-1]  # accept an ARN, as Lambda does
        pool = self._pools.get(name) or self._pools.get(self._aliases.get(name, ""))
        if pool is None:
            raise FunctionNotFoundError(
                f"Function not found: {function_name}; the app defines "
                f"{', '.join(sorted(self._pools)) or 'no functions'}"
            )
        return pool

    def _environment_variables(self, settings: FunctionSettings, log_stream: str) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")}
        env.update(
            function_environment(
                settings,
                task_root=self.project.project_dir,
                region=self.region,
                log_stream=log_stream,
            )
        )
        # Lambda hands the function its role's credentials; locally the developer's own
        # stand in for them, unless extra_env brings a set (the local services'): then
        # none of the shell's is copied, not even a session token to pair with it.
        if "AWS_ACCESS_KEY_ID" not in self.extra_env:
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                if key in os.environ:
                    env[key] = os.environ[key]
        env.update(self.extra_env)
        env.update(settings.environment_variables)
        return env

    @property
    def zygote(self) -> Zygote:
        """The zygote environments fork from (a new one if someone killed it); it also
        forks the reader of app.py's manifest on a hot reload."""
        if self._zygote.dead and not self._closed:
            # Someone killed the zygote (its environments died with it): start a new
            # one rather than failing every cold start from now on.
            self._dead_zygotes.append(self._zygote)
            self._zygote = Zygote(self._preload)
        return self._zygote

    def _spawn(self, settings: FunctionSettings) -> Environment:
        zygote = self.zygote
        log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{uuid.uuid4().hex}"
        spec = {
            "env": self._environment_variables(settings, log_stream),
            "task_root": str(self.project.project_dir),
            "handler": settings.handler,
            "function_name": settings.deployed_name,
            "function_arn": (
                f"arn:aws:lambda:{self.region}:{self.account_id}:function:{settings.deployed_name}"
            ),
            "memory_size": settings.memory_size,
            "log_group": settings.log_group,
            "log_stream": log_stream,
            "zygote_pid": zygote.pid,
            "protect": self._protect,
            "uses_boto3": self._uses_boto3,
        }
        group = settings.log_group

        def on_output(message: str, ts: float) -> None:
            self._emit(group, log_stream, message, ts)

        return Environment.spawn(zygote, spec, on_output)

    # ------------------------------------------------------------------ logs

    def _emit(self, group: str, stream: str, message: str, ts: float) -> None:
        event = LogEvent(group, stream, int(ts * 1000), message)
        self.store.append(event)
        if self.log_sink is not None:
            try:
                self.log_sink(event)
            except Exception:  # a broken printer must not fail the invocation
                self.log_sink = None

    # ------------------------------------------------------------------ running

    def _start_monitor(self) -> None:
        if self._monitor is None:
            self._idle_event = asyncio.Event()
            self._monitor = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        """Enforce busy environments' timeouts and memory; reclaim idle ones."""
        last_reap = time.monotonic()
        wake_at = last_reap + _MEMORY_POLL_SECONDS
        while True:
            await asyncio.sleep(max(wake_at - time.monotonic(), 0.0005))
            pools = [*self._pools.values(), *self._old_pools]
            now = time.monotonic()
            # Wake at the next tick, or sooner if a deadline falls before it, so a
            # timeout is enforced to the millisecond as Lambda's is.
            wake_at = now + _MEMORY_POLL_SECONDS
            if self._cpu_hold is not None:
                # A held invocation this long gains nothing more from its CPU.
                self._cpu_hold.let_go(held_before=now - _MEMORY_POLL_SECONDS)
            for pool in pools:
                for env in list(pool.environments):
                    if env.busy:
                        env.check(now)
                        if env.busy and env.alive:
                            wake_at = min(wake_at, env.deadline)
            if now - last_reap >= min(1.0, self.project.config.local.idle_timeout_seconds / 4):
                last_reap = now
                for pool in pools:
                    pool.reap_idle(now)
                self._old_pools = [p for p in self._old_pools if p.environments]

    async def _run(
        self,
        pool: FunctionPool,
        payload: bytes,
        request_id: str,
        client_context: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
    ) -> InvocationResult:
        self._start_monitor()
        settings = pool.settings
        stamp("main: invoke")
        lease = pool.try_acquire()
        if lease is None:
            # Lambda throttles at the limit instead of queueing; so do we.
            body = {"Reason": pool.throttle_reason(), "Type": "User", "message": "Rate Exceeded."}
            return InvocationResult(
                "throttled",
                json.dumps(body).encode("utf-8"),
                "TooManyRequestsException",
                request_id,
                memory_size_mb=settings.memory_size,
                function_name=settings.deployed_name,
            )
        self._active += 1
        try:
            result = await self._run_leased(
                lease, settings, payload, request_id, client_context, trace_id
            )
        finally:
            pool.release(lease)
            self._active -= 1
            if self._active == 0 and self._idle_event is not None:
                self._idle_event.set()
        self.journal.record(settings.name, payload, result)
        return result

    async def _run_leased(
        self,
        lease: Lease,
        settings: FunctionSettings,
        payload: bytes,
        request_id: str,
        client_context: Mapping[str, Any] | None,
        trace_id: str | None,
    ) -> InvocationResult:
        env = lease.env
        init_ms: float | None = None
        if lease.cold:
            init = await env.start(INIT_TIMEOUT_SECONDS)
            init_ms = init.init_ms
            if init.kind != "ok":
                return self._init_failed(settings, env, init, request_id)
        started = time.time()
        env.pending_start = (request_id, started)
        meta: dict[str, Any] = {
            "request_id": request_id,
            "deadline_ms": int(started * 1000) + settings.timeout * 1000,
        }
        if client_context:
            meta["client_context"] = dict(client_context)
        if trace_id:
            meta["trace_id"] = trace_id
        alone = self._active == 1
        env.schedule_for(alone=alone)
        hold = self._cpu_hold
        # A lone invocation stays on the loop's CPU, wakeups included (`_cpu_hold`).
        held = hold is not None and hold.place(env, alone)
        t0 = time.perf_counter()
        try:
            outcome = await env.invoke(meta, payload, settings.timeout)
        finally:
            if held and hold is not None:
                hold.release(env)
        duration_ms = (time.perf_counter() - t0) * 1000.0
        if outcome.kind == "unmarshal":
            env.pending_start = None
            raise InvalidRequestContentError(
                "Could not parse request body into json: the payload is not valid JSON"
            )
        return self._finish(settings, env, outcome, request_id, duration_ms, init_ms)

    def _finish(
        self,
        settings: FunctionSettings,
        env: Environment,
        outcome: Outcome,
        request_id: str,
        duration_ms: float,
        init_ms: float | None,
    ) -> InvocationResult:
        now = time.time()
        report = finish_report(
            settings, outcome, request_id, duration_ms, init_ms, env.peak_rss_mb, now
        )
        if self.log_sink is None and report.plain:
            # The common case at request rates: one record; the log writer process
            # formats START/END/REPORT and the usage row from it (see `_log_lines`).
            pending, env.pending_start = env.pending_start, None
            start_ms = None if pending is None else int(pending[1] * 1000)
            self.store.append(report.record(settings.log_group, env.log_stream, start_ms))
            return report.result
        env.flush_start()
        return self._publish(settings.log_group, env.log_stream, report, now)

    def _init_failed(
        self, settings: FunctionSettings, env: Environment, init: InitOutcome, request_id: str
    ) -> InvocationResult:
        now = time.time()
        report = init_failure_report(settings, init, request_id, env.peak_rss_mb, now)
        return self._publish(settings.log_group, env.log_stream, report, now)

    def _publish(self, group: str, stream: str, report: Report, now: float) -> InvocationResult:
        for line in report.lines:
            self._emit(group, stream, line, now)
        self.store.append_usage(report.usage)
        return report.result

    async def _run_event(self, name: str, payload: bytes, request_id: str) -> None:
        """An asynchronous invocation: Lambda's internal queue, retries and backoff."""
        failures = 0
        throttle_delay = 0.05
        while not self._closed:
            try:
                pool = self._pool(name)  # the current code: a reload applies to retries
            except FunctionNotFoundError:
                return  # the function was removed from the app; the event is dropped
            result = await self._run(pool, payload, request_id)
            if result.status == "throttled":
                # Lambda keeps retrying throttled events (for up to 6 h) with backoff.
                await asyncio.sleep(throttle_delay)
                throttle_delay = min(throttle_delay * 2, 5.0)
                continue
            if result.status == "ok" or failures >= len(self.async_retry_delays):
                return
            await asyncio.sleep(self.async_retry_delays[failures])
            failures += 1


def _request_id() -> str:
    """A version-4 UUID string. uuid4() reads os.urandom (a syscall) each call; a
    request id needs uniqueness, not secrecy, and this runs once per invocation."""
    h = f"{random.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def _check_json(payload: bytes) -> None:
    if not payload:
        return
    try:
        json.loads(payload)
    except ValueError as exc:
        raise InvalidRequestContentError(f"Could not parse request body into json: {exc}") from exc


def create_invoker(
    project: Project,
    stage: str = "dev",
    *,
    extra_env: Mapping[str, str] | None = None,
    log_sink: LogSink | None = None,
    state_dir: str | Path | None = None,
    **options: Any,
) -> Invoker:
    """Build the invoker for `project` in `stage` (starts its zygote process).

    `extra_env` is added to every environment (e.g. `AWS_ENDPOINT_URL` of the local
    services); `log_sink` is called with every `LogEvent` as it happens; state goes
    to `<project>/.lambic/state/<stage>/` unless `state_dir` says otherwise.
    """
    return Invoker(
        project, stage, extra_env=extra_env, log_sink=log_sink, state_dir=state_dir, **options
    )
