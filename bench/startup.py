"""Start-up benchmark: exec → first answer, and idle memory, of each local cloud.

    .venv/bin/python bench/startup.py [--rounds 5] [--idle 1.5] [--ministack PATH]
                                      [--baseline OTHER/src]

Each target is started as a real process on a free loopback port, in a fresh
directory, and polled (every 5 ms) until it gives its first answer:

    lambic services    `lambic services` with persistence on (a fresh state directory);
                       the first answer is S3's ListBuckets (GET /) on the edge port.
    lambic local       `lambic local --no-reload` on a fresh copy of examples/trainstatus
                       (state on disk, its declared table and bucket created at start);
                       the first answer is GET /history: a function run in a new
                       execution environment that queries the local DynamoDB (its 404,
                       "no status recorded yet", is the function's own answer).
    chalice local      `chalice local --no-autoreload` on a hello app (the first answer
                       is its GET /).
    moto_server        `moto_server -p PORT` (GET /: S3's ListBuckets).
    MiniStack          `ministack` with GATEWAY_PORT (when installed: on PATH, or
                       --ministack PATH).

The CPU time (user + system) the process tree used up to its first answer is taken
at that moment (each live thread's /proc/PID/task/TID/sched, plus the children each
process has reaped from /proc/PID/stat): a counted measure, which a machine busy with
other work disturbs far less than the wall time.
After the first answer the process tree is left idle for --idle seconds, then its
proportional set size is summed over every process of the tree
(/proc/PID/smaps_rollup "Pss"), so pages shared by forked processes count once.
Each process is listed by role with its PSS and with the memory that is its own (USS:
pages no other process maps, what the tree would free without it). The zygote's
forks are told apart: the environment that answered, the spare forked ahead of the
next cold start, and the init of each one's PID namespace (`runtime/_namespaces`: an
exec'd `cat`). A forked process's PSS
includes its share of the zygote's image (boto3's modules and models), which the
zygote holds anyway: its own memory is what it adds.
With --baseline, the two Lambic targets also run from another checkout's `src`
(PYTHONPATH; e.g. a worktree of main) in the same rounds: a before/after in one run.
Rounds are interleaved (target after target) so a burst of other load on the machine
hits every target; medians are quoted, and each process's median PSS is listed.

Each Lambic tree measured is byte-compiled first (`compileall`), as `pip install` does
for an installed package: with PYTHONDONTWRITEBYTECODE set (or stale .pyc files) every
start would otherwise compile Lambic's sources again, which no installed user pays.
The interpreter's own start (`python -c pass`, and `python -S -c pass` without site)
is timed in the same rounds, as the floor under every Python target.

With --trace, each Lambic `lambic local` start also records where each process of
its tree was on the way to the first answer (`lambic._start_trace`: the main
process, the zygote, its manifest reader and the first environment stamp their
phases with CLOCK_MONOTONIC and their own CPU time); the median of each phase, as
ms from exec and the process's CPU ms at that moment, is printed per target, so a
before/after shows which process the first answer waits on.

With --instructions (valgrind installed), each `lambic services` target (and the
floor) also runs once under valgrind's callgrind, and the instructions it executed
from exec to its first answer are printed (`callgrind_control --dump` when the answer
arrives): a count other load on the machine does not change at all, for comparing
trees on a busy machine. Instructions understate what memory-bound work (garbage
collection) costs in time, so the CPU column stays the primary measure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent
REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "examples" / "trainstatus"

CHALICE_APP = """\
from chalice import Chalice

app = Chalice(app_name="hello")


@app.route("/")
def index():
    return {"hello": "world"}
"""

#: Targets of the issue (ms, MB); a target without one is an anchor.
TARGETS = {
    "lambic services": (150.0, 30.0),
    "lambic local": (400.0, 80.0),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answer(port: int, path: str) -> int | None:
    """The status of one GET, or None while nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            head = s.recv(65536)
    except OSError:
        return None
    if not head.startswith(b"HTTP/1."):
        return None
    return int(head.split(b" ", 2)[1])


# -- memory ------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(root: int) -> list[int]:
    tree = _children()
    found, todo = [root], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def memory_kb(pid: int) -> tuple[int, int] | None:
    """(PSS, USS) of a process in kB: its proportional set size, and the pages only it
    maps (Private_Clean + Private_Dirty: what the tree would free without it)."""
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Private_Clean", "Private_Dirty"):
                fields[key] = int(rest.split()[0])
    except OSError:
        return None
    if "Pss" not in fields:
        return None
    return fields["Pss"], fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


def role(pid: int) -> str:
    """A short name for a process of a tree, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in argv if a]
    text = " ".join(words)
    with contextlib.suppress(OSError):
        # `lambic local`'s zygote and what it forks have the gateway's command line and
        # names of their own (runtime/_process_names): the zygote's forks are told apart
        # by `tree_pss` as they were when they had the zygote's command line.
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        if comm == "lambic-logs":
            return "log writer (forked)"
        if comm == "lambic-reader":
            return "manifest reader"
        if comm in ("lambic-zygote", "lambic-env", "lambic-ns"):
            return "zygote"
    for needle, name in (
        ("_zygote_main", "zygote"),
        ("_manifest_child", "manifest reader"),
        ("_log_writer", "log writer"),
        ("lambic local", "lambic local (gateway, services, invoker)"),
        ("lambic services", "lambic services"),
        ("lambic.runtime", "lambic runtime"),
        ("chalice", "chalice local"),
        ("moto_server", "moto_server"),
        ("ministack", "ministack"),
    ):
        if needle in text.replace("-m lambic ", "lambic ").replace("/lambic ", "lambic "):
            return name
    return Path(words[0]).name if words else "?"


def _link(pid: int, what: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/{what}")
    except OSError:  # gone, or not ours to look at (an environment is not dumpable)
        return None


def _namespace_init(pid: int) -> bool:
    """True for PID 1 of a PID namespace (NSpid's last number), seen from outside."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                numbers = line.split()[1:]
                return len(numbers) > 1 and numbers[-1] == "1"
    return False


def _zygote_child(pid: int, zygote: int) -> str:
    """What a process forked from the zygote is: an environment (the leader of its own
    process group) or the spare (walled in, waiting for its spec); in a --baseline tree
    before December 2026's, the namespace factory (its own user namespace, its
    children in the zygote's PID namespace)."""
    kinds = ("user", "pid_for_children")
    ns = {what: _link(pid, f"ns/{what}") for what in kinds}
    theirs = {what: _link(zygote, f"ns/{what}") for what in kinds}
    if ns["user"] != theirs["user"] and ns["pid_for_children"] == theirs["pid_for_children"]:
        return "namespace factory"
    if None in ns.values():
        return "environment / spare (forked)"
    # An environment leads a process group of its own (`_sandbox`); the spare does not yet.
    pgrp = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
    return "environment (forked)" if pgrp == pid else "spare (forked)"


def tree_pss(root: int) -> list[tuple[str, int, int]]:
    """(role, PSS kB, USS kB) of every live process of the tree; a forked child whose command
    line is the zygote's is named by what it does (`_zygote_child`)."""
    rows = []
    zygotes: set[int] = set()
    named: dict[int, str] = {}
    for pid in process_tree(root):  # parents before their children
        kb = memory_kb(pid)
        if kb is None:
            continue
        name = role(pid)
        stat = Path(f"/proc/{pid}/stat").read_text()
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if _namespace_init(pid):  # cat, or an interpreter (forked: the zygote's name)
            name = "namespace init"
        elif name == "zygote":
            if ppid in zygotes:
                name = _zygote_child(pid, ppid)
            elif named.get(ppid) == "namespace factory":  # (a --baseline tree's) builder
                name = "namespace builder"
            else:
                zygotes.add(pid)
        named[pid] = name
        rows.append((name, *kb))
    return rows


_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _task_cpu_ms(pid: int) -> float:
    """CPU time of a process's live threads, in ms, from the scheduler's own count
    (/proc/PID/task/TID/sched: nanosecond resolution, where /proc/PID/stat counts
    10 ms ticks, too coarse for a start of ~100 ms)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for line in (task / "sched").read_text().splitlines():
                if line.startswith("se.sum_exec_runtime"):
                    total += float(line.split(":")[1])
                    break
    return total


def tree_cpu_ms(root: int) -> float:
    """User + system CPU of every live process of the tree (its live threads), and of
    the children each has reaped (a one-shot helper that already exited), in ms."""
    total = 0.0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[13:15]) * _TICK_MS  # cutime cstime
            total += _task_cpu_ms(pid)
    return total


# -- targets -----------------------------------------------------------------------


@dataclass
class Target:
    name: str
    probe: str
    #: (workdir, port) -> (command, environment, cwd)
    command: Command
    starts: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    pss: list[float] = field(default_factory=list)
    #: role -> per round: (PSS MB, USS MB, processes) summed over its processes
    per_process: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)
    statuses: set[int] = field(default_factory=set)
    #: phase -> [(ms from exec, process CPU ms)] over the rounds (--trace).
    phases: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL", None)
    env.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    env.update(extra)
    return env


Command = Callable[[Path, int], tuple[list[str], dict[str, str], Path]]


def lambic_services(src: str | None = None) -> Command:
    def command(work: Path, port: int) -> tuple[list[str], dict[str, str], Path]:
        project = work / "services"
        project.mkdir()
        env = _env(PYTHONPATH=src) if src else _env()
        return [str(BIN / "lambic"), "services", "--port", str(port)], env, project

    return command


def lambic_local(src: str | None = None) -> Command:
    def command(work: Path, port: int) -> tuple[list[str], dict[str, str], Path]:
        project = work / "trainstatus"
        shutil.copytree(
            FLAGSHIP, project, ignore=shutil.ignore_patterns("__pycache__", "state", "logs")
        )
        command = [str(BIN / "lambic"), "local", "--no-reload", "--port", str(port)]
        command += ["--services-port", str(free_port())]
        return command, _env(PYTHONPATH=src) if src else _env(), project

    return command


def chalice_local(work: Path, port: int) -> tuple[list[str], dict[str, str], Path]:
    project = work / "hello"
    (project / ".chalice").mkdir(parents=True)
    (project / "app.py").write_text(CHALICE_APP)
    (project / ".chalice" / "config.json").write_text(
        '{"version": "2.0", "app_name": "hello", "stages": {"dev": {"api_gateway_stage": "api"}}}'
    )
    command = [str(BIN / "chalice"), "local", "--no-autoreload", "--port", str(port)]
    return command, _env(), project


def moto_server(work: Path, port: int) -> tuple[list[str], dict[str, str], Path]:
    return [str(BIN / "moto_server"), "-p", str(port)], _env(), work


def ministack(executable: str) -> Command:
    def command(work: Path, port: int) -> tuple[list[str], dict[str, str], Path]:
        return [executable], _env(GATEWAY_PORT=str(port)), work

    return command


def precompile(src: Path) -> None:
    """Byte-compile a Lambic tree, as an installed package is (see the module doc)."""
    subprocess.run([PY, "-m", "compileall", "-q", str(src)], check=True, stdout=subprocess.DEVNULL)


@dataclass
class Floor:
    """The interpreter's own start and exit (no target answers before it)."""

    name: str
    argv: list[str]
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run_once(self) -> None:
        started = time.perf_counter()
        proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped above
        self.runs.append((time.perf_counter() - started) * 1000)
        self.cpu.append((usage.ru_utime + usage.ru_stime) * 1000)


def _callgrind_total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def instructions(target: Target, timeout: float = 600.0) -> float:
    """Millions of instructions `target` executed from exec to its first answer,
    counted by callgrind (see the module doc); the floor's until it exits."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as out:
        port = free_port()
        command, env, cwd = target.command(Path(tmp), port)
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p"]
        proc = subprocess.Popen(
            valgrind + command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            if not target.probe:  # a floor: counted to its exit
                proc.wait(timeout=timeout)
                return _callgrind_total(Path(out) / f"cg.{proc.pid}") / 1e6
            deadline = time.monotonic() + timeout
            while answer(port, target.probe) is None:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{target.name} did not answer under callgrind")
                time.sleep(0.05)
            # The first dump holds what ran until now (the process idles after its answer).
            subprocess.run(
                ["callgrind_control", "--dump=first-answer", str(proc.pid)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            return _callgrind_total(Path(out) / f"cg.{proc.pid}.1") / 1e6
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def record_phases(target: Target, trace: Path, exec_ns: int, answer_ns: int) -> None:
    """Each stamped phase (`lambic._start_trace`) up to the first answer, as (ms from
    exec, the process's CPU ms); a phase repeated in a round counts its first time."""
    seen: set[str] = set()
    with contextlib.suppress(OSError):
        for line in trace.read_text().splitlines():
            ns, _pid, cpu_ns, phase = line.split(" ", 3)
            if int(ns) > answer_ns or phase in seen:
                continue
            seen.add(phase)
            at = ((int(ns) - exec_ns) / 1e6, int(cpu_ns) / 1e6)
            target.phases.setdefault(phase, []).append(at)
    target.phases.setdefault("(first answer)", []).append(((answer_ns - exec_ns) / 1e6, 0.0))


def print_phases(target: Target) -> None:
    rows = [
        (statistics.median(a for a, _ in at), statistics.median(c for _, c in at), phase)
        for phase, at in target.phases.items()
    ]
    print(f"  {target.name}: phases, median ms from exec (process CPU ms then)")
    for at, cpu, phase in sorted(rows):
        shown = f"{cpu:7.1f}" if phase != "(first answer)" else ""
        print(f"    {at:7.1f} {shown:>7}  {phase}")


def start_once(target: Target, idle: float, timeout: float = 60.0, trace: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        command, env, cwd = target.command(Path(tmp), port)
        trace_file = Path(tmp) / "start-trace"
        if trace and target.probe == "/history":
            env["LAMBIC_START_TRACE"] = str(trace_file)
        exec_ns = time.monotonic_ns()
        started = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while (status := answer(port, target.probe)) is None:
                if proc.poll() is not None:
                    raise RuntimeError(f"{target.name} exited with {proc.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{target.name} did not answer within {timeout:.0f} s")
                time.sleep(0.005)
            target.starts.append((time.perf_counter() - started) * 1000)
            if "LAMBIC_START_TRACE" in env:
                record_phases(target, trace_file, exec_ns, time.monotonic_ns())
            target.cpu.append(tree_cpu_ms(proc.pid))
            target.statuses.add(status)
            time.sleep(idle)
            rows = tree_pss(proc.pid)
            target.pss.append(sum(kb for _, kb, _ in rows) / 1024)
            by_role: dict[str, tuple[float, float, int]] = {}
            for name, pss, uss in rows:
                total_pss, total_uss, count = by_role.get(name, (0.0, 0.0, 0))
                by_role[name] = (total_pss + pss / 1024, total_uss + uss / 1024, count + 1)
            for name, sums in by_role.items():
                target.per_process.setdefault(name, []).append(sums)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            # Whatever the tree left (a killed parent's children) goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=1.5, help="seconds idle before PSS")
    parser.add_argument("--ministack", default=shutil.which("ministack"))
    parser.add_argument("--baseline", help="another checkout's src directory to compare")
    parser.add_argument(
        "--only", action="append", default=[], help="run only these targets (repeatable)"
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also print each process's phases on the way to lambic local's first answer",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions to the first answer under callgrind (services only)",
    )
    args = parser.parse_args()
    targets = [
        Target("lambic services", "/", lambic_services()),
        Target("lambic local", "/history", lambic_local()),
        Target("chalice local", "/", chalice_local),
        Target("moto_server", "/", moto_server),
    ]
    if args.ministack:
        targets.append(Target("MiniStack", "/", ministack(args.ministack)))
    if args.baseline:
        src = str(Path(args.baseline).resolve())
        targets[2:2] = [
            Target("services (base)", "/", lambic_services(src)),
            Target("local (base)", "/history", lambic_local(src)),
        ]
    if args.only:
        targets = [t for t in targets if t.name in args.only]
    precompile(REPO / "src")
    if args.baseline:
        precompile(Path(args.baseline).resolve())
    floors = [
        Floor("python -c pass", [PY, "-c", "pass"]),
        Floor("python -S -c pass", [PY, "-S", "-c", "pass"]),
    ]
    print(
        f"{args.rounds} interleaved rounds; first answer polled every 5 ms; "
        f"PSS summed over the process tree after {args.idle:.1f} s idle (medians)"
    )
    for _ in range(args.rounds):
        for floor in floors:
            floor.run_once()
        for target in targets:
            start_once(target, args.idle, trace=args.trace)

    print(
        f"{'target':<17} {'start → first answer (ms)':>26} {'runs':>30} "
        f"{'CPU to it (ms)':>15} {'idle PSS (MB)':>14}"
    )
    for t in targets:
        runs = "/".join(f"{s:.0f}" for s in t.starts)
        print(
            f"{t.name:<17} {statistics.median(t.starts):>26.0f} {runs:>30} "
            f"{statistics.median(t.cpu):>15.0f} {statistics.median(t.pss):>14.1f}"
        )
        roles = sorted(
            t.per_process.items(), key=lambda kv: -statistics.median(r[0] for r in kv[1])
        )
        for name, per_round in roles:
            count = statistics.median(r[2] for r in per_round)
            seen = len(per_round) / len(t.pss)
            shown = name + (f" (x{count:g})" if count != 1 else "")
            shown += f" [in {seen:.0%} of rounds]" if seen != 1 else ""
            pss = statistics.median(r[0] for r in per_round)
            own = statistics.median(r[1] for r in per_round)
            print(f"    {shown:<48} PSS {pss:>6.1f} MB, its own {own:>5.1f} MB")
        if t.statuses - {200}:
            print(f"    (first answers had statuses {sorted(t.statuses)})")
    for t in targets:
        if t.phases:
            print_phases(t)
    for floor in floors:
        print(
            f"{floor.name:<17} {statistics.median(floor.runs):>26.0f} "
            f"{'(exec to exit: the floor)':>30} {statistics.median(floor.cpu):>15.0f}"
        )
    if args.instructions:
        floor = Target("python -c pass", "", lambda work, port: ([PY, "-c", "pass"], _env(), work))
        counted = [floor] + [t for t in targets if t.name in ("lambic services", "services (base)")]
        counts = {t.name: instructions(t) for t in counted}
        print("instructions from exec to the first answer (callgrind, millions):")
        for name, count in counts.items():
            print(f"    {name:<20} {count:>8.1f} M")
        if "services (base)" in counts and "lambic services" in counts:
            ratio = counts["lambic services"] / counts["services (base)"]
            print(f"    lambic services / services (base) = {ratio:.3f}x")
    medians = {t.name: statistics.median(t.starts) for t in targets}
    cpu = {t.name: statistics.median(t.cpu) for t in targets}
    memory = {t.name: statistics.median(t.pss) for t in targets}
    for name, (ms_target, mb_target) in TARGETS.items():
        if name not in medians:
            continue
        base = name.replace("lambic ", "") + " (base)"
        anchors = [
            f"{medians[name] / medians[a]:.2f}x {a}"
            for a in medians
            if a not in TARGETS and (a == base or not a.endswith("(base)"))
        ]
        against_base = f", CPU {cpu[name] / cpu[base]:.2f}x {base}" if base in cpu else ""
        print(
            f"{name}: start {medians[name]:.0f} ms (target <= {ms_target:.0f}), "
            f"CPU {cpu[name]:.0f} ms{against_base}, "
            f"PSS {memory[name]:.1f} MB (target <= {mb_target:.0f}); start = " + ", ".join(anchors)
        )


if __name__ == "__main__":
    main()
