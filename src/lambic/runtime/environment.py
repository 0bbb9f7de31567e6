"""An execution environment as the invoker sees it: one forked process, one at a time.

    env = Environment.spawn(zygote, spec, on_output)  # fork requested from the zygote
    init = await env.start(init_timeout)             # READY: Init Duration or init error
    outcome = await env.invoke({"request_id": rid, "deadline_ms": ms}, payload, timeout_s)
    env.check(time.monotonic())                      # watchdog: deadline and memory
    env.close()                                      # reclaim

The environment's fds 1 and 2 are a pipe we read on the event loop, line by line,
into `on_output` (the log router). Before it answers, the environment flushes its
streams, so when the RESULT frame arrives every byte of the invocation's output is
already in the pipe: we drain it synchronously and only then write END/REPORT,
which keeps Lambda's line order without a thread or a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import select
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambic._start_trace import stamp
from lambic.runtime._ipc import INVOKE, INVOKE_FAST, RESULT, RESULT_OK, FrameReader, encode_frame
from lambic.runtime._log_lines import start_line
from lambic.runtime.zygote import Zygote, ZygoteError

__all__ = ["Environment", "InitOutcome", "Outcome", "describe_exit"]

_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
# Go's names for signals, because Lambda's runtime (written in Go) prints them.
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
}

OutputCallback = Callable[[str, float], None]


def describe_exit(status: int | None) -> str:
    """A wait status as Lambda words it: `exit status 1`, `signal: segmentation fault`."""
    if status is None:
        return "signal: killed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"signal: {_SIGNAL_NAMES.get(signal.Signals(sig), signal.Signals(sig).name)}"
        except ValueError:
            return f"signal: {sig}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


@dataclass(slots=True)
class InitOutcome:
    init_ms: float
    error: dict[str, Any] | None = None  # Lambda's error payload (Runtime.* types)
    log: str | None = None  # the runtime's [ERROR] line for the log
    kind: str = "ok"  # "ok" | "error" | "timeout" | "crash"
    exit: str = ""


@dataclass(slots=True)
class Outcome:
    kind: str  # "ok" | "error" | "unmarshal" | "timeout" | "oom" | "crash"
    payload: bytes = b""
    error_type: str | None = None
    log: str | None = None
    max_memory_mb: int = 0
    exit: str = ""  # describe_exit() for crash


class _EnvProtocol(asyncio.Protocol):
    def __init__(self, env: Environment) -> None:
        self._env = env
        self._reader = FrameReader()

    def data_received(self, data: bytes) -> None:
        for kind, meta, body in self._reader.feed(data):
            self._env._on_frame(kind, meta, body)

    def connection_lost(self, exc: Exception | None) -> None:
        self._env._on_eof()


class Environment:
    """The invoker-side handle on one execution environment process."""

    def __init__(
        self,
        zygote: Zygote,
        memory_size: int,
        log_stream: str,
        sock: socket.socket,
        log_fd: int,
        pid_future: asyncio.Future[int],
        on_output: OutputCallback,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._zygote = zygote
        self.memory_size = memory_size
        self._limit_kb = memory_size * 1024
        self.log_stream = log_stream
        self.on_output = on_output
        self.pid = 0
        self.alive = True
        self.busy = False
        self.last_used = time.monotonic()
        self.peak_rss_mb = 0.0
        # (request id, time) of the invocation in progress until its START line is
        # written: before its first output or with its END (so a rejected payload
        # leaves no trace in the log).
        self.pending_start: tuple[str, float] | None = None
        self._pid_future = pid_future
        self._sock = sock
        self._log_fd = log_fd
        self._partial = b""
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, dict[str, Any], bytes] | None] | None = None
        self._kill_reason = ""
        # Monotonic deadline of the invocation in progress; the invoker's watchdog
        # (`check`) enforces it, waking at the soonest deadline. One shared timer
        # instead of a call_later per invocation: at gateway rates the heap churn showed.
        self.deadline = 0.0
        # The process starts SCHED_BATCH (`_sandbox`); see `schedule_for`.
        self._batch = True
        # The one CPU it is held on while its invocation is alone (`place`), else None:
        # any CPU the process may use, as it inherited.
        self._cpu: int | None = None
        self._log_poll = select.poll()
        self._log_poll.register(log_fd, select.POLLIN)
        self._loop.add_reader(log_fd, self._on_log_readable)

    @classmethod
    def spawn(
        cls,
        zygote: Zygote,
        spec: dict[str, Any],
        on_output: OutputCallback,
    ) -> Environment:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        log_r, log_w = os.pipe()
        os.set_blocking(log_r, False)
        try:
            stamp("main: spawn sent")
            pid_future = zygote.spawn(spec, [child.fileno(), log_w])
        finally:
            child.close()
            os.close(log_w)
        return cls(
            zygote, spec["memory_size"], spec["log_stream"], parent, log_r, pid_future, on_output
        )

    # ------------------------------------------------------------------ output

    def _on_log_readable(self) -> None:
        self.drain_output()

    def drain_output(self, final: bool = False) -> None:
        """Read whatever the environment wrote and emit complete lines."""
        # poll(0) first: after most invocations nothing was written, and a failed
        # non-blocking read (an exception) costs three times as much.
        while self._log_fd >= 0 and self._log_poll.poll(0):
            try:
                chunk = os.read(self._log_fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self._close_log()
                final = True
                break
            self._partial += chunk
        if b"\n" in self._partial:
            *lines, self._partial = self._partial.split(b"\n")
            now = time.time()
            self.flush_start()
            for line in lines:
                # The runtime's log handler keeps a multi-line record as one event by
                # writing \r for its newlines (as Lambda's does); restore them.
                self.on_output(line.decode("utf-8", "replace").replace("\r", "\n"), now)
        if final and self._partial:
            self.flush_start()
            text, self._partial = self._partial.decode("utf-8", "replace"), b""
            self.on_output(text.replace("\r", "\n"), time.time())

    def flush_start(self) -> None:
        if self.pending_start is not None:
            request_id, ts = self.pending_start
            self.pending_start = None
            self.on_output(start_line(request_id), ts)

    def _close_log(self) -> None:
        if self._log_fd >= 0:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._log_fd)
            with contextlib.suppress(KeyError):
                self._log_poll.unregister(self._log_fd)
            os.close(self._log_fd)
            self._log_fd = -1

    # ------------------------------------------------------------------ frames

    def _on_frame(self, kind: int, meta: dict[str, Any], body: bytes) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((kind, meta, body))

    def _on_eof(self) -> None:
        self.alive = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _exit_description(self) -> str:
        if not self.pid:
            return "signal: killed"
        try:
            status = await asyncio.wait_for(asyncio.shield(self._zygote.exit_future(self.pid)), 2)
        except (asyncio.TimeoutError, ZygoteError):
            return "signal: killed"
        return describe_exit(status)

    # ------------------------------------------------------------------ lifecycle

    async def start(self, init_timeout: float) -> InitOutcome:
        """Wait for the fork and for init (the user's import); READY or an error."""
        started = time.perf_counter()
        # The waiter must exist before the socket is connected: the READY frame (or
        # EOF) can be delivered as soon as the transport starts reading, which some
        # loops (uvloop) do before our coroutine resumes.
        self._waiter = self._loop.create_future()
        try:
            self._transport, _ = await self._loop.create_unix_connection(
                lambda: _EnvProtocol(self), sock=self._sock
            )
            self.pid = await asyncio.wait_for(self._pid_future, init_timeout)
            stamp("main: spawned")
        except (ZygoteError, asyncio.TimeoutError, OSError) as exc:
            self.kill("init")
            return InitOutcome(0.0, kind="crash", exit=f"cannot start: {exc}")
        if self._kill_reason:  # killed (shutdown) before we knew its pid
            self.kill(self._kill_reason)
        remaining = max(init_timeout - (time.perf_counter() - started), 0.001)
        try:
            frame = await asyncio.wait_for(self._waiter, remaining)
        except asyncio.TimeoutError:
            self.kill("timeout")
            return InitOutcome(init_timeout * 1000.0, kind="timeout")
        stamp("main: env ready")
        self.drain_output()
        if frame is None:
            self.alive = False
            return InitOutcome(0.0, kind="crash", exit=await self._exit_description())
        _kind, meta, _body = frame
        if "error" in meta:
            self.kill("init")
            return InitOutcome(meta["init_ms"], meta["error"], meta.get("log"), kind="error")
        self.sample_memory()  # a baseline, so even a first-call crash reports its memory
        return InitOutcome(meta["init_ms"])

    def schedule_for(self, alone: bool) -> None:
        """Let the process preempt on wakeup only while its invocation is the only one.

        SCHED_BATCH (how `_sandbox` starts it) keeps a woken environment from
        preempting: under load the gateway finishes its pass over the ready connections
        first (at 8 connections, environments that preempt cost ~15% more CPU per
        request: bench/gateway_cpu.py, 97 -> 110-114 us). But a lone invocation is
        latency-bound, and a batch process waking on a busy core waits for that core's
        task to block or for a scheduler tick (4 ms at HZ=250): in two traced runs at
        one connection (15,000 requests each way, alternating), the environment's
        wakeup was the largest delay of 61 and 109 of the 150 slowest requests under
        SCHED_BATCH, of 19 and 27 under SCHED_OTHER. One syscall only when the answer
        changes: steady load of either kind pays nothing.
        """
        batch = not alone
        if batch == self._batch or not self.pid or not self.alive:
            return
        self._batch = batch
        # Gone meanwhile, or a system without these policies (not Linux): no matter.
        with contextlib.suppress(AttributeError, OSError):
            policy = os.SCHED_BATCH if batch else os.SCHED_OTHER
            os.sched_setscheduler(self.pid, policy, os.sched_param(0))

    def place(self, cpu: int | None, allowed: frozenset[int]) -> None:
        """Run on `cpu` only (the event loop's, held for a lone invocation: see
        `_cpu_hold`), or on any of `allowed` (None). One syscall only when it changes."""
        if cpu == self._cpu or not self.pid or not self.alive:
            return
        self._cpu = cpu
        with contextlib.suppress(OSError):  # gone meanwhile: no matter
            os.sched_setaffinity(self.pid, allowed if cpu is None else (cpu,))

    async def invoke(self, meta: dict[str, Any], payload: bytes, timeout_s: float) -> Outcome:
        """Run one invocation; enforce the timeout from here, as Lambda's sandbox does."""
        if not self.alive or self._transport is None:
            return Outcome("crash", exit="signal: killed")
        self.busy = True
        waiter = self._waiter = self._loop.create_future()
        self.deadline = time.monotonic() + timeout_s
        kind = INVOKE if "client_context" in meta else INVOKE_FAST
        self._transport.write(encode_frame(kind, meta, payload))
        try:
            frame = await waiter
            stamp("main: result")
        except asyncio.CancelledError:
            # The caller gave up; the environment is still inside the handler, so its
            # next answer would belong to this invocation: it cannot be reused.
            self.kill("cancelled")
            raise
        finally:
            self.busy = False
        self.drain_output(final=True)  # a last line without a newline is an event too
        if frame is None:
            if self._kill_reason in ("timeout", "oom"):
                return Outcome(self._kill_reason, max_memory_mb=self._peak_mb())
            self.alive = False
            return Outcome(
                "crash", exit=await self._exit_description(), max_memory_mb=self._peak_mb()
            )
        kind, rmeta, body = frame
        peak = self.peak_rss_mb
        if kind == RESULT_OK and rmeta["maxrss_kb"] <= self._limit_kb and peak <= self.memory_size:
            # The common case, kept short: the handler returned within its memory.
            return Outcome(
                "ok", body, max_memory_mb=max(-(-rmeta["maxrss_kb"] // 1024), self._peak_mb())
            )
        if kind != RESULT and kind != RESULT_OK:
            self.kill("protocol")
            return Outcome("crash", exit="protocol error")
        max_mb = max(-(-int(rmeta.get("maxrss_kb", 0)) // 1024), self._peak_mb())
        if max_mb > self.memory_size:
            # The peak went over the limit between two samples; Lambda would have
            # killed the sandbox mid-way, so the result is not delivered.
            self.kill("oom")
            return Outcome("oom", max_memory_mb=max_mb)
        if rmeta.get("unmarshal"):
            return Outcome("unmarshal", max_memory_mb=max_mb)
        error_type = rmeta.get("error_type")
        return Outcome(
            "error" if error_type else "ok",
            payload=body,
            error_type=error_type,
            log=rmeta.get("log"),
            max_memory_mb=max_mb,
        )

    def _peak_mb(self) -> int:
        # Rounded up: 128.3 MB used is over a 128 MB limit and must read as such.
        return math.ceil(self.peak_rss_mb)

    def check(self, now: float) -> None:
        """Watchdog tick for a busy environment: kill it past its deadline or memory."""
        if now >= self.deadline:
            self.kill("timeout")
        else:
            self.sample_memory()

    def sample_memory(self) -> float:
        """Current RSS in MB from /proc (0 if gone); kills the environment past its limit."""
        if not self.pid or not self.alive:
            return 0.0
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as fh:
                rss = int(fh.read().split()[1]) * _PAGE_MB
        except (OSError, ValueError, IndexError):
            return 0.0
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        if rss > self.memory_size and self.busy:
            self.kill("oom")
        return rss

    def kill(self, reason: str) -> None:
        """SIGKILL the environment (and its process group); resolves a pending invoke."""
        if not self._kill_reason:
            self._kill_reason = reason
        if self.pid:
            for fn in (os.killpg, os.kill):
                with contextlib.suppress(OSError):
                    fn(self.pid, signal.SIGKILL)
        self.alive = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if self._transport is not None:
            self._transport.close()
        else:
            self._sock.close()

    def close(self) -> None:
        """Discard the environment: kill it and emit whatever it wrote last."""
        self.kill("close")
        self.drain_output(final=True)
        self._close_log()
