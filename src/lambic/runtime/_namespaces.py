"""An execution environment's namespaces: its own /tmp, and a PID namespace whose init
ends everything the handler starts when the environment ends.

A PID namespace needs an init: the first process started after
`unshare(CLONE_NEWPID)`. A zygote's spare makes its namespaces itself, ahead of its
spec (`enter()`, ~1 ms of CPU):

    spare     unshare(user + mount + PID), our uid/gid mapped, every mount private,
              a private tmpfs on /tmp (512 MB, Lambda's default ephemeral storage),
              and the init, posix_spawn'd: no copy of the spare's page tables, no
              interpreter run in the child
    init      PID 1 of the new namespace: `cat` reading a pipe (an exec'd program
              holds ~0.15 MB of its own; an interpreter forked for it held ~1.3 MB,
              one per environment alive)
    zygote    holds the pipe's write end, one per child it forks (`Lifelines`), and
              closes it when it reaps that child: the init reads EOF and ends, the
              kernel kills what is left in the namespace, and the private /tmp goes
              with its last process. The zygote gone (even killed), every pipe
              closes with it.

The write end cannot be the environment's own: a child the handler forks (inside the
namespace) would inherit it and keep the namespace alive. Every environment gets new
namespaces: nothing one environment left (a daemon, a file in /tmp) can meet the next.
Without a zygote's pipe (a plain fork, as in tests) the init is an interpreter that
watches the environment (a pidfd; `cat` cannot). What the handler may open is
`_isolation`'s business (Landlock); this module only draws the namespaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import select
import shutil
import signal
import sys
from typing import NamedTuple, NoReturn

from lambic.runtime._descriptors import close_all_but, fork_with_pipe
from lambic.runtime._process_names import NAMESPACES, name_this_process

__all__ = [
    "TMP_SIZE",
    "Lifelines",
    "check",
    "enter",
    "find_cat",
    "libc",
    "mount",
    "probe",
    "set_parent_death_signal",
]

# Lambda's default ephemeral storage (/tmp) is 512 MB; we mirror it.
TMP_SIZE = "512m"

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 0x1, 0x2, 0x4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36

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


def set_parent_death_signal(expected_parent: int) -> None:
    """Ask the kernel to SIGKILL us when our parent dies, so nothing is orphaned (again
    after entering a user namespace: new credentials clear it). Through this module's
    libc handle: building a CDLL in a fresh fork writes to (copies) pages of the image
    it shares. (No prctl: not Linux.)"""
    with contextlib.suppress(OSError, AttributeError):
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != expected_parent:  # the parent died before prctl took effect
        os._exit(1)


def _unshare(parent: int) -> None:
    """unshare(user + mount + PID), our uid/gid mapped, every mount private."""
    uid, gid = os.getuid(), os.getgid()
    check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID), "unshare")
    set_parent_death_signal(parent)
    # Raw writes: the io stack's code would write to (copy) more of the shared image.
    for name, line in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1"),
        ("gid_map", f"{gid} {gid} 1"),
    ):
        fd = os.open(f"/proc/self/{name}", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    mount(None, "/", None, MS_REC | MS_PRIVATE, "")


def probe() -> bool:
    """Whether unprivileged user + mount + PID namespaces with a tmpfs work (forks once)."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child
        code = 1
        with contextlib.suppress(BaseException):
            _unshare(parent)
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
            code = 0
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


class _Cat(NamedTuple):
    """How an init runs cat (`find_cat`)."""

    path: str
    argv0: str


@functools.cache
def find_cat() -> _Cat | None:
    """cat, the system's own first (a PATH of the user's may hold anything named cat);
    None where there is none (each init then waits in an interpreter). Looked up once,
    in the zygote (`_isolation.warm`): its forks inherit the answer."""
    cat = shutil.which("cat", path=os.defpath) or shutil.which("cat")
    return None if cat is None else _Cat(cat, _argv0(cat))


def _argv0(cat: str) -> str:
    """lambic-ns, what `ps -o args` shows too, unless `cat` is a multi-call binary
    (busybox, toybox, coreutils built as one), which picks its program by argv[0]."""
    return NAMESPACES if os.path.basename(os.path.realpath(cat)) == "cat" else "cat"


class Lifelines:
    """The zygote's side: for each child it forks, the write end of the pipe that
    child's namespace init reads (`enter`); cut when the zygote reaps the child.

    Making one makes this process a child subreaper: an init outlives its environment
    by a moment (until its lifeline is cut), then comes back to us to be reaped
    rather than to the machine's init, which in a container may reap nothing.
    """

    def __init__(self, needed: bool = True) -> None:
        self._needed = needed  # False: environments make no namespaces, plain forks
        self._held: dict[int, int] = {}
        if needed:
            with contextlib.suppress(OSError, AttributeError):
                libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    def fork(self) -> int:
        """`os.fork()`, the child handed the read end of a new lifeline (`enter` takes
        it); we keep the write end. Others' ends are closed in the child: one held
        there would keep that environment's namespace alive as long as this one."""
        global _lifeline
        if not self._needed:
            return os.fork()
        pid, until, hold = fork_with_pipe()
        if pid == 0:
            for fd in (hold, *self._held.values()):
                os.close(fd)
            self._held.clear()
            _lifeline = until
            return 0
        os.close(until)
        self._held[pid] = hold
        return pid

    def cut(self, pid: int) -> None:
        """Child `pid` has been reaped: its namespace's init ends."""
        hold = self._held.pop(pid, None)
        if hold is not None:
            os.close(hold)


# In a fork of `Lifelines.fork`, until `enter` takes it: the read end of our lifeline.
_lifeline: int | None = None


def _init(until: int) -> NoReturn:
    """PID 1 of an environment's namespace as an interpreter (pragma: no cover - a
    forked child), where cat is not to be had: it waits until `until` (a lifeline, or
    the environment's pidfd) says the environment has gone, and exits; the kernel
    then kills every process left in the namespace. SIGCHLD ignored: the kernel reaps
    orphans reparented to it. (A parent-death signal cannot stand in for the pidfd:
    Landlock's signal scope (ABI 6) keeps the environment's death signal from reaching
    us.)"""
    try:
        name_this_process(NAMESPACES)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # not the environment's log pipe: its EOF marks its end
            os.dup2(devnull, fd)
        close_all_but([until])
        poller = select.poll()
        # A pidfd turns readable when its process exits; a pipe (only ever closed,
        # never written) hangs up when its write end closes.
        poller.register(until, select.POLLIN)
        poller.poll()
    finally:
        os._exit(0)


def _fork_init(until: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() == 0:  # pragma: no cover - the init
        _init(until)


def _inheritable_descriptors() -> list[int]:
    """Our descriptors past stdio that an exec'd program would inherit (received ones
    are: SCM_RIGHTS gives no close-on-exec), which the init must not hold open."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        with contextlib.suppress(OSError):  # the listing's own, closed by now
            if fd > 2 and os.get_inheritable(fd):
                found.append(fd)
    return found


def _spawn_cat(lifeline: int, cat: _Cat) -> None:
    """cat as PID 1 reading `lifeline`, under the name lambic-ns: what `top`, `ps -o
    comm` and `pkill` see, the name of the path it is exec'd by (a process can name
    only itself), here a symlink in our private /tmp, gone before any handler looks."""
    link = f"/tmp/{NAMESPACES}"
    os.symlink(cat.path, link)
    try:
        # An ignored SIGCHLD stays ignored across exec: the kernel reaps the orphans
        # reparented to the init.
        before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        try:
            os.posix_spawn(
                link,
                [cat.argv0],
                {},
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, lifeline, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_DUP2, 1, 2),
                    *[(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_descriptors()],
                ],
            )
        finally:
            signal.signal(signal.SIGCHLD, before)
    finally:
        os.unlink(link)


def _start_init(lifeline: int | None) -> None:
    if lifeline is None:  # a plain fork: the init watches us
        me = os.pidfd_open(os.getpid())
        try:
            _fork_init(me)
        finally:
            os.close(me)
        return
    cat = find_cat()
    if cat is not None:
        with contextlib.suppress(OSError):  # cat would not run: an interpreter waits instead
            _spawn_cat(lifeline, cat)
            return
    _fork_init(lifeline)


def enter() -> int:
    """Move this process into fresh namespaces: a private /tmp for it, a PID namespace
    for its children, whose init lives on our lifeline (`Lifelines`) or, in a plain
    fork, watches us. Returns an O_PATH descriptor of the real /tmp (to bind parts of
    it back; the caller closes it). Raises OSError when the kernel refuses.
    """
    global _lifeline
    lifeline, _lifeline = _lifeline, None
    try:
        _unshare(os.getppid())
        # Opened in the new mount namespace: a bind from it is a bind of our own.
        old_tmp = os.open("/tmp", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={TMP_SIZE},mode=1777")
            _start_init(lifeline)
        except BaseException:
            os.close(old_tmp)
            raise
        return old_tmp
    finally:
        if lifeline is not None:
            os.close(lifeline)
