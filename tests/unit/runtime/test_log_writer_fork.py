"""`lambic local`'s log writer, forked early: it commits and prints what it is handed,
yields the CPU like the spawned writer, and never outlives the process that forked it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests._support.logs import stored_messages
from tests._support.processes import alive, wait_gone

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux /proc")

# Each probe runs in a fresh interpreter: the fork needs a process with one thread,
# which a pytest worker (other tests' threads) need not be.
PREAMBLE = """
import os, sys, time
from lambic.runtime._log_writer_fork import fork_writer
writer = fork_writer()
assert writer is not None
from lambic.runtime.logstore import LogEvent, LogStore
"""


def test_a_forked_writer_commits_prints_and_runs_at_the_lowest_priority(tmp_path: Path) -> None:
    db = tmp_path / "logs.sqlite3"
    probe = (
        PREAMBLE
        + f"""
store = LogStore({str(db)!r}, echo_fd=1, verbose=False, forked=writer)
store.append(LogEvent("/aws/lambda/app-dev-hello", "2026/01/01/[$LATEST]ab", 1, "hi there"))
store.flush()
print("scheduling", os.sched_getscheduler(writer.pid) == os.SCHED_BATCH,
      os.getpriority(os.PRIO_PROCESS, writer.pid), flush=True)
store.close()
print("status", writer.wait(10), flush=True)
"""
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # Printed by the writer on the terminal's descriptor it was handed, once.
    assert lines.count("[app-dev-hello] hi there") == 1
    assert "scheduling True 19" in lines
    assert lines[-1] == "status 0"
    assert stored_messages(db) == ["hi there"]


def test_the_writer_ends_with_the_process_that_forked_it_after_writing_what_it_had(
    tmp_path: Path,
) -> None:
    db = tmp_path / "logs.sqlite3"
    probe = (
        PREAMBLE
        + f"""
store = LogStore({str(db)!r}, forked=writer)
store.append(LogEvent("/aws/lambda/app-dev-hello", "2026/01/01/[$LATEST]ab", 1, "committed"))
store.flush()
print(writer.pid, flush=True)
time.sleep(60)
"""
    )
    proc = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        writer = int(proc.stdout.readline())
        assert alive(writer)
        os.kill(proc.pid, signal.SIGKILL)  # no close(), no atexit: its socket just closes
        proc.wait(10)
        assert wait_gone(writer)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert stored_messages(db) == ["committed"]  # what the store saw acknowledged is on disk


def test_a_writer_never_started_ends_when_its_process_does() -> None:
    probe = PREAMBLE + "print(writer.pid, flush=True)\n"  # exits without a LogStore
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert wait_gone(int(out.stdout))


def test_with_another_thread_running_nothing_is_forked(tmp_path: Path) -> None:
    # A fork copies only the calling thread; the store then spawns its writer instead.
    db = tmp_path / "logs.sqlite3"
    probe = f"""
import threading, time
threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
from lambic.runtime._log_writer_fork import fork_writer
from lambic.runtime.logstore import LogEvent, LogStore
writer = fork_writer()
store = LogStore({str(db)!r}, forked=writer)
store.append(LogEvent("/aws/lambda/app-dev-hello", "2026/01/01/[$LATEST]ab", 1, "spawned"))
store.close()
print(writer)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"
    assert stored_messages(db) == ["spawned"]


def test_the_forked_writer_has_its_own_name_in_ps(tmp_path: Path) -> None:
    # Its command line is the gateway's (`lambic local ...`): `ps` and bench/startup.py
    # tell it apart by its name.
    probe = (
        PREAMBLE
        + f"""
store = LogStore({str(tmp_path / "logs.sqlite3")!r}, forked=writer)
store.flush()  # the writer has read its settings, so it has named itself
print(open(f"/proc/{{writer.pid}}/comm").read().strip(), flush=True)
store.close()
"""
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "lambic-logs"
