"""`_namespaces`: environments joining namespaces the factory built for each (what one
left behind dies with it, the next has an empty /tmp; their init an exec'd `cat`, or
an interpreter where there is none), and the fallback when there is no factory. Real
forks, real namespaces (where permitted)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic.runtime import _isolation, _namespaces
from tests._support.processes import alive, own_kb, wait_gone

pytestmark = pytest.mark.skipif(
    not _isolation.facilities().namespaces, reason="needs unprivileged user namespaces"
)


def start_factory(monkeypatch: pytest.MonkeyPatch) -> socket.socket:
    """Fork a factory from this process (as the zygote forks one); our end of it."""
    monkeypatch.setattr(_namespaces, "_factory", None)
    _namespaces.start_factory()
    ours = _namespaces._factory
    assert ours is not None
    return ours


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A factory forked from this process, closed after."""
    ours = start_factory(monkeypatch)
    yield ours
    monkeypatch.setattr(_namespaces, "_factory", None)
    ours.close()  # the factory exits on EOF, and every namespace's init with it


def in_environment(body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Fork, enter namespaces as an environment does, run `body`, report, exit."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        report: dict[str, Any] = {}
        try:
            os.close(read_end)
            old_tmp = _namespaces.enter()
            os.close(old_tmp)
            report = {
                "pid_ns": os.readlink("/proc/self/ns/pid_for_children"),
                "factory_closed": _namespaces._factory is None,
                **body(),
            }
        except BaseException as exc:
            report = {"error": repr(exc)}
        finally:
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    result: dict[str, Any] = json.loads(data)
    assert "error" not in result, result
    return result


def leave_a_daemon_and_a_file() -> dict[str, Any]:
    with open("/tmp/left-behind", "w") as fh:
        fh.write("secret of the previous environment")
    daemon = subprocess.Popen(["sleep", "60"], start_new_session=True)
    return {"daemon": daemon.pid, "tmp": sorted(os.listdir("/tmp"))}


def look_around() -> dict[str, Any]:
    return {"tmp": sorted(os.listdir("/tmp"))}


def look_then_leave_a_file() -> dict[str, Any]:
    seen = look_around()
    with open("/tmp/left-behind", "w") as fh:
        fh.write("secret of the previous environment")
    return seen


def test_what_an_environment_leaves_dies_with_it_and_the_next_finds_tmp_empty(
    factory: socket.socket,
) -> None:
    first = in_environment(leave_a_daemon_and_a_file)
    assert first["factory_closed"] is True  # a handler cannot ask for namespaces
    assert first["tmp"] == ["left-behind"]  # its own /tmp, not the machine's
    # The environment has exited: its setsid'd child goes with it (its pid is our
    # namespace's numbering: the environment itself is outside its PID namespace).
    assert wait_gone(first["daemon"])
    for _ in range(5):  # each later one too finds nothing of the one before
        assert in_environment(look_then_leave_a_file)["tmp"] == []


def namespace_init(pid_for_children: str) -> int:
    """The pid (ours) of PID 1 of the namespace an environment's children go to."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") != pid_for_children:
                    continue
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("NSpid:") and line.split()[-1] == "1":
                    return int(entry)
    raise AssertionError(f"no init in {pid_for_children}")


@contextlib.contextmanager
def an_environment_held() -> Iterator[str]:
    """A forked child that enters namespaces as an environment does and stays there
    while we look: its children's PID namespace; killed after."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - stays in its namespaces while we look
        os.close(read_end)
        os.close(_namespaces.enter())
        os.write(write_end, os.readlink("/proc/self/ns/pid_for_children").encode())
        time.sleep(30)
        os._exit(0)
    os.close(write_end)
    try:
        yield os.read(read_end, 100).decode()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(read_end)


def test_a_namespaces_init_is_cat_holding_a_fraction_of_an_interpreter(
    factory: socket.socket,
) -> None:
    with an_environment_held() as ns:
        init = namespace_init(ns)
        cat = shutil.which("cat", path=os.defpath) or shutil.which("cat")
        assert cat is not None, "this test needs cat (coreutils)"
        # The builder answers as soon as the init is forked; it execs cat meanwhile
        # (its arguments show once the exec has loaded cat: its exe and name before).
        cmdline = Path(f"/proc/{init}/cmdline")
        deadline = time.monotonic() + 10
        while cmdline.read_bytes() != b"lambic-ns\0":
            assert time.monotonic() < deadline, cmdline.read_bytes()
            time.sleep(0.01)
        assert os.readlink(f"/proc/{init}/exe") == os.path.realpath(cat)
        # What top, ps -o comm and pkill see: not "cat".
        assert Path(f"/proc/{init}/comm").read_text() == "lambic-ns\n"
        # An interpreter forked for it held ~1.3 MB of its own; cat ~0.15 MB.
        assert own_kb(init) < 600
    assert wait_gone(init)  # the factory saw its environment go


def test_without_cat_an_init_waits_in_an_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)  # the factory's fork sees it
    with start_factory(monkeypatch):
        with an_environment_held() as ns:
            init = namespace_init(ns)
            assert os.readlink(f"/proc/{init}/exe") == os.path.realpath(sys.executable)
        assert wait_gone(init)
        first = in_environment(leave_a_daemon_and_a_file)
        assert wait_gone(first["daemon"])
        monkeypatch.setattr(_namespaces, "_factory", None)


def test_namespaces_end_with_the_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_factory(monkeypatch) as ours, an_environment_held() as ns:
        init = namespace_init(ns)
        monkeypatch.setattr(_namespaces, "_factory", None)
        ours.close()  # as the zygote's end closes when it goes: no init outlives it
        assert wait_gone(init)


def test_environments_alive_at_once_get_namespaces_of_their_own(
    factory: socket.socket,
) -> None:
    with an_environment_held() as held:
        assert held.startswith("pid:[")
        other = in_environment(look_around)
        assert other["pid_ns"] != held


def test_without_a_factory_an_environment_builds_its_namespaces_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_namespaces, "_factory", None)
    first = in_environment(leave_a_daemon_and_a_file)
    assert first["tmp"] == ["left-behind"]
    deadline = time.monotonic() + 10
    while alive(first["daemon"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(first["daemon"])


def test_a_dead_factory_is_survived_by_building_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    theirs.close()  # as if the factory had been killed
    monkeypatch.setattr(_namespaces, "_factory", ours)
    try:
        seen = in_environment(look_around)
    finally:
        ours.close()
    assert seen["tmp"] == [] and seen["factory_closed"] is True


def test_a_multi_call_cat_is_run_by_its_own_name(tmp_path: Path) -> None:
    # busybox (Alpine's cat) picks its program by argv[0]: "lambic-ns" would be no program.
    (tmp_path / "busybox").write_text("")
    (tmp_path / "cat").symlink_to(tmp_path / "busybox")
    assert _namespaces._argv0(str(tmp_path / "cat")) == "cat"
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "cat").write_text("")
    assert _namespaces._argv0(str(tmp_path / "real" / "cat")) == "lambic-ns"
