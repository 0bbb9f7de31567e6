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
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lambic.runtime import _isolation
from lambic.runtime.errors import LambicRuntimeError

__all__ = ["DEFAULT_PRELOAD", "Zygote", "ZygoteError", "preload_modules", "serve"]

# "boto3:<service>,..." imports boto3 and builds (then drops) one client per service,
# which leaves botocore's parsed service models and endpoint rules in the default
# session's loader cache. Measured on this machine: a cold environment creating
# DynamoDB, S3, SQS and SNS clients took ~310 ms without this and ~40 ms with it;
# the price is ~25 MB more shared (copy-on-write) memory per environment. The imports
# happen before the zygote says it is ready, the clients after (`serve`, in idle
# moments): the manifest reader and a first cold start do not wait for ~0.2 s of
# model loading they may not need.
DEFAULT_PRELOAD = (
    "json",
    "logging",
    "lambic.app",
    "boto3:dynamodb;s3;sqs;sns;events;dynamodbstreams;sts",
)

_MAX_MSG = 65536


class ZygoteError(LambicRuntimeError):
    """The zygote died or could not fork; the invoker turns this into a crash result."""


# ---------------------------------------------------------------- zygote process side


def _warm_boto3(services: Sequence[str]) -> None:
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None  # set just above
    with_resources = set(boto3.DEFAULT_SESSION.get_available_resources())
    for name in services:
        # Explicit dummy keys and region: nothing is resolved from the environment
        # here, so the environments still read their own credentials and endpoints.
        keys = {
            "region_name": "us-east-1",
            "aws_access_key_id": "preload",
            "aws_secret_access_key": "preload",
        }
        # A resource builds its client too, and leaves its own model (resources-1.json)
        # cached: `boto3.resource("dynamodb")` in a cold environment then costs ~4 ms of
        # CPU instead of ~45 ms, for ~0.2 MB shared per service.
        if name in with_resources:
            boto3.resource(name, **keys)
        else:
            boto3.client(name, **keys)


def preload_modules(modules: Sequence[str]) -> list[str]:
    """Import `modules`; the boto3 clients still to warm (`serve` warms them once it
    is ready: the manifest reader and a first cold start need only the imports)."""
    pending: list[str] = []
    for entry in modules:
        name, _, services = entry.partition(":")
        with contextlib.suppress(Exception):
            importlib.import_module(name)
            if name == "boto3" and services:
                pending += [s for s in services.split(";") if s]
    _freeze()
    return pending


def _freeze() -> None:
    # Objects loaded so far are never freed; moving them out of the GC's generations
    # keeps forked children from touching (and copying) their pages.
    gc.collect()
    gc.freeze()


def _read_all(fd: int) -> bytes:
    """Everything written to a pipe until its last writer closes it; closes `fd`."""
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _send(ctrl: socket.socket, msg: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        ctrl.send(json.dumps(msg).encode("utf-8"))


# After a hand-off the next spare waits until that environment has initialised (it
# says so on the spare's socket), at most this long: forked and walled in during the
# init, the spare took CPU from it (2 cores, loaded: ~10-25% slower cold starts).
INIT_QUIET_S = 0.1


class _Spare:
    """A child forked ahead of time, blocked until it is handed an environment spec.

    Forking a zygote that holds boto3's models takes milliseconds; doing it while the
    zygote is idle takes that off the cold start (the fork after a hand-off waits for
    that environment's init and then a quiet moment, so neither a cold start nor a
    burst of them is slowed by it).
    """

    __slots__ = ("pid", "sock")

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock


def _become_child(closing: Sequence[Any]) -> None:
    """In a freshly forked child: drop the zygote's signal setup and descriptors."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for item in closing:
        with contextlib.suppress(OSError):
            if isinstance(item, int):
                os.close(item)
            else:
                item.close()


def _receive_spec(sock: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(_MAX_MSG, socket.CMSG_SPACE(2 * fds.itemsize))
    if not data:
        return None
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
    return json.loads(data), list(fds)


def _run_child(
    msg: dict[str, Any], fds: list[int], initialised: socket.socket | None = None
) -> None:
    from lambic.runtime._sandbox import run_environment

    run_environment(msg["spec"], socket.socket(fileno=fds[0]), fds[1], initialised)
    os._exit(0)  # pragma: no cover - run_environment never returns


def _fork_spare(closing: Sequence[Any]) -> _Spare:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stdout.flush()
    sys.stderr.flush()
    zygote_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # the spare: wait for a spec, then become that environment
        from lambic.runtime._sandbox import set_parent_death_signal

        _become_child([*closing, ours])
        set_parent_death_signal(zygote_pid)
        _isolation.prepare_ahead()  # namespaces, /tmp, Landlock: before the spec comes
        try:
            received = _receive_spec(theirs)
        except OSError:
            received = None
        if received is None or len(received[1]) != 2:
            os._exit(0)
        _run_child(*received, initialised=theirs)
    theirs.close()
    return _Spare(pid, ours)


def _hand_to_spare(spare: _Spare, data: bytes, fds: list[int]) -> bool:
    """Send the spec; the spare's socket stays open until the environment's init ends."""
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
    try:
        spare.sock.sendmsg([data], ancillary)
    except OSError:  # the spare died; fork one directly instead
        spare.sock.close()
        return False
    return True


def _fork_environment(msg: dict[str, Any], fds: list[int], closing: Sequence[Any]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the environment
        _become_child(closing)
        _run_child(msg, fds)
    return pid


def _fork_manifest_reader(msg: dict[str, Any], fd: int, closing: Sequence[Any]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    zygote_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # the reader: import app.py, write one JSON line to `fd`, exit
        from lambic.project._manifest_child import write_manifest
        from lambic.runtime._sandbox import set_parent_death_signal

        _become_child(closing)
        set_parent_death_signal(zygote_pid)
        try:
            # app.py runs at import: the reader is walled in as an environment is (its
            # project's `.lambic/` and `.chalice/` hidden, a private /tmp), so code that
            # runs only there cannot read what a handler cannot.
            _isolation.enter(os.path.realpath(msg["project_dir"]), msg.get("protect", ()))
            write_manifest(msg["project_dir"], msg["env"], fd)
        finally:
            os._exit(0)
    return pid


def _reap(ctrl: socket.socket, children: set[int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(ctrl, {"op": "exited", "pid": pid, "status": status})


def serve(ctrl: socket.socket, warm: Sequence[str] = (), hold_warm: bool = False) -> None:
    """Fork environments (and manifest readers) on request until `ctrl` closes.

    `warm`: boto3 clients to build when idle, one per quiet moment, before the first
    spare is forked (a spare is a snapshot: it must hold the warmed models). A spawn
    that comes meanwhile forks at once; that environment loads what is missing itself.
    `hold_warm`: build none before the first request (`lambic local`'s manifest read,
    which a client being built would otherwise delay by up to ~0.1 s).
    """
    pending = list(warm)
    held = hold_warm and bool(pending)
    children: set[int] = set()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(ctrl, selectors.EVENT_READ, "ctrl")
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    closing: list[Any] = [sel, ctrl, wake_r, wake_w]
    spare: _Spare | None = None
    # Spare sockets of environments still initialising, with when to stop waiting.
    initialising: dict[socket.socket, float] = {}

    def initialised(sock: socket.socket) -> None:
        sel.unregister(sock)
        sock.close()
        del initialising[sock]

    # Probed, the namespace factory started and the rule paths opened once here; every
    # fork inherits them.
    _isolation.warm()
    # What the walls found here travels with "ready": `lambic local` reports it without
    # forking to probe again (a fork of the gateway's process, on its first answer's way).
    _send(ctrl, {"op": "ready", "pid": os.getpid(), "isolation": _isolation.found()})
    try:
        while True:
            now = time.monotonic()
            for sock in [s for s, until in initialising.items() if until <= now]:
                initialised(sock)
            # With no spare, wait only briefly: a quiet moment is when to fork one.
            timeout = 0 if pending else None if spare is not None else 0.005
            if held:
                timeout = None
            elif not pending and spare is None and initialising:
                timeout = min(initialising.values()) - now
            events = sel.select(timeout)
            if not events and pending:
                with contextlib.suppress(Exception):
                    _warm_boto3([pending.pop(0)])
                # Out of the GC's reach at once: an environment forked between two
                # clients would otherwise copy the pages a collection touches.
                gc.freeze()
                if not pending:
                    _freeze()
                continue
            if not events and spare is None and not initialising:
                spare = _fork_spare([*closing, *initialising])
                children.add(spare.pid)
                continue
            for key, _ in events:
                if key.data == "initialised":
                    initialised(key.fileobj)  # type: ignore[arg-type]
                    continue
                if key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    _reap(ctrl, children)
                    continue
                try:
                    received = _receive_spec(ctrl)
                except OSError:  # the invoker went away mid-message
                    return
                if received is None:
                    return
                msg, fds = received
                held = False
                if msg.get("op") == "manifest" and len(fds) == 1:
                    try:
                        pid = _fork_manifest_reader(msg, fds[0], [*closing, *initialising])
                    except OSError as exc:
                        _send(ctrl, {"op": "error", "token": msg["token"], "message": str(exc)})
                        continue
                    finally:
                        os.close(fds[0])
                    children.add(pid)
                    _send(ctrl, {"op": "spawned", "token": msg["token"], "pid": pid})
                    continue
                if msg.get("op") != "spawn" or len(fds) != 2:
                    for fd in fds:
                        os.close(fd)
                    continue
                pid = 0
                if spare is not None:
                    data = json.dumps(msg).encode("utf-8")
                    if _hand_to_spare(spare, data, fds):
                        pid = spare.pid
                        sel.register(spare.sock, selectors.EVENT_READ, "initialised")
                        initialising[spare.sock] = time.monotonic() + INIT_QUIET_S
                    spare = None
                if not pid:
                    try:
                        pid = _fork_environment(msg, fds, [*closing, *initialising])
                    except OSError as exc:
                        _send(ctrl, {"op": "error", "token": msg["token"], "message": str(exc)})
                        for fd in fds:
                            os.close(fd)
                        continue
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                _send(ctrl, {"op": "spawned", "token": msg["token"], "pid": pid})
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)


# ---------------------------------------------------------------- invoker side


class Zygote:
    """The invoker's handle on its zygote process (asyncio; one per invoker)."""

    def __init__(
        self,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        protect: Sequence[str] = (),
        *,
        hold_warm: bool = False,
    ) -> None:
        """`protect`: paths app.py's import in `read_app` must not open even where a
        broader rule would let it (the project and its state, as for an environment).
        `hold_warm`: the zygote builds its boto3 clients only after its first request
        (`serve`), for a caller whose first request is on its way (a manifest read)."""
        self._protect = [os.path.realpath(path) for path in protect]
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._ctrl = parent
        # PDEATHSIG fires when the *thread* that forked us exits: start the zygote
        # from the thread that runs the invoker's loop (we are called from it).
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lambic.runtime._zygote_main",
                str(child.fileno()),
                str(os.getpid()),
                ",".join(preload),
                *(["hold"] if hold_warm else []),
            ],
            pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL,
        )
        child.close()
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
                data = self._ctrl.recv(_MAX_MSG, socket.MSG_DONTWAIT)
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
        whole environment; (its output: the manifest's JSON line, exit status).

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
