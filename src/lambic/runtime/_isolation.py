"""Walls around an execution environment: what a handler may open, and what outlives it.

On Lambda a function sees its package (`/var/task`), its own `/tmp` and its own
environment variables; nothing it starts survives its sandbox. Locally the same user
runs the functions, `lambic local` and its state, so the kernel's facilities draw the
line, in two steps that keep a cold start a plain fork of the zygote:

    ahead of time, `prepare()` (a zygote's spare, as soon as it is forked):
        enter fresh namespaces (`_namespaces`: a private tmpfs on /tmp, a PID
        namespace whose init ends every process the handler starts, setsid'd or
        double-forked, when the environment ends), and build a Landlock ruleset
        with every rule but the task root's (the system's paths opened once in the
        zygote, `warm()`).
    with the spec (task root known), `enter()` (a few syscalls):
        the task root bound read-only into the private /tmp if it lives under /tmp
        (snapshots do not: see `_snapshot.snapshot_base`),
        not dumpable (same-uid processes cannot read our /proc/<pid>/environ),
        no new privileges, no capabilities, and the Landlock domain: read-only on the
        system, Python and the task root, read-write on /tmp and a few devices; the
        project, its `.lambic/` (config with every function's secrets, the state's
        SQLite files) and home directories are not in it. A Landlock domain also
        stops ptrace-style access (/proc/<pid>/environ) and, from ABI 6, signals and
        abstract unix sockets towards any process outside it.

What the machine lacks is reported once by `lambic local` (`notice()`); setting
`LAMBIC_ISOLATION=off` turns all of it off, for debugging a handler with tools that
need the real filesystem.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambic.runtime import _namespaces
from lambic.runtime._namespaces import (
    MS_BIND,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    check,
    libc,
    mount,
)

__all__ = [
    "Facilities",
    "enabled",
    "enter",
    "facilities",
    "namespaced",
    "notice",
    "prepare",
    "prepare_ahead",
    "probe",
    "warm",
]

#: Set to "off" (or "0", "false") to run handlers without any of this.
SWITCH = "LAMBIC_ISOLATION"
#: Host directories (os.pathsep-separated) handlers may also read and write, at the same
#: path, e.g. a test's output directory; protected paths inside them stay out of reach.
ALLOW = "LAMBIC_ISOLATION_ALLOW"

_SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine, -1)
_PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 4, 38

# Landlock's filesystem rights (linux/landlock.h), by the ABI that added them.
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_MAKE_ALL = sum(1 << bit for bit in range(4, 13))  # remove/make dir, file, sock, fifo...
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3 (IOCTL_DEV, ABI 5, is left alone)
_READ = _EXECUTE | _READ_FILE | _READ_DIR
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

# What a Lambda function may read besides its code: the system and the runtime.
_SYSTEM_READ: tuple[str, ...] = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc")
_SYSTEM_READ += ("/opt", "/proc", "/sys")  # others' /proc secrets: Landlock's ptrace rule
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


# capset(2)'s arguments, built once (a ctypes array type costs ~0.1 ms to create):
# _LINUX_CAPABILITY_VERSION_3 for this process, and two empty capability sets.
_CAP_HEADER = (ctypes.c_uint32 * 2)(0x20080522, 0)
_CAP_NONE = (ctypes.c_uint32 * 6)()


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when it has none (or it is disabled)."""
    result = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), 1)
    return max(int(result), 0)


def enabled() -> bool:
    """False when the developer turned isolation off (`LAMBIC_ISOLATION=off`)."""
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "false", "no")


@dataclass(frozen=True)
class Facilities:
    """What this machine lets us use, found by `probe()`."""

    landlock: int  # the ABI version, 0 if none
    namespaces: bool  # unprivileged user + mount + PID namespaces, with a tmpfs mount

    def missing(self) -> list[str]:
        """One phrase per protection this machine cannot give, for `notice()`."""
        lines = []
        if not self.landlock:
            lines.append(
                "handlers can read every file your user can, including .lambic/ "
                "(no Landlock: Linux 5.13+ with CONFIG_SECURITY_LANDLOCK)"
            )
            lines.append("handlers can read other processes' /proc/<pid>/environ")
        if not self.namespaces:
            lines.append(
                "/tmp is shared and processes a handler starts in a new session can "
                "outlive it (no unprivileged user namespaces: see "
                "kernel.unprivileged_userns_clone or AppArmor's userns restriction)"
            )
        return lines


def probe() -> Facilities:
    """Find what the kernel offers (forks once to try the namespaces: ~1 ms)."""
    return Facilities(landlock=landlock_abi(), namespaces=_namespaces.probe())


_facilities: Facilities | None = None


def facilities() -> Facilities:
    """`probe()` once per process (forked children inherit the answer)."""
    global _facilities
    if _facilities is None:
        _facilities = probe()
    return _facilities


def namespaced() -> bool:
    """Whether environments enter namespaces of their own (on, and the kernel allows)."""
    return enabled() and facilities().namespaces


def warm() -> None:
    """In the zygote: probe, look cat up for the namespaces' inits, and open the
    system's rule paths, once for every fork."""
    if not enabled():
        return
    if facilities().namespaces:
        _namespaces.find_cat()
    if facilities().landlock:
        _system_fds()
        _system_roots()


def found() -> dict[str, Any] | None:
    """What `facilities()` found, as JSON for the zygote's "ready" (None when off)."""
    if not enabled():
        return None
    return dataclasses.asdict(facilities())


def notice(zygote_found: Mapping[str, Any] | None = None) -> str | None:
    """The one line `lambic local` prints at start-up when isolation is incomplete;
    `zygote_found`: what the zygote found (`found()`), else this process probes."""
    if not enabled():
        return f"Isolation is off ({SWITCH}=off): handlers can read .lambic/ and more."
    if zygote_found is not None:
        here = Facilities(
            landlock=int(zygote_found.get("landlock", 0)),
            namespaces=bool(zygote_found.get("namespaces")),
        )
    else:
        here = facilities()
    missing = here.missing()
    if not missing:
        return None
    return "Isolation is partial on this machine: " + "; ".join(missing) + "."


# ------------------------------------------------------------------ inside the environment


@dataclass
class _Prepared:
    namespaces: bool  # in fresh namespaces, with a private /tmp
    old_tmp: int | None  # an O_PATH descriptor of the real /tmp, hidden under ours
    ruleset: int | None  # a Landlock ruleset holding every rule but the task root's
    roots: tuple[str, ...] = ()  # its rules' paths, each ending in "/"


_prepared: _Prepared | None = None


def prepare() -> None:
    """Enter fresh namespaces (a private /tmp, a PID namespace with its init) and
    build the Landlock ruleset (all but the task root's rule).

    Runs in a zygote's spare before it knows its function: nothing here depends on
    the spec. Measured (bench/isolation.py --steps): ~1.4 ms of CPU and ~1.7 ms of
    wall time, ~1 ms of it the namespaces (unshare, the id maps, the tmpfs, the init
    posix_spawn'd).
    """
    global _prepared
    if _prepared is not None or not enabled():
        return
    found = facilities()
    old_tmp = _namespaces.enter() if found.namespaces else None
    ruleset, roots = None, tuple[str, ...]()
    if found.landlock:
        ruleset = _new_ruleset(found.landlock)
        for fd, rights in _system_fds():
            _add_rule(ruleset, found.landlock, fd, rights)
            os.close(fd)  # the zygote keeps its own; the handler needs no handle on /usr
        # A private /tmp (the tmpfs just mounted) is the handler's alone; a shared one
        # is added with the spec, where it holds no protected path.
        if found.namespaces:
            _add_rules(ruleset, found.landlock, [("/tmp", _ALL)])
        roots = _system_roots() + (() if found.namespaces else ("/tmp/",))
    _prepared = _Prepared(found.namespaces, old_tmp, ruleset, roots)
    # Run what `enter` runs, harmlessly: a fork shares the zygote's memory until a page
    # is written, and running Python code writes (reference counts), so the copying
    # happens now rather than on the cold start (measured: ~0.25 ms of its ~1 ms).
    _allowed(["/"], ["/"])  # (calls _under)
    os.path.lexists("/")


def prepare_ahead() -> None:
    """`prepare()` in a spare; a failure is left for `enter` to retry and report."""
    with contextlib.suppress(OSError):
        prepare()


def _bind(path: str, old_tmp: int, hide: Iterable[str], read_only: bool) -> None:
    """Make a directory of the real /tmp visible at its path in our private /tmp.

    Our read-write rule on /tmp covers whatever is mounted under it, so what `hide`
    lists inside (a project's .lambic/, when the task root is a project) gets an empty
    read-only tmpfs over it.
    """
    relative = os.path.relpath(path, "/tmp")
    os.makedirs(path, exist_ok=True)
    mount(f"/proc/self/fd/{old_tmp}/{relative}", path, None, MS_BIND | MS_REC, "")
    if read_only:
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY, "")
    for inner in hide:
        if os.path.isdir(inner):
            mount("tmpfs", inner, "tmpfs", MS_RDONLY, "")


def _under(path: str, root: str) -> bool:
    """`path` is `root` or inside it (plain strings: this runs on the cold-start path)."""
    return f"{path}/".startswith(f"{root.rstrip('/')}/")


def _allowed(roots: Iterable[str], protect: Sequence[str]) -> list[str]:
    """`roots`, with any root that holds a protected path replaced by its other entries."""
    out: list[str] = []
    for root in roots:
        if os.path.islink(root):
            # A rule holds the inode a path leads to: judge the target, or a link such as
            # pytest's `pytest-current` would grant the directory we are carving up.
            root = os.path.realpath(root)
        if any(_under(root, p) for p in protect):
            continue
        if not any(_under(p, root) for p in protect):
            out.append(root)
            continue
        with contextlib.suppress(OSError):
            out += _allowed([os.path.join(root, name) for name in os.listdir(root)], protect)
    return out


def _python_roots() -> list[str]:
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return sorted(prefixes | {p for p in sys.path if p and os.path.isabs(p)})


def _handled(abi: int) -> int:
    return (
        _READ
        | _WRITE_FILE
        | _MAKE_ALL
        | (_REFER if abi >= 2 else 0)
        | (_TRUNCATE if abi >= 3 else 0)
    )


def _new_ruleset(abi: int) -> int:
    scoped = (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0
    attr = _RulesetAttr(_handled(abi), 0, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 8 if abi < 4 else 16
    return check(
        libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0),
        "landlock_create_ruleset",
    )


_ALL = -1  # every right the ruleset handles


def _system_rules(protect: Sequence[str]) -> list[tuple[str, int]]:
    """The system, Python and the devices; `protect`ed paths carved out."""
    rules = [(r, _READ) for r in _allowed([*_SYSTEM_READ, *_python_roots()], protect)]
    rules += [(d, _READ_FILE | _WRITE_FILE | _TRUNCATE) for d in _DEVICES]
    return rules


def _tmp_rules(protect: Sequence[str], private_tmp: bool) -> list[tuple[str, int]]:
    # A private /tmp is the handler's alone; a shared one only where it holds no
    # protected path (a project under /tmp stays out of reach).
    return [(r, _ALL) for r in (["/tmp"] if private_tmp else _allowed(["/tmp"], protect))]


_system: list[tuple[int, int]] | None = None


_roots: tuple[str, ...] | None = None


def _system_roots() -> tuple[str, ...]:
    """The paths of `_system_rules([])`, each ending in "/" (found once, in the zygote)."""
    global _roots
    if _roots is None:
        _roots = tuple(path.rstrip("/") + "/" for path, _ in _system_rules([]))
    return _roots


def _system_fds() -> list[tuple[int, int]]:
    """`_system_rules([])` opened once (O_PATH) in the zygote; its forks inherit them."""
    global _system
    if _system is None:
        _system = []
        for path, rights in _system_rules([]):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # not on this machine
            if not os.path.isdir(path):
                rights &= _EXECUTE | _READ_FILE | _WRITE_FILE | _TRUNCATE
            _system.append((fd, rights))
    return _system


def _add_rule(ruleset: int, abi: int, fd: int, rights: int) -> None:
    beneath = _PathBeneathAttr(rights & _handled(abi), fd)
    check(
        libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(beneath), 0),
        "landlock_add_rule",
    )


def _add_rules(ruleset: int, abi: int, rules: Iterable[tuple[str, int]]) -> None:
    for path, rights in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue  # not on this machine
        try:
            if not os.path.isdir(path):
                rights &= _EXECUTE | _READ_FILE | _WRITE_FILE | _TRUNCATE
            _add_rule(ruleset, abi, fd, rights)
        finally:
            os.close(fd)


def _landlock(
    prepared: _Prepared, abi: int, task_root: str, protect: Sequence[str], allowed: Sequence[str]
) -> None:
    ruleset = prepared.ruleset
    assert ruleset is not None
    try:
        if any(f"{p}/".startswith(root) for p in protect for root in prepared.roots):
            # A protected path under a system or Python root (a project in /opt, a
            # shared /tmp): the prepared rules are too broad; carve it out.
            os.close(ruleset)
            ruleset = prepared.ruleset = _new_ruleset(abi)
            _add_rules(ruleset, abi, _system_rules(protect))
            _add_rules(ruleset, abi, _tmp_rules(protect, prepared.namespaces))
        _add_rules(ruleset, abi, [(r, _READ) for r in _allowed([task_root], protect)])
        if allowed:
            _add_rules(ruleset, abi, [(r, _ALL) for r in _allowed(allowed, protect)])
        check(libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _drop_capabilities() -> None:
    """Give up the capabilities the new user namespace granted (mount, ptrace...)."""
    if _SYS_CAPSET > 0:
        check(libc.syscall(_SYS_CAPSET, _CAP_HEADER, _CAP_NONE), "capset")


def enter(task_root: str, protect: Sequence[str]) -> None:
    """Wall the environment in before it imports the handler (after `prepare`).

    `task_root` and `protect` (paths the handler must not open even where a broader
    rule would allow them: the project directory, its state directory) are absolute
    and resolved (no symlinks): the invoker resolves them once, not every cold start.
    """
    if not enabled():
        return
    found = facilities()
    root = task_root.rstrip("/") or "/"
    # A task root that is a project (an invoker run on it, not on a snapshot):
    inside = [f"{root}/{d}" for d in (".lambic", ".chalice")]
    guarded = [p for p in protect if not _under(root, p)]  # never hide the code itself
    guarded += [p for p in inside if p not in guarded and os.path.lexists(p)]
    allowed = [p for p in os.environ.get(ALLOW, "").split(os.pathsep) if os.path.isabs(p)]
    prepare()  # done already in a spare; forked directly (no spare ready): pay now
    assert _prepared is not None
    if _prepared.old_tmp is not None:
        if _under(root, "/tmp"):
            _bind(root, _prepared.old_tmp, [p for p in guarded if _under(p, root)], True)
        real_tmp = f"/proc/self/fd/{_prepared.old_tmp}"
        # Python itself may live under /tmp (a CI checkout's venv, an editable
        # install's src): the private /tmp would hide it, so it is shown read-only.
        shown: list[str] = []
        for path in _python_roots():  # sorted: a parent comes before what it holds
            if (
                _under(path, "/tmp")
                and not _under(root, path)
                and not any(_under(path, done) for done in shown)
                and os.path.isdir(real_tmp + path[len("/tmp") :])
            ):
                _bind(path, _prepared.old_tmp, [p for p in guarded if _under(p, path)], True)
                shown.append(path)
        for path in allowed:
            if _under(path, "/tmp") and os.path.isdir(real_tmp + path[len("/tmp") :]):
                _bind(path, _prepared.old_tmp, [p for p in guarded if _under(p, path)], False)
        os.close(_prepared.old_tmp)  # the real /tmp must not stay reachable by fd
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if _prepared.namespaces:
        _drop_capabilities()
    if found.landlock:
        _landlock(_prepared, found.landlock, root, guarded, allowed)
