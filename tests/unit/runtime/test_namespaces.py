"""`_namespaces`: each environment makes fresh namespaces, whose init (an exec'd `cat`,
or an interpreter where there is none) lives on a pipe the zygote holds (`Lifelines`):
what an environment left dies with it, the next finds /tmp empty, and nothing outlives
the zygote. Real forks, real namespaces (where permitted); the zygote is a forked
stand-in that holds the lifelines, as `_zygote_process.serve` does."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic.runtime import _isolation, _namespaces
from lambic.runtime._namespaces import Lifelines
from tests._support.processes import alive, children, own_kb, wait_gone

pytestmark = pytest.mark.skipif(
    not _isolation.facilities().namespaces, reason="needs unprivileged user namespaces"
)

Report = dict[str, Any]


def _report_through(fd: int, make: Callable[[], Report]) -> None:
    try:
        report = make()
    except BaseException as exc:
        report = {"error": repr(exc)}
    os.write(fd, json.dumps(report).encode() + b"\n")


def _read_report(fd: int) -> Report:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        assert chunk, "the process ended without a report"
        data += chunk
    report: Report = json.loads(data)
    assert "error" not in report, report
    return report


def in_a_fork(make: Callable[[], Report]) -> Report:
    """What `make` reports, run in a child forked (plainly) for it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        _report_through(write_end, make)
        os._exit(0)
    os.close(write_end)
    try:
        return _read_report(read_end)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def as_zygote(scenario: Callable[[Lifelines], Report]) -> Report:
    """Run `scenario` in a forked stand-in zygote holding its lifelines; its report."""
    return in_a_fork(lambda: scenario(Lifelines()))


class Environment:
    """A child forked through the lifelines that enters its namespaces, reports what
    `body` found and exits, or (`stay`) stays until killed."""

    def __init__(self, lifelines: Lifelines, body: Callable[[], Report], stay: bool = False):
        read_end, write_end = os.pipe()
        self.pid = lifelines.fork()
        if self.pid == 0:  # pragma: no cover - the environment
            os.close(read_end)
            _report_through(write_end, lambda: {**_entered(), **body()})
            if stay:
                time.sleep(60)
            os._exit(0)
        os.close(write_end)
        try:
            self.report = _read_report(read_end)
        finally:
            os.close(read_end)
        self.init: int = self.report["init"]

    def end(self, lifelines: Lifelines) -> None:
        """Kill it (if it stayed), reap it and cut its lifeline, as the zygote does."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        lifelines.cut(self.pid)


def _entered() -> Report:
    os.close(_namespaces.enter())
    (init,) = children(os.getpid())  # the namespace's PID 1: our only child
    return {"pid_ns": os.readlink("/proc/self/ns/pid_for_children"), "init": init}


def reaped(pid: int, timeout: float = 10.0) -> bool:
    """Whether `pid` (an init come back to its subreaper) ended and was reaped here.
    Reaps every child that ended, as the zygote does: the environment's orphans come
    to it too, and an init's exit waits until each process of its namespace is reaped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            while (found := os.waitpid(-1, os.WNOHANG)[0]) != 0:
                if found == pid:
                    return True
        time.sleep(0.02)
    return False


def leave_a_daemon_and_a_file() -> Report:
    with open("/tmp/left-behind", "w") as fh:
        fh.write("secret of the previous environment")
    daemon = subprocess.Popen(["sleep", "60"], start_new_session=True)
    return {"daemon": daemon.pid, "tmp": sorted(os.listdir("/tmp"))}


def look_around() -> Report:
    return {"tmp": sorted(os.listdir("/tmp"))}


def look_then_leave_a_file() -> Report:
    seen = look_around()
    with open("/tmp/left-behind", "w") as fh:
        fh.write("secret of the previous environment")
    return seen


def test_what_an_environment_leaves_dies_with_it_and_the_next_finds_tmp_empty() -> None:
    def scenario(lifelines: Lifelines) -> Report:
        first = Environment(lifelines, leave_a_daemon_and_a_file)
        first.end(lifelines)
        later = []
        for _ in range(5):
            each = Environment(lifelines, look_then_leave_a_file)
            each.end(lifelines)
            later.append(each.report["tmp"])
        return {
            "first_tmp": first.report["tmp"],
            # Its setsid'd child goes with it (its pid is our numbering: the
            # environment itself is outside its PID namespace).
            "daemon_gone": wait_gone(first.report["daemon"]),
            # The init came back to the zygote (a subreaper) to be reaped: no zombie.
            "init_reaped": reaped(first.init),
            "later_tmp": later,
        }

    seen = as_zygote(scenario)
    assert seen["first_tmp"] == ["left-behind"]  # its own /tmp, not the machine's
    assert seen["daemon_gone"] is True
    assert seen["init_reaped"] is True
    assert seen["later_tmp"] == [[]] * 5  # each later one finds nothing of the one before


def test_a_namespaces_init_is_cat_holding_a_fraction_of_an_interpreter() -> None:
    def scenario(lifelines: Lifelines) -> Report:
        held = Environment(lifelines, look_around, stay=True)
        init = held.init
        fds = {fd: os.readlink(f"/proc/{init}/fd/{fd}") for fd in os.listdir(f"/proc/{init}/fd")}
        seen = {
            "tmp": held.report["tmp"],
            "exe": os.readlink(f"/proc/{init}/exe"),
            "cmdline": Path(f"/proc/{init}/cmdline").read_text(),
            "comm": Path(f"/proc/{init}/comm").read_text(),
            "own_kb": own_kb(init),
            "fds": fds,
        }
        held.end(lifelines)
        return {**seen, "init_reaped": reaped(init)}

    cat = shutil.which("cat", path=os.defpath) or shutil.which("cat")
    assert cat is not None, "this test needs cat (coreutils)"
    seen = as_zygote(scenario)
    assert seen["exe"] == os.path.realpath(cat)
    # What top, ps -o comm and pkill see: not "cat"; and the link it was run by is gone.
    assert seen["comm"] == "lambic-ns\n" and seen["cmdline"] == "lambic-ns\0"
    assert seen["tmp"] == []
    # Nothing of the environment's: its lifeline on 0, /dev/null on 1 and 2.
    assert sorted(seen["fds"]) == ["0", "1", "2"]
    assert seen["fds"]["0"].startswith("pipe:")
    assert seen["fds"]["1"] == seen["fds"]["2"] == "/dev/null"
    # An interpreter forked for it held ~1.3 MB of its own; cat ~0.15 MB.
    assert seen["own_kb"] < 600
    assert seen["init_reaped"] is True  # it ended when its lifeline was cut


def test_without_cat_an_init_waits_in_an_interpreter() -> None:
    def scenario(lifelines: Lifelines) -> Report:
        _namespaces.find_cat = lambda: None  # type: ignore[assignment]  # (a fork's copy)
        held = Environment(lifelines, leave_a_daemon_and_a_file, stay=True)
        exe = os.readlink(f"/proc/{held.init}/exe")
        held.end(lifelines)
        return {
            "exe": exe,
            "daemon_gone": wait_gone(held.report["daemon"]),
            "init_reaped": reaped(held.init),
        }

    seen = as_zygote(scenario)
    assert seen["exe"] == os.path.realpath(sys.executable)
    assert seen["daemon_gone"] is True and seen["init_reaped"] is True


def test_environments_alive_at_once_each_live_on_their_own_lifeline() -> None:
    def scenario(lifelines: Lifelines) -> Report:
        first = Environment(lifelines, look_around, stay=True)
        second = Environment(lifelines, look_around, stay=True)
        first.end(lifelines)
        # The second environment was forked while the first's lifeline was held: it
        # must not hold it too, or the first's namespace would live on in it.
        seen = {
            "own_namespaces": first.report["pid_ns"] != second.report["pid_ns"],
            "first_gone": reaped(first.init),
            "second_alive": alive(second.init),
        }
        second.end(lifelines)
        return {**seen, "second_gone": reaped(second.init)}

    assert as_zygote(scenario) == {
        "own_namespaces": True,
        "first_gone": True,
        "second_alive": True,
        "second_gone": True,
    }


@contextlib.contextmanager
def a_zygote_holding_an_environment() -> Iterator[tuple[int, int]]:
    """A stand-in zygote (pid) holding one environment's lifeline (its init's pid)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the stand-in zygote, until killed

        def hold() -> Report:
            held = Environment(Lifelines(), look_around, stay=True)
            return {"init": held.init}

        _report_through(write_end, hold)
        time.sleep(60)
        os._exit(0)
    os.close(write_end)
    try:
        yield pid, _read_report(read_end)["init"]
    finally:
        os.close(read_end)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_no_namespace_outlives_the_zygote() -> None:
    with a_zygote_holding_an_environment() as (zygote, init):
        assert alive(init)
        os.kill(zygote, signal.SIGKILL)  # its end of every lifeline closes with it
        assert wait_gone(init)


def in_a_plain_fork(body: Callable[[], Report]) -> Report:
    """Fork (no lifeline), enter namespaces, run `body`, report, exit."""
    return in_a_fork(lambda: {**_entered(), **body()})


def test_a_plain_fork_makes_namespaces_whose_init_watches_it() -> None:
    first = in_a_plain_fork(leave_a_daemon_and_a_file)
    assert first["tmp"] == ["left-behind"]
    assert wait_gone(first["daemon"])
    assert wait_gone(first["init"])
    assert in_a_plain_fork(look_around)["tmp"] == []


def test_a_multi_call_cat_is_run_by_its_own_name(tmp_path: Path) -> None:
    # busybox (Alpine's cat) picks its program by argv[0]: "lambic-ns" would be no program.
    (tmp_path / "busybox").write_text("")
    (tmp_path / "cat").symlink_to(tmp_path / "busybox")
    assert _namespaces._argv0(str(tmp_path / "cat")) == "cat"
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "cat").write_text("")
    assert _namespaces._argv0(str(tmp_path / "real" / "cat")) == "lambic-ns"
