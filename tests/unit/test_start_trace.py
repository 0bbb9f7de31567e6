"""`lambic._start_trace`: with LAMBIC_START_TRACE set, each process of a tree (forks
too) appends its phases to one file; unset, nothing is written anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os
from lambic._start_trace import stamp
stamp("parent: first")
pid = os.fork()
if pid == 0:
    stamp("child: forked")
    os._exit(0)
os.waitpid(pid, 0)
stamp("parent: last")
"""


def _run(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True, timeout=60)


def test_each_process_stamps_its_phases_in_order(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    _run({**os.environ, "LAMBIC_START_TRACE": str(trace)})
    lines = [line.split(" ", 3) for line in trace.read_text().splitlines()]
    assert [phase for *_, phase in lines] == ["parent: first", "child: forked", "parent: last"]
    stamps = [int(ns) for ns, *_ in lines]
    assert stamps == sorted(stamps)
    pids = {phase: pid for _, pid, _, phase in lines}
    assert pids["parent: first"] == pids["parent: last"] != pids["child: forked"]
    assert all(int(cpu) > 0 for _, _, cpu, _ in lines)  # the process's CPU time so far


def test_nothing_is_written_without_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LAMBIC_START_TRACE"}
    before = set(tmp_path.iterdir())
    subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, check=True, timeout=60)
    assert set(tmp_path.iterdir()) == before
