"""`lambic local` starts its zygote's process before the CLI's imports
(`runtime._zygote_launch.launch_ahead`); `head_start` adopts it, or stops it when the
port is taken, and any other command starts none."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lambic._sockets import PortInUseError
from lambic.runtime import _zygote_launch
from lambic.runtime._zygote_launch import is_local_command, launch_ahead, take_ahead
from lambic.runtime.head_start import head_start

pytestmark = pytest.mark.slow

MAIN = os.path.join("site-packages", "lambic", "__main__.py")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/venv/bin/lambic", "local"], True),
        (["/venv/bin/lambic", "local", "--port", "9000", "--no-reload"], True),
        ([f"/venv/lib/python3.11/{MAIN}", "local"], True),
        (["/venv/bin/lambic", "local", "--help"], False),
        (["/venv/bin/lambic", "local", "-h"], False),
        (["/venv/bin/lambic", "services"], False),
        (["/venv/bin/lambic"], False),
        (["/venv/bin/pytest", "local"], False),
    ],
)
def test_only_lambic_local_starts_its_zygote_ahead(argv: list[str], expected: bool) -> None:
    assert is_local_command(argv) is expected


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _project(root: Path) -> Path:
    (root / ".lambic").mkdir(parents=True)
    (root / ".lambic" / "config.json").write_text('{"version": "2.0", "app_name": "early"}')
    return root


def test_head_start_adopts_the_zygote_started_ahead(tmp_path: Path) -> None:
    launch_ahead(["/venv/bin/lambic", "local"])
    ahead = _zygote_launch._ahead
    assert ahead is not None
    head = head_start(_project(tmp_path), "dev", "127.0.0.1", 0)
    try:
        assert head.zygote.pid == ahead.proc.pid
        assert take_ahead() is None  # taken once
    finally:
        head.sock.close()
        if head.log_writer is not None:
            head.log_writer.close()
        head.zygote._ctrl.close()
        ahead.proc.wait(timeout=30)


def test_a_port_in_use_stops_the_zygote_started_ahead(tmp_path: Path) -> None:
    launch_ahead(["/venv/bin/lambic", "local"])
    ahead = _zygote_launch._ahead
    assert ahead is not None and _alive(ahead.proc.pid)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(PortInUseError, match="--port"):
            head_start(_project(tmp_path), "dev", "127.0.0.1", taken.getsockname()[1])
    assert ahead.proc.returncode is not None and not _alive(ahead.proc.pid)
    assert take_ahead() is None


def test_lambic_local_with_a_port_in_use_leaves_no_process(tmp_path: Path) -> None:
    """End to end: the CLI started its zygote ahead, failed on the port, and exited
    with the port's error and no process left behind in its session."""
    project = _project(tmp_path)
    (project / "app.py").write_text("from lambic import Lambic\napp = Lambic('early')\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "lambic", "local", "--port", str(port), "--no-reload"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert b"--port" in output
    session = [
        entry
        for entry in os.listdir("/proc")
        if entry.isdigit() and _session_of(int(entry)) == proc.pid and _alive(int(entry))
    ]
    assert session == []


def _session_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[4])
    except (FileNotFoundError, ProcessLookupError):
        return None
