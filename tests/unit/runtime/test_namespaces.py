"""`_namespaces`: environments joining the factory's namespaces, reapers recycled
between environments (what one left behind is killed, /tmp is emptied), and the
fallback when there is no factory. Real forks, real namespaces (where permitted)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lambic.runtime import _isolation, _namespaces
from tests._support.processes import alive

pytestmark = pytest.mark.skipif(
    not _isolation.facilities().namespaces, reason="needs unprivileged user namespaces"
)


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A factory forked from this process (as the zygote forks one), closed after."""
    monkeypatch.setattr(_namespaces, "_factory", None)
    _namespaces.start_factory()
    ours = _namespaces._factory
    assert ours is not None
    yield ours
    monkeypatch.setattr(_namespaces, "_factory", None)
    ours.close()  # the factory exits on EOF, and its idle reapers with it


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


def test_a_recycled_reaper_kills_what_the_last_environment_left_and_empties_tmp(
    factory: socket.socket,
) -> None:
    first = in_environment(leave_a_daemon_and_a_file)
    assert first["factory_closed"] is True  # a handler cannot ask for namespaces
    assert first["tmp"] == ["left-behind"]  # its own /tmp, not the machine's
    # The environment has exited: its setsid'd child goes with it (its pid is our
    # namespace's numbering: the environment itself is outside its PID namespace).
    deadline = time.monotonic() + 10
    while alive(first["daemon"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(first["daemon"])
    # A later environment gets a reaper back (nothing forked) with a clean /tmp. While
    # a reaper is still clearing, the factory builds another: every environment here
    # leaves a file, so a recycled one must have found /tmp empty whichever it got.
    seen = {first["pid_ns"]}
    for _ in range(100):
        later = in_environment(look_then_leave_a_file)
        if later["pid_ns"] in seen:
            break
        seen.add(later["pid_ns"])
        time.sleep(0.05)
    else:
        pytest.fail("no reaper was used twice")
    assert later["tmp"] == []


def test_environments_alive_at_once_get_namespaces_of_their_own(
    factory: socket.socket,
) -> None:
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
        held = os.read(read_end, 100).decode()
        assert held.startswith("pid:[")
        other = in_environment(look_around)
        assert other["pid_ns"] != held
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(read_end)


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
