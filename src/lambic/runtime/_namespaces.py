"""An execution environment's namespaces: its own /tmp, and a PID namespace whose init
ends everything the handler starts when the environment ends.

A PID namespace needs an init, and an init is a new process: the first one forked
after `unshare(CLONE_NEWPID)`. Forked from an environment (a copy of a zygote holding
boto3's models) for every environment, that fork, the user namespace's id maps and
their exits cost ~3 ms of CPU per cold start (measured: perf stat, bench/isolation.py
--steps). So the zygote forks a factory that builds them once and recycles them:

    factory   unshare(user + mount) and map our uid/gid, once;
              per request: an idle reaper, else a builder (forked) makes one
    builder   unshare(mount + PID) inside the factory's user namespace,
              a private tmpfs on /tmp (512 MB, Lambda's default ephemeral storage),
              fork the init (the reaper), exit
    reaper    PID 1 of the new namespace: answers the requester with its pidfd,
              watches the requester's pidfd; when it exits, kills what is left in the
              namespace (kill(-1) as init), mounts a fresh /tmp, and is idle again
    requester (a zygote's spare, ahead of its spec) setns(reaper's pidfd,
              user | mount | PID): one syscall joins all three

Where there is no factory (a plain fork, as in tests, or the factory died) `enter()`
builds the same namespaces in the calling process. What the handler may open is
`_isolation`'s business (Landlock); this module only draws the namespaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import selectors
import signal
import socket
import sys
from typing import NoReturn

from lambic.runtime._process_names import NAMESPACES, name_this_process

__all__ = ["TMP_SIZE", "check", "enter", "libc", "mount", "probe", "start_factory"]

# Lambda's default ephemeral storage (/tmp) is 512 MB; we mirror it.
TMP_SIZE = "512m"

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 0x1, 0x2, 0x4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36
_MNT_DETACH = 2
_MAX_FD = 1 << 16
# A builder answers in well under a millisecond; past this the factory is stuck.
_REPLY_TIMEOUT_S = 5.0

libc = ctypes.CDLL(None, use_errno=True)


def check(result: int, what: str) -> int:
    """`result` of a libc call, or the OSError its errno names."""
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str) -> None:
    check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _map_ids(uid: int, gid: int) -> None:
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"{gid} {gid} 1")


def _die_with(parent: int) -> None:
    """Re-arm the parent-death signal: new credentials (a user namespace) clear it."""
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def probe() -> bool:
    """Whether unprivileged user + mount + PID namespaces with a tmpfs work (forks once)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child
        code = 1
        with contextlib.suppress(BaseException):
            uid, gid = os.getuid(), os.getgid()
            check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID), "unshare")
            _map_ids(uid, gid)
            mount(None, "/", None, MS_REC | MS_PRIVATE, "")
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
            code = 0
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _watch(environment: int) -> None:
    """Block until the environment (a pidfd) has exited."""
    poller = select.poll()
    poller.register(environment, select.POLLIN)
    poller.poll()


def _close_all_but(*keep: int) -> None:
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, _MAX_FD)


def _clear() -> None:  # pragma: no cover - runs in a reaper
    """After an environment: kill what it left in our PID namespace (its orphans are
    ours now), and give the next one an empty /tmp (its binds go with the old one)."""
    if os.getpid() != 1:  # kill(-1) from anything but a namespace's init kills all ours
        raise OSError("a reaper must be its PID namespace's init")
    while True:
        try:
            os.kill(-1, signal.SIGKILL)  # from a namespace's init: all of it but us
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(-1, 0)  # SIGCHLD ignored: returns once every child is gone
    check(libc.umount2(b"/tmp", _MNT_DETACH), "umount /tmp")
    _private_tmp()  # over the real /tmp again, which old_tmp still holds


def _private_tmp() -> None:
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={TMP_SIZE},mode=1777")


def _reaper(factory: socket.socket | None, environment: int, old_tmp: int) -> NoReturn:
    """PID 1 of an environment's namespace (pragma: no cover - a forked child).

    With a factory, it serves one environment after another and exits when the
    factory goes; with none, it serves `environment` (a pidfd) and exits with it;
    the kernel then kills every process left in the namespace. Between environments
    it clears the namespace itself (`_clear`), so that a cold start forks nothing.
    SIGCHLD ignored: orphans reparented to us are reaped by the kernel. A parent-death
    signal cannot stand in for the pidfd: Landlock's signal scope (ABI 6) keeps the
    environment's death signal from reaching us.
    """
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # not the environment's log pipe: its EOF marks its end
            os.dup2(devnull, fd)
        os.close(devnull)
        if factory is None:
            _close_all_but(environment)
            _watch(environment)
        else:
            _close_all_but(factory.fileno(), old_tmp)
            _serve_environments(factory, old_tmp)
    finally:
        os._exit(0)


def _serve_environments(factory: socket.socket, old_tmp: int) -> None:  # pragma: no cover
    me = os.pidfd_open(os.getpid())  # (1: our own namespace's numbering)
    while True:
        _, fds, _, _ = socket.recv_fds(factory, 16, 2)
        if len(fds) != 2:  # the factory has gone (EOF): so do we
            return
        reply, environment = fds
        with socket.socket(fileno=reply) as sock, contextlib.suppress(OSError):
            socket.send_fds(sock, [b"ok"], [me, old_tmp])
        _watch(environment)
        os.close(environment)
        _clear()
        factory.send(b"free")


def _new_namespaces(factory: socket.socket | None, environment: int) -> tuple[int, int]:
    """unshare(mount + PID), a private /tmp, and the namespace's init (the reaper:
    for the factory's environments, or for the one `environment` pidfd).

    Returns an O_PATH descriptor of the real /tmp (opened in the new mount namespace,
    so that a bind from it is a bind of our own) and the reaper's pid.
    """
    check(libc.unshare(_CLONE_NEWNS | _CLONE_NEWPID), "unshare")
    old_tmp = os.open("/tmp", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    _private_tmp()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the reaper
        _reaper(factory, environment, old_tmp)
    return old_tmp, pid


# ------------------------------------------------------------------ the factory

_factory: socket.socket | None = None  # the zygote's end (its forks inherit it)
# Reapers kept waiting for the next environment; more than this many idle ones exit.
MAX_IDLE_REAPERS = 16


def start_factory() -> None:
    """In the zygote: fork the factory (it dies with the zygote)."""
    global _factory
    if _factory is not None:
        return
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zygote = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() == 0:  # pragma: no cover - the factory
        try:
            name_this_process(NAMESPACES)  # and the reapers it forks
            _factory_main(theirs, zygote)
        finally:
            os._exit(0)
    theirs.close()
    _factory = ours


def _new_reaper() -> socket.socket:  # pragma: no cover - runs in the factory
    """Fork a builder that makes fresh namespaces and their reaper; our end of a
    socket to that reaper (it says "free" on it after each environment)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if os.fork() == 0:  # the builder: its failure shows as EOF on `ours`
        code = 1
        with contextlib.suppress(BaseException):
            ours.close()
            _new_namespaces(theirs, -1)
            code = 0
        os._exit(code)
    theirs.close()
    return ours


def _serve(  # pragma: no cover - runs in the factory
    selector: selectors.BaseSelector, idle: list[socket.socket], fds: list[int]
) -> None:
    """Hand a request (reply socket, requester's pidfd) to an idle reaper, else a new one."""
    while True:
        reaper = idle.pop() if idle else _new_reaper()
        try:
            socket.send_fds(reaper, [b"serve"], fds)
        except OSError:  # that idle reaper died; a new one's failure is final
            reaper.close()
            if idle:
                continue
            return  # the requester sees EOF and builds its namespaces itself
        selector.register(reaper, selectors.EVENT_READ)
        return


def _factory_main(requests: socket.socket, zygote: int) -> None:  # pragma: no cover
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # hold no terminal or pipe of lambic local's open
        os.dup2(devnull, fd)
    _close_all_but(requests.fileno())  # the zygote's control socket among them
    _own_user_namespace(zygote)
    # Builders exit at once and reapers whose builder has gone come back to us:
    # the kernel reaps both.
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    idle: list[socket.socket] = []
    selector = selectors.DefaultSelector()
    selector.register(requests, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is requests:
                try:
                    _, fds, _, _ = socket.recv_fds(requests, 16, 2)
                except OSError:
                    return
                if not fds:  # EOF: the zygote has gone
                    return
                if len(fds) == 2:
                    _serve(selector, idle, fds)
                for fd in fds:
                    os.close(fd)
                continue
            reaper = key.fileobj
            assert isinstance(reaper, socket.socket)
            try:
                said = reaper.recv(16)
            except OSError:
                said = b""
            selector.unregister(reaper)
            if said == b"free" and len(idle) < MAX_IDLE_REAPERS:
                idle.append(reaper)
            else:  # gone, or one too many: closing ends it (and its namespace)
                reaper.close()


def _join_from_factory(factory: socket.socket) -> int:
    parent = os.getppid()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours:
        me = os.pidfd_open(os.getpid())
        try:
            socket.send_fds(factory, [b"new"], [theirs.fileno(), me])
        finally:
            theirs.close()
            os.close(me)
        ours.settimeout(_REPLY_TIMEOUT_S)
        answer, fds, _, _ = socket.recv_fds(ours, 512, 2)
    if answer != b"ok" or len(fds) != 2:
        for fd in fds:
            os.close(fd)
        raise OSError(f"the namespace factory failed: {answer.decode(errors='replace')}")
    reaper, old_tmp = fds
    try:
        check(libc.setns(reaper, _CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID), "setns")
    except OSError:
        os.close(old_tmp)
        raise
    finally:
        os.close(reaper)
    _die_with(parent)
    return old_tmp


def _own_user_namespace(parent: int) -> None:
    """unshare(user + mount), our uid/gid mapped, every mount private (the factory's
    start, once; or the start of `_unshare_here`)."""
    uid, gid = os.getuid(), os.getgid()
    check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare")
    _die_with(parent)
    _map_ids(uid, gid)
    mount(None, "/", None, MS_REC | MS_PRIVATE, "")


def _unshare_here() -> int:
    _own_user_namespace(os.getppid())
    me = os.pidfd_open(os.getpid())
    try:
        old_tmp, _ = _new_namespaces(None, me)
    finally:
        os.close(me)
    return old_tmp


def enter() -> int:
    """Move this process into fresh namespaces: a private /tmp for it, a PID namespace
    for its children. Returns an O_PATH descriptor of the real /tmp (to bind parts of
    it back; the caller closes it). Raises OSError when the kernel refuses.

    Joins what the factory built when this is a zygote's fork (then closes our end of
    it: a handler has no business there), else builds them here.
    """
    global _factory
    factory, _factory = _factory, None
    if factory is not None:
        try:
            return _join_from_factory(factory)
        except OSError:
            pass  # the factory is gone (or this kernel cannot setns a pidfd): do it here
        finally:
            factory.close()
    return _unshare_here()
