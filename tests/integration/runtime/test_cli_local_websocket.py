"""`lambic local` on an app with WebSocket handlers: the banner names the WebSocket URL."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[2] / "apps" / "websocket_echo"


def _port_pair() -> int:
    """A free port whose successor is free too."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port: int = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two adjacent free ports")


def test_websocket_port_defaults_to_the_next_one_and_is_in_the_banner(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(APP, project)
    (tmp_path / "out").mkdir()
    port = _port_pair()
    with socket.socket() as services:
        services.bind(("127.0.0.1", 0))
        services_port = services.getsockname()[1]
    env = {**os.environ, "OUT_DIR": str(tmp_path / "out"), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "lambic", "local", "--project-dir", str(project)]
    command += ["--port", str(port), "--services-port", str(services_port), "--no-reload"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if "Press Ctrl-C to stop." in line:
                break
        expected = f"WebSocket: ws://127.0.0.1:{port + 1} (stage 'api'; @connections at "
        assert any(line.startswith(expected) for line in lines), lines
        assert any("websocket_message (websocket)" in line for line in lines), lines
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0, lines
