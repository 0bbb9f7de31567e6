"""An execution environment's namespaces: its own /tmp, and a PID namespace whose init
ends everything the handler starts when the environment ends.

A PID namespace needs an init, and an init is a new process: the first one forked
after `unshare(CLONE_NEWPID)`. Forked from an environment (a copy of a zygote holding
boto3's models) for every environment, that fork, the user namespace's id maps and
their exits cost ~3 ms of CPU per cold start (measured: perf stat, bench/isolation.py
--steps). So the zygote forks a factory, in a user namespace of its own, that builds
them ahead (a spare asks while it waits for its spec):

    factory   unshare(user + mount) and map our uid/gid, once; per request it forks
              a builder and holds the write end of a pipe for that namespace
    builder   unshare(mount + PID) inside the factory's user namespace,
              a private tmpfs on /tmp (512 MB, Lambda's default ephemeral storage),
              fork the init, answer the requester with the init's pidfd, exit
    init      PID 1 of the new namespace: `cat` reading the pipe (an exec'd program
              holds ~0.15 MB of its own; an interpreter forked for it held ~1.3 MB,
              one per environment alive). When the requester has exited the factory
              closes the pipe: the init ends, the kernel kills what is left in the
              namespace, and the private /tmp goes with its last process
    requester (a zygote's spare, ahead of its spec) setns(init's pidfd,
              user | mount | PID): one syscall joins all three

Every environment gets new namespaces: nothing is recycled, so nothing one
environment left (a daemon, a file in /tmp) can meet the next. Where there is no
factory (a plain fork, as in tests, or the factory died) `enter()` builds the same
namespaces in the calling process, with an init that watches it (a pidfd; only a
Python init can). What the handler may open is `_isolation`'s business (Landlock);
this module only draws the namespaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import selectors
import shutil
import signal
import socket
import sys
from typing import NamedTuple, NoReturn

from lambic.runtime._process_names import NAMESPACES, name_this_process

__all__ = [
    "TMP_SIZE",
    "check",
    "enter",
    "libc",
    "mount",
    "probe",
    "set_parent_death_signal",
    "start_factory",
]

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


def set_parent_death_signal(expected_parent: int) -> None:
    """Ask the kernel to SIGKILL us when our parent dies, so nothing is orphaned (again
    after joining a user namespace: new credentials clear it). Through this module's
    libc handle: building a CDLL in a fresh fork writes to (copies) pages of the image
    it shares. (No prctl: not Linux.)"""
    with contextlib.suppress(OSError, AttributeError):
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != expected_parent:  # the parent died before prctl took effect
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


def _private_tmp() -> None:
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={TMP_SIZE},mode=1777")


class _Cat(NamedTuple):
    """How an init runs cat (`_cat`)."""

    path: str  # what to exec: its last part is the name the kernel gives the process
    argv0: str
    through: int  # the descriptor `path` goes through, or -1


def _cat() -> _Cat | None:
    """cat, the system's own first (a PATH of the user's may hold anything named cat),
    exec'd under the name lambic-ns: what `top`, `ps` and `pkill` see (its `comm`), as
    a process can name only itself. None where there is no cat: each init then waits
    in an interpreter instead.

    The name is a symlink on a tmpfs mounted over /tmp in our own mount namespace and
    detached at once: no path leads to it but our descriptor, which builders and inits
    inherit (closed on exec). Where that fails, cat's own path.
    """
    cat = shutil.which("cat", path=os.defpath) or shutil.which("cat")
    if cat is None:
        return None
    argv0 = _argv0(cat)
    try:
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=4k")
    except OSError:
        return _Cat(cat, argv0, -1)
    try:
        os.symlink(cat, f"/tmp/{NAMESPACES}")
        through = os.open("/tmp", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return _Cat(cat, argv0, -1)
    finally:  # builders open the real /tmp again (`_new_namespaces`)
        check(libc.umount2(b"/tmp", _MNT_DETACH), "umount /tmp")
    return _Cat(f"/proc/self/fd/{through}/{NAMESPACES}", argv0, through)


def _argv0(cat: str) -> str:
    """lambic-ns, what `ps -o args` shows too, unless `cat` is a multi-call binary
    (busybox, toybox, coreutils built as one), which picks its program by argv[0]."""
    return NAMESPACES if os.path.basename(os.path.realpath(cat)) == "cat" else "cat"


def _init(until: int, cat: _Cat | None) -> NoReturn:
    """PID 1 of an environment's namespace (pragma: no cover - a forked child): it
    holds the namespace and nothing else. When it exits the kernel kills every process
    left in the namespace. SIGCHLD ignored (an ignored signal stays ignored across
    exec): orphans reparented to it are reaped by the kernel.

    `cat` given: `until` is a pipe's read end, and cat reads it until its end (the
    factory's) is closed. None: `until` is the environment's pidfd, watched here. (A
    parent-death signal cannot stand in for the pidfd: Landlock's signal scope (ABI 6)
    keeps the environment's death signal from reaching us.)
    """
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        # Not the environment's log pipe: its EOF marks the environment's end.
        os.dup2(until if cat else devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if cat is None:
            _close_all_but(until)
            _watch(until)
        else:
            # Received descriptors are inheritable: none may outlive the exec.
            _close_all_but(cat.through)
            with contextlib.suppress(OSError):
                os.execv(cat.path, [cat.argv0])
            while os.read(0, 4096):  # cat would not run: wait for the end here
                pass
    finally:
        os._exit(0)


def _new_namespaces(until: int, cat: _Cat | None) -> tuple[int, int]:
    """unshare(mount + PID), a private /tmp, and the namespace's init (`_init`).

    Returns an O_PATH descriptor of the real /tmp (opened in the new mount namespace,
    so that a bind from it is a bind of our own) and the init's pid.
    """
    check(libc.unshare(_CLONE_NEWNS | _CLONE_NEWPID), "unshare")
    old_tmp = os.open("/tmp", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    _private_tmp()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the init
        _init(until, cat)
    return old_tmp, pid


# ------------------------------------------------------------------ the factory

_factory: socket.socket | None = None  # the zygote's end (its forks inherit it)


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
            name_this_process(NAMESPACES)  # and the builders it forks
            _factory_main(theirs, zygote)
        finally:
            os._exit(0)
    theirs.close()
    _factory = ours


def _build(reply: int, cat: _Cat | None) -> int:  # pragma: no cover - runs in the factory
    """Fork a builder that makes fresh namespaces for the requester waiting on `reply`;
    the write end of the pipe their init waits on (closing it ends the namespace)."""
    until, hold = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(until)
        os.close(hold)
        raise
    if pid == 0:  # the builder: its failure shows as EOF on `reply`
        code = 1
        with contextlib.suppress(BaseException):
            os.close(hold)  # the init must see the pipe's end when the factory closes it
            old_tmp, init = _new_namespaces(until, cat)
            found = os.pidfd_open(init)
            with socket.socket(fileno=reply) as sock:
                socket.send_fds(sock, [b"ok"], [found, old_tmp])
            code = 0
        os._exit(code)
    os.close(until)
    return hold


def _factory_main(requests: socket.socket, zygote: int) -> None:  # pragma: no cover
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # hold no terminal or pipe of lambic local's open
        os.dup2(devnull, fd)
    _close_all_but(requests.fileno())  # the zygote's control socket among them
    _own_user_namespace(zygote)
    cat = _cat()
    # Builders exit at once and their inits come back to us: the kernel reaps both.
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    selector = selectors.DefaultSelector()
    selector.register(requests, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is not requests:
                # A requester has exited (the environment, or a spare never used):
                # its namespace goes with it.
                selector.unregister(key.fd)
                os.close(key.fd)
                os.close(key.data)
                continue
            try:
                _, fds, _, _ = socket.recv_fds(requests, 16, 2)
            except OSError:
                return
            if not fds:  # EOF: the zygote has gone, and with us every init
                return
            if len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                continue
            reply, requester = fds
            try:
                hold = _build(reply, cat)
            except OSError:  # no fork: the requester sees EOF and builds its own
                os.close(requester)
            else:
                selector.register(requester, selectors.EVENT_READ, hold)
            finally:
                os.close(reply)


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
    init, old_tmp = fds
    try:
        check(libc.setns(init, _CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID), "setns")
    except OSError:
        os.close(old_tmp)
        raise
    finally:
        os.close(init)
    set_parent_death_signal(parent)
    return old_tmp


def _own_user_namespace(parent: int) -> None:
    """unshare(user + mount), our uid/gid mapped, every mount private (the factory's
    start, once; or the start of `_unshare_here`)."""
    uid, gid = os.getuid(), os.getgid()
    check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare")
    set_parent_death_signal(parent)
    _map_ids(uid, gid)
    mount(None, "/", None, MS_REC | MS_PRIVATE, "")


def _unshare_here() -> int:
    _own_user_namespace(os.getppid())
    me = os.pidfd_open(os.getpid())
    try:
        old_tmp, _ = _new_namespaces(me, None)
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
