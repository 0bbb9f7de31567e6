"""The zygote process's side: preload, then fork environments, spares and manifest
readers on request (`serve`). `zygote.py` holds the invoker's handle and says how the
two talk; this module is what `python -m lambic.runtime._zygote_main` runs, apart so
that the zygote does not import asyncio (the handle's) on the way to being ready.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from lambic._start_trace import stamp
from lambic.project.sdk_use import warm_plan
from lambic.runtime import _isolation
from lambic.runtime._log_writer_fork import fork_from_zygote
from lambic.runtime._namespaces import Lifelines
from lambic.runtime._process_names import ENVIRONMENT, LOG_WRITER, READER, name_this_process

__all__ = ["INIT_QUIET_S", "MAX_MSG", "preload_modules", "serve"]

#: The largest control message either side sends.
MAX_MSG = 65536


def _warm_steps(
    services: Sequence[str], resources: Collection[str] | None = None
) -> Iterator[bool]:
    """Build one boto3 client per service (its resource instead where it has one and
    `resources` is None or names it), in steps of ~5-30 ms of CPU; each step yields
    whether the groundwork is laid (see below).

    `serve` runs one step per idle moment, so a request (a manifest read, a spawn)
    waits for one step at most, not for a whole client (~80 ms for the first,
    DynamoDB); an environment forked between two steps builds what is missing itself,
    from the models already loaded. Each model file is parsed into the loader's cache
    by its own step (botocore's `load_service_model`, what building the client reads).

    The groundwork is the default session, botocore's endpoint data (endpoints.json:
    ~4 MB once parsed by `_model_data`, ~7 ms), which the first client of any service
    loads, and the first service's models and client (DynamoDB in `lambic local`'s
    list). A spawn of code that imports boto3 waits for it (`serve`): forked before it,
    an environment builds its first client from copies of its own and keeps them
    (measured on the flagship, botocore's loader: 14.5 MB of its own memory at idle when
    forked after it, 18.5 after the endpoint data only, 22.6 before either); what the
    zygote builds first the environment no longer builds.
    """
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    boto3.setup_default_session(botocore_session=core)
    assert boto3.DEFAULT_SESSION is not None  # set just above
    yield False
    loader = core.get_component("data_loader")
    # Plain dicts, models without their prose: ~half the image (`_model_data`).
    from lambic.runtime import _model_data

    _model_data.install(loader)
    # Cached by the loader (botocore's `instance_cache`): the endpoint resolver and
    # every client read this copy.
    loader.load_data_with_path("endpoints")
    yield False
    for name in ("partitions", "sdk-default-configuration", "_retry"):
        loader.load_data(name)
    with_resources = set(boto3.DEFAULT_SESSION.get_available_resources())
    grounded = not services
    yield grounded
    for name in services:
        # One service failing (a model missing) does not stop the rest.
        with contextlib.suppress(Exception):
            as_resource = name in with_resources and (resources is None or name in resources)
            for _ in _warm_service(boto3, loader, name, as_resource):
                yield grounded
        grounded = True
        yield grounded


def _warm_service(boto3: Any, loader: Any, name: str, resource: bool) -> Iterator[None]:
    """The steps of one service but the last, which the caller ends with its yield."""
    for kind in ("service-2", "endpoint-rule-set-1"):
        loader.load_service_model(name, kind)
        yield
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
    if resource:
        loader.load_service_model(name, "resources-1")
        yield
        boto3.resource(name, **keys)
    else:
        boto3.client(name, **keys)


def _warm_boto3(services: Sequence[str]) -> None:
    """Every step of `_warm_steps` at once."""
    for _ in _warm_steps(services):
        pass


def preload_modules(modules: Sequence[str]) -> list[str]:
    """Import `modules`; the boto3 clients still to warm (`serve` warms them once it
    is ready: the manifest reader and a first cold start need only the imports)."""
    pending: list[str] = []
    # No collections while importing (boto3 alone triggered ~10 ms of them, on the
    # way to the zygote being ready), and none at the end either: a full collection
    # of what the imports made is ~25 ms of CPU to free ~700 unreachable objects
    # (~150 kB), so they are frozen with the rest. (Collecting them later, in an idle
    # moment, would write to every object of a heap the first environment already
    # shares copy-on-write: ~14 MB more PSS measured.)
    gc.disable()
    for entry in modules:
        name, _, services = entry.partition(":")
        with contextlib.suppress(Exception):
            importlib.import_module(name)
            stamp(f"zygote: imported {name}")
            if name == "boto3" and services:
                pending += [s for s in services.split(";") if s]
    gc.freeze()
    gc.enable()
    return pending


def _freeze() -> None:
    # Objects loaded so far are never freed; moving them out of the GC's generations
    # keeps forked children from touching (and copying) their pages.
    gc.collect()
    gc.freeze()
    # What the collection and the steps before it freed in malloc's heap goes back to
    # the kernel instead of staying resident in the image every fork shares: ~1.8 MB
    # once the clients are built, for ~0.2 ms (glibc; a libc without it keeps them).
    if _malloc_trim is not None:
        _malloc_trim(0)


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_malloc_trim = _find_malloc_trim()


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


def _become_child(closing: Sequence[Any], name: str) -> None:
    """In a freshly forked child: drop the zygote's signal setup and descriptors, and
    take its own `name` (`_process_names`)."""
    name_this_process(name)
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
    data, ancdata, _flags, _addr = sock.recvmsg(MAX_MSG, socket.CMSG_SPACE(2 * fds.itemsize))
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


def _fork(lifelines: Lifelines) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    return lifelines.fork()  # each child's namespace lives on a pipe we hold


def _fork_spare(lifelines: Lifelines, closing: Sequence[Any]) -> _Spare:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zygote_pid = os.getpid()
    pid = _fork(lifelines)
    if pid == 0:  # the spare: wait for a spec, then become that environment
        from lambic.runtime._sandbox import set_parent_death_signal

        stamp("spare: forked")
        _become_child([*closing, ours], ENVIRONMENT)
        set_parent_death_signal(zygote_pid)
        _isolation.prepare_ahead()  # namespaces, /tmp, Landlock: before the spec comes
        stamp("spare: prepared")
        try:
            received = _receive_spec(theirs)
        except OSError:
            received = None
        stamp("spare: spec received")
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


def _fork_environment(
    lifelines: Lifelines, msg: dict[str, Any], fds: list[int], closing: Sequence[Any]
) -> int:
    pid = _fork(lifelines)
    if pid == 0:  # the environment
        _become_child(closing, ENVIRONMENT)
        _run_child(msg, fds)
    return pid


def _fork_manifest_reader(
    lifelines: Lifelines, msg: dict[str, Any], fd: int, closing: Sequence[Any]
) -> int:
    zygote_pid = os.getpid()
    pid = _fork(lifelines)
    if pid == 0:  # the reader: import app.py, write one JSON line to `fd`, exit
        from lambic.project._manifest_child import write_manifest
        from lambic.runtime._sandbox import set_parent_death_signal

        _become_child(closing, READER)
        set_parent_death_signal(zygote_pid)
        try:
            stamp("reader: forked")
            # app.py runs at import: the reader is walled in as an environment is (its
            # project's `.lambic/` and `.chalice/` hidden, a private /tmp), so code that
            # runs only there cannot read what a handler cannot.
            _isolation.enter(os.path.realpath(msg["project_dir"]), msg.get("protect", ()))
            stamp("reader: walled in")
            write_manifest(msg["project_dir"], msg["env"], fd)
            stamp("reader: written")
        finally:
            os._exit(0)
    return pid


def _settings_sent(sock: socket.socket) -> bool:
    """Whether the log store sent the writer its settings on `sock` (readable: else its
    end closed), left unread for the writer."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except OSError:
        return False


def _reap(ctrl: socket.socket, children: set[int], lifelines: Lifelines) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        lifelines.cut(pid)
        # What we forked on request; not the log writer, nor an init come back to us
        # (`Lifelines`), which nobody asks about (a report would wait for a pid reused).
        if pid in children:
            children.discard(pid)
            _send(ctrl, {"op": "exited", "pid": pid, "status": status})


def serve(
    ctrl: socket.socket,
    warm: Sequence[str] = (),
    hold_warm: bool = False,
    log_writer: int | None = None,
) -> None:
    """Fork environments (and manifest readers) on request until `ctrl` closes.

    `warm`: boto3 clients to build when idle, one per quiet moment, before the first
    spare is forked (a spare is a snapshot: it must hold the warmed models). A spawn
    that comes meanwhile forks at once; that environment loads what is missing itself.
    `hold_warm`: build none before the first request (`lambic local`'s manifest read,
    which a client being built would otherwise delay by up to ~0.1 s).
    `log_writer`: the socket of the log store's writer, forked
    (`_log_writer_fork.fork_from_zygote`) once the image is final and the store has
    sent the writer its settings on it: when it got busy (`LogStore`); a quiet local
    cloud commits its logs in its own process and no writer is forked.
    """
    # The warm steps still to run (None: all done).
    pending: Iterator[bool] | None = _warm_steps(warm) if warm else None
    # Whether the steps have laid the groundwork every client shares (`_warm_steps`).
    grounded = False
    held = hold_warm and pending is not None
    # Held, the first request is the manifest read, which names the project: the
    # clients built are then the ones its code names (`sdk_use.warm_plan`).
    plan_for_project = held
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
    # The log writer's socket: the writer is forked once the store sends its settings
    # on it (`LogStore`, when it gets busy) and the image is final (the warm-up done).
    writer_sock = None if log_writer is None else socket.socket(fileno=log_writer)
    if writer_sock is not None:
        closing.append(writer_sock)
    writer_watched = False
    spare: _Spare | None = None
    # Spare sockets of environments still initialising, with when to stop waiting.
    initialising: dict[socket.socket, float] = {}
    # No boto3 client is built before this: an environment forked directly (no spare
    # yet: `lambic local`'s first cold start) runs its init and first invocation
    # without a warm step (up to ~70 ms of CPU) taking a core beside it.
    quiet_until = 0.0

    def initialised(sock: socket.socket) -> None:
        sel.unregister(sock)
        sock.close()
        del initialising[sock]

    def warm_step() -> None:
        nonlocal pending, grounded
        assert pending is not None
        gc.disable()  # one collection for the step, in `_freeze` (as in preload)
        try:
            grounded = next(pending)
            stamp("zygote: warm step")
        except Exception:  # done (StopIteration), or boto3 itself failed
            pending = None
            stamp("zygote: warm done")
        # Out of the GC's reach at once (the dropped client's cycles collected first;
        # what came before is frozen, so only this step's objects are walked): an
        # environment forked between two steps would otherwise copy the pages its
        # collections touch.
        _freeze()
        gc.enable()

    stamp("zygote: serving")
    # Probed, cat looked up and the rule paths opened once here; every fork inherits
    # them.
    _isolation.warm()
    lifelines = Lifelines(_isolation.namespaced())
    # What the walls found here travels with "ready": `lambic local` reports it without
    # forking to probe again (a fork of the gateway's process, on its first answer's way).
    stamp("zygote: ready")
    _send(ctrl, {"op": "ready", "pid": os.getpid(), "isolation": _isolation.found()})
    try:
        while True:
            now = time.monotonic()
            for sock in [s for s, until in initialising.items() if until <= now]:
                initialised(sock)
            # With no spare, wait only briefly: a quiet moment is when to fork one.
            timeout = 0 if pending is not None else None if spare is not None else 0.005
            if held:
                timeout = None
            elif pending is not None and now < quiet_until:
                timeout = quiet_until - now
            elif pending is None and spare is None and initialising:
                timeout = min(initialising.values()) - now
            if writer_sock is not None and pending is None and not writer_watched:
                sel.register(writer_sock, selectors.EVENT_READ, "log-writer")
                writer_watched = True
            events = sel.select(timeout)
            if not events and pending is not None:
                if time.monotonic() < quiet_until:
                    continue
                warm_step()
                continue
            if not events and spare is None and not initialising:
                spare = _fork_spare(lifelines, [*closing, *initialising])
                stamp("zygote: spare forked")
                children.add(spare.pid)
                continue
            for key, _ in events:
                if key.data == "log-writer" and writer_sock is not None:
                    sel.unregister(writer_sock)
                    closing.remove(writer_sock)
                    sock, writer_sock = writer_sock, None
                    if _settings_sent(sock):
                        fork_from_zygote(
                            sock.detach(),
                            partial(_become_child, [*closing, *initialising], LOG_WRITER),
                        )
                        stamp("zygote: log writer forked")
                    else:  # the gateway's process closed its end: no writer needed
                        sock.close()
                    continue
                if key.data == "initialised":
                    initialised(key.fileobj)  # type: ignore[arg-type]
                    continue
                if key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    _reap(ctrl, children, lifelines)
                    continue
                try:
                    received = _receive_spec(ctrl)
                except OSError:  # the invoker went away mid-message
                    return
                if received is None:
                    return
                msg, fds = received
                stamp(f"zygote: got {msg.get('op')}")
                held = False
                planning, plan_for_project = plan_for_project, False
                if msg.get("op") == "manifest" and len(fds) == 1:
                    try:
                        pid = _fork_manifest_reader(
                            lifelines, msg, fds[0], [*closing, *initialising]
                        )
                    except OSError as exc:
                        _send(ctrl, {"op": "error", "token": msg["token"], "message": str(exc)})
                        continue
                    finally:
                        os.close(fds[0])
                    children.add(pid)
                    _send(ctrl, {"op": "spawned", "token": msg["token"], "pid": pid})
                    if planning:  # while the reader imports app.py (~1 ms for the flagship)
                        plan = warm_plan(Path(msg["project_dir"]), warm)
                        pending = _warm_steps(plan.services, plan.resources)
                        stamp(f"zygote: warming {','.join(plan.services)}")
                    continue
                if msg.get("op") != "spawn" or len(fds) != 2:
                    for fd in fds:
                        os.close(fd)
                    continue
                # The groundwork first (once; `_warm_steps`) for code that imports boto3
                # (`project.sdk_use`): its first client would otherwise load copies of
                # its own and keep them. Other code need not wait for it.
                while pending is not None and not grounded and msg["spec"].get("uses_boto3"):
                    warm_step()
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
                        pid = _fork_environment(lifelines, msg, fds, [*closing, *initialising])
                        quiet_until = time.monotonic() + INIT_QUIET_S
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
