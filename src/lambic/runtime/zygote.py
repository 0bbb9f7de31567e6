"""The zygote: one pre-initialised Python process per invoker that forks environments.

Starting a Python interpreter and importing json, logging, lambic.app and boto3
costs far more than a Lambda cold start should. The zygote pays that once; each
execution environment is a `fork()` of it, so a cold start costs the fork plus the
import of the user's own code (the zygote never imports user code, so a reload
needs no new zygote).

    invoker --spawn(spec, [env socket, log pipe]) over SOCK_SEQPACKET--> zygote
    zygote  --hands spec + fds to its spare (forked while idle), else forks-->
            environment (runs `_sandbox.run_environment`)
    zygote  --{"op": "spawned", pid} / {"op": "exited", pid, status}--> invoker
    invoker --manifest(project dir, env, [pipe])--> zygote --forks--> manifest reader

A manifest reader is a one-shot child that imports the project's app.py and writes
its manifest (`project._manifest_child`) to the pipe: reading the routes costs a fork
and the import of the user's own code, not a new interpreter importing boto3 again,
and the user's import-time code runs outside the gateway's process.

The zygote dies with its parent (PR_SET_PDEATHSIG), and the environments die with
the zygote, so no process outlives the invoker. When the control socket closes it
SIGKILLs and reaps every environment, then exits.

This module is the invoker's handle (`Zygote`); what runs in the zygote process
(`preload_modules`, `serve`) is `_zygote_process`, which does not import asyncio.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lambic.runtime._zygote_launch import DEFAULT_PRELOAD, Launched, launch
from lambic.runtime._zygote_process import MAX_MSG, preload_modules, serve
from lambic.runtime.errors import LambicRuntimeError

__all__ = ["DEFAULT_PRELOAD", "Zygote", "ZygoteError", "preload_modules", "serve"]


class ZygoteError(LambicRuntimeError):
    """The zygote died or could not fork; the invoker turns this into a crash result."""


def _read_all(fd: int) -> bytes:
    """Everything written to a pipe until its last writer closes it; closes `fd`."""
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


# ---------------------------------------------------------------- invoker side


class Zygote:
    """The invoker's handle on its zygote process (asyncio; one per invoker)."""

    def __init__(
        self,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        protect: Sequence[str] = (),
        *,
        hold_warm: bool = False,
        launched: Launched | None = None,
    ) -> None:
        """`protect`: paths app.py's import in `read_app` must not open even where a
        broader rule would let it (the project and its state, as for an environment).
        `hold_warm`: the zygote builds its boto3 clients only after its first request
        (`serve`), for a caller whose first request is on its way (a manifest read).
        `launched`: a process already started (`_zygote_launch.take_ahead`) to adopt
        instead of starting one (`preload` and `hold_warm` were given to it then)."""
        self._protect = [os.path.realpath(path) for path in protect]
        # PDEATHSIG fires when the *thread* that forked us exits: start the zygote
        # from the thread that runs the invoker's loop (we are called from it).
        if launched is None:
            launched = launch(preload, hold_warm=hold_warm)
        self._ctrl = launched.ctrl
        self._proc = launched.proc
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Future[None] | None = None
        self._spawns: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        # Exit statuses nobody asked for yet (bounded: most exits are never asked about).
        self._statuses: OrderedDict[int, int] = OrderedDict()
        self._token = 0
        self._dead = False
        #: What isolation the zygote found (`_isolation.found()`), once it is ready.
        self.isolation: dict[str, Any] | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def dead(self) -> bool:
        """True once the zygote's control channel is gone (it exited or was closed)."""
        return self._dead

    def _attach(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._ready = self._loop.create_future()
        self._loop.add_reader(self._ctrl.fileno(), self._on_readable)

    async def wait_ready(self, timeout: float = 30.0) -> None:
        self._attach()
        assert self._ready is not None  # set by _attach
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except asyncio.TimeoutError as exc:
            raise ZygoteError(f"the zygote did not start within {timeout:.0f} s") from exc

    def _on_readable(self) -> None:
        while True:
            try:
                data = self._ctrl.recv(MAX_MSG, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._on_dead()
                return
            msg = json.loads(data)
            op = msg.get("op")
            if op == "ready" and self._ready is not None and not self._ready.done():
                self.isolation = msg.get("isolation")
                self._ready.set_result(None)
            elif op == "spawned":
                fut = self._spawns.pop(msg["token"], None)
                if fut is not None and not fut.done():
                    fut.set_result(msg["pid"])
            elif op == "error":
                fut = self._spawns.pop(msg["token"], None)
                if fut is not None and not fut.done():
                    fut.set_exception(ZygoteError(f"fork failed: {msg['message']}"))
            elif op == "exited":
                fut = self._exits.pop(msg["pid"], None)
                if fut is not None:
                    if not fut.done():
                        fut.set_result(msg["status"])
                else:
                    self._statuses[msg["pid"]] = msg["status"]
                    while len(self._statuses) > 1024:
                        self._statuses.popitem(last=False)

    def _on_dead(self) -> None:
        self._dead = True
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._ctrl.fileno())
        err = ZygoteError("the zygote process exited")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(err)
            self._ready.exception()  # mark retrieved: wait_ready may never be called
        for fut in [*self._spawns.values(), *self._exits.values()]:
            if not fut.done():
                fut.set_exception(err)
                fut.exception()  # retrieved: a waiter may have given up already
        self._spawns.clear()
        self._exits.clear()

    def exit_future(self, pid: int) -> asyncio.Future[int]:
        """Resolves to the raw wait status when environment `pid` has exited."""
        assert self._loop is not None  # spawn() attached us first
        status = self._statuses.pop(pid, None)
        if status is not None:
            done: asyncio.Future[int] = self._loop.create_future()
            done.set_result(status)
            return done
        fut = self._exits.get(pid)
        if fut is None:
            fut = self._exits[pid] = self._loop.create_future()
            if self._dead:
                fut.set_exception(ZygoteError("the zygote process exited"))
                fut.exception()  # retrieved: nobody may await it
        return fut

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)
        self._statuses.pop(pid, None)

    def spawn(self, spec: dict[str, Any], fds: Sequence[int]) -> asyncio.Future[int]:
        """Ask for one environment; the future resolves to its pid."""
        return self._fork("spawn", {"spec": spec}, fds)

    async def read_app(
        self, project_dir: Path, env: Mapping[str, str], timeout: float
    ) -> tuple[bytes, int | None]:
        """Import `project_dir`'s app.py in a child forked from here, with `env` as its
        whole environment; (its output: the manifest's JSON line, exit status), the
        status None when the line came whole (nothing more to explain).

        `project.manifest.ManifestReader`; TimeoutError (the child killed) when the
        import takes longer than `timeout`.
        """
        await self.wait_ready()
        read_end, write_end = os.pipe()
        try:
            message = {"project_dir": str(project_dir), "env": dict(env), "protect": self._protect}
            pid = await self._fork("manifest", message, [write_end])
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        exited = self.exit_future(pid)
        try:
            output = await asyncio.wait_for(asyncio.to_thread(_read_all, read_end), timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            raise TimeoutError(f"importing app.py took more than {timeout:.0f} s") from None
        if output.endswith(b"\n"):
            # The reader wrote its whole line (the manifest or the import's error) and
            # closed the pipe: its exit status would add nothing, and the zygote
            # reports it only between two boto3 clients it builds (~0.1 s, more on a
            # loaded machine), while `lambic local`'s first answer waits.
            self.forget(pid)
            return output, None
        try:
            status = await asyncio.wait_for(asyncio.shield(exited), 5)
        except (asyncio.TimeoutError, ZygoteError):
            return output, None
        finally:
            self.forget(pid)
        return output, os.waitstatus_to_exitcode(status)

    def _fork(self, op: str, payload: dict[str, Any], fds: Sequence[int]) -> asyncio.Future[int]:
        self._attach()
        assert self._loop is not None  # set by _attach
        fut: asyncio.Future[int] = self._loop.create_future()
        if self._dead:
            fut.set_exception(ZygoteError("the zygote process exited"))
            return fut
        self._token += 1
        self._spawns[self._token] = fut
        msg = json.dumps({"op": op, "token": self._token, **payload}).encode("utf-8")
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        try:
            self._ctrl.sendmsg([msg], ancillary)
        except OSError as exc:
            self._spawns.pop(self._token, None)
            fut.set_exception(ZygoteError(f"cannot reach the zygote: {exc}"))
        return fut

    async def aclose(self, timeout: float = 5.0) -> None:
        """Close the control socket; the zygote kills and reaps every environment."""
        if self._loop is not None and not self._dead:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._ctrl.fileno())
        self._dead = True
        self._ctrl.close()
        deadline = time.monotonic() + timeout
        while self._proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(2)
