"""`lambic local`'s log writer is forked by its zygote once the zygote's image is final
and the log store, busy, sends it its settings (`_log_writer_fork.fork_from_zygote`): it
holds less memory of its own than a new interpreter, commits and prints what it is
handed, outlives a killed zygote and never outlives the gateway's process (which holds
the other end of its socket); a store that never gets busy has none forked."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambic.runtime import _log_writer_fork
from lambic.runtime._log_writer_fork import ForkedWriter, writer_on
from lambic.runtime._zygote_launch import DEFAULT_PRELOAD, Launched, launch
from lambic.runtime.logstore import BUSY_ROWS, LogEvent, LogStore
from lambic.runtime.zygote import Zygote
from tests._support.logs import stored_messages
from tests._support.processes import alive, own_kb, wait_gone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="Linux /proc"),
]

GROUP, STREAM = "/aws/lambda/app-dev-hello", "2026/01/01/[$LATEST]ab"


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def launched() -> Iterator[Launched]:
    zygote = launch(("json",), log_writer=True)
    try:
        yield zygote
    finally:
        zygote.close()


@pytest.fixture
def writer(launched: Launched) -> Iterator[ForkedWriter]:
    """The handle on the writer `launched` forked; closed after the test (a no-op
    once a store has stopped it)."""
    taken = launched.take_log_writer()
    assert taken is not None
    try:
        yield taken
    finally:
        taken.close()


class Terminal:
    """A pipe standing in for `lambic local`'s terminal: the store prints to `fd`."""

    def __init__(self) -> None:
        self._read, self.fd = os.pipe()

    def printed(self) -> bytes:
        """Everything printed, once the printing side is done (closes `fd`)."""
        os.close(self.fd)
        self.fd = -1
        chunks = []
        while chunk := os.read(self._read, 65536):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for fd in (self._read, self.fd):
            if fd != -1:
                os.close(fd)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    pipe = Terminal()
    try:
        yield pipe
    finally:
        pipe.close()


def test_the_writer_is_the_zygotes_child_and_commits_what_it_is_handed(
    launched: Launched, writer: ForkedWriter, terminal: Terminal, tmp_path: Path
) -> None:
    db = tmp_path / "logs.sqlite3"
    store = LogStore(db, echo_fd=terminal.fd, verbose=False, forked=writer, busy_rows=0)
    store.append(LogEvent(GROUP, STREAM, 1, "hi there"))
    store.flush()
    assert store._writer is writer  # not the spawned writer's fallback
    assert parent_of(writer.pid) == launched.proc.pid
    assert comm(writer.pid) == "lambic-logs"
    assert os.sched_getscheduler(writer.pid) == os.SCHED_BATCH
    assert os.getpriority(os.PRIO_PROCESS, writer.pid) == 19
    store.close()  # returns once the writer has ended: what it acknowledged is on disk
    assert not alive(writer.pid)
    assert terminal.printed() == b"[app-dev-hello] hi there\n"
    assert stored_messages(db) == ["hi there"]


def test_the_writer_holds_none_of_the_zygotes_descriptors(
    writer: ForkedWriter, tmp_path: Path
) -> None:
    # Not the zygote's control socket above all: the gateway's process would not see
    # the zygote end while the writer held it. Only its own socket, and stdio.
    writer.start(tmp_path / "logs.sqlite3", None, None, verbose=False)
    fds = {
        int(fd): os.readlink(f"/proc/{writer.pid}/fd/{fd}")
        for fd in os.listdir(f"/proc/{writer.pid}/fd")
    }
    extra = [target for fd, target in fds.items() if fd > 2]
    assert len(extra) == 1 and extra[0].startswith("socket:"), fds


def test_the_writer_survives_a_killed_zygote_and_keeps_writing(
    launched: Launched, writer: ForkedWriter, tmp_path: Path
) -> None:
    db = tmp_path / "logs.sqlite3"
    store = LogStore(db, forked=writer, busy_rows=0)
    try:
        store.append(LogEvent(GROUP, STREAM, 1, "before"))
        store.flush()
        launched.proc.kill()  # as the invoker's test of a killed zygote does
        launched.proc.wait(10)
        assert alive(writer.pid)
        store.append(LogEvent(GROUP, STREAM, 2, "after"))
        store.flush()
        assert store._writer is writer  # still the writer's to commit, not ours
    finally:
        store.close()
    assert not alive(writer.pid)  # its end noticed although it is not our child
    assert stored_messages(db) == ["before", "after"]


def test_without_pidfds_the_writers_end_is_seen_in_proc(
    launched: Launched, writer: ForkedWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pidfds(pid: int, flags: int = 0) -> int:
        raise OSError(38, "Function not implemented")  # Linux < 5.3

    monkeypatch.setattr(_log_writer_fork.os, "pidfd_open", no_pidfds)
    store = LogStore(tmp_path / "logs.sqlite3", forked=writer, busy_rows=0)
    store.append(LogEvent(GROUP, STREAM, 1, "kept"))
    store.close()
    assert writer._pidfd is None
    assert not alive(writer.pid)
    # A process still running is not taken for ended (the zygote: not our child either).
    ours, theirs = socket.socketpair()
    theirs.sendall(struct.pack("!I", launched.proc.pid))
    theirs.close()
    other = writer_on(ours)
    try:
        assert other.pid == launched.proc.pid
        with pytest.raises(subprocess.TimeoutExpired):
            other.wait(0.1)
    finally:
        ours.close()
    assert stored_messages(tmp_path / "logs.sqlite3") == ["kept"]


def test_a_zygote_that_died_before_forking_it_leaves_the_store_spawning_its_own(
    tmp_path: Path,
) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.close()  # nobody will report a pid
    store = LogStore(tmp_path / "logs.sqlite3", forked=writer_on(ours), busy_rows=0)
    try:
        store.append(LogEvent(GROUP, STREAM, 1, "spawned"))
        store.flush()  # the store's thread has found the writer gone by now
        assert isinstance(store._writer, subprocess.Popen)
    finally:
        store.close()
    assert stored_messages(tmp_path / "logs.sqlite3") == ["spawned"]


def spawned_writer_kb(path: Path) -> int:
    """The own memory of the writer `LogStore` starts as a new interpreter, once idle."""
    store = LogStore(path, busy_rows=0)
    try:
        store.append(LogEvent(GROUP, STREAM, 1, "hi"))
        store.flush()
        assert isinstance(store._writer, subprocess.Popen)
        return own_kb(store._writer.pid)
    finally:
        store.close()


def test_the_writer_holds_less_memory_of_its_own_than_a_new_interpreter(
    tmp_path: Path,
) -> None:
    async def measure() -> tuple[int, int]:
        launched = launch(DEFAULT_PRELOAD, log_writer=True)
        writer = launched.take_log_writer()
        assert writer is not None
        zygote = Zygote(launched=launched)
        store = LogStore(tmp_path / "logs.sqlite3", forked=writer, busy_rows=0)
        try:
            await zygote.wait_ready()  # boto3 imported and its clients being built
            store.append(LogEvent(GROUP, STREAM, 1, "hi"))
            store.flush()
            await asyncio.sleep(0.5)  # the zygote warms meanwhile, copying its pages
            return own_kb(writer.pid), own_kb(zygote.pid)
        finally:
            store.close()
            await zygote.aclose()

    writer_kb, zygote_kb = asyncio.run(measure())
    spawned_kb = spawned_writer_kb(tmp_path / "spawned.sqlite3")
    # Measured: forked, ~3.4 MB of its own in `lambic local` on the flagship (sqlite3,
    # orjson, the log store, their heap and the pages of the zygote's image it wrote),
    # ~6.4 MB here (a zygote of its own interpreter, warming seven services); ~9 MB as
    # a new interpreter.
    assert writer_kb < spawned_kb, (writer_kb, spawned_kb, zygote_kb)


def test_killing_the_gateways_process_ends_the_writer(tmp_path: Path) -> None:
    script = f"""
import sys, time
from lambic.runtime._log_writer_fork import writer_on
from lambic.runtime._zygote_launch import launch
from lambic.runtime.logstore import BUSY_ROWS, LogEvent, LogStore
busy = launch(("json",), log_writer=True)
store = LogStore({str(tmp_path / "logs.sqlite3")!r}, forked=writer_on(busy.log_writer), busy_rows=0)
store.append(LogEvent({GROUP!r}, {STREAM!r}, 1, "committed"))
store.flush()
print(store._writer.pid, busy.proc.pid, flush=True)
time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        pids = [int(pid) for pid in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(pid) for pid in pids)
        os.kill(proc.pid, signal.SIGKILL)  # no close(), no atexit: its sockets just close
        proc.wait(10)
        assert [pid for pid in pids if not wait_gone(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert stored_messages(tmp_path / "logs.sqlite3") == ["committed"]


def test_a_quiet_store_commits_itself_and_its_zygote_forks_no_writer(
    launched: Launched, writer: ForkedWriter, terminal: Terminal, tmp_path: Path
) -> None:
    db = tmp_path / "logs.sqlite3"
    store = LogStore(db, echo_fd=terminal.fd, verbose=False, forked=writer)
    store.append(LogEvent(GROUP, STREAM, 1, "quiet"))
    store.flush()
    assert store._writer is None
    assert not [pid for pid in children_of(launched.proc.pid) if comm(pid) == "lambic-logs"]
    busy = [LogEvent(GROUP, STREAM, 2 + i, f"busy {i}") for i in range(BUSY_ROWS)]
    for event in busy:
        store.append(event)
    store.flush()  # one batch of BUSY_ROWS: the writer is forked and commits it
    assert store._writer is writer and comm(writer.pid) == "lambic-logs"
    store.close()
    printed = terminal.printed().decode().splitlines()
    assert printed == ["[app-dev-hello] quiet"] + [
        f"[app-dev-hello] busy {i}" for i in range(BUSY_ROWS)
    ]
    assert stored_messages(db) == ["quiet"] + [f"busy {i}" for i in range(BUSY_ROWS)]


def test_a_store_closed_quiet_leaves_its_zygote_without_a_writer(
    launched: Launched, writer: ForkedWriter, tmp_path: Path
) -> None:
    store = LogStore(tmp_path / "logs.sqlite3", forked=writer)
    store.append(LogEvent(GROUP, STREAM, 1, "only"))
    store.close()
    time.sleep(0.3)  # the zygote has seen the socket close by now
    assert launched.proc.poll() is None
    assert not [pid for pid in children_of(launched.proc.pid) if comm(pid) == "lambic-logs"]


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def children_of(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children
