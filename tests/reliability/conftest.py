"""Fixtures for the reliability suite (issue 18): the HTTP edges and `lambic local`
under hostile clients and hostile handlers, on real sockets and real processes.

Each test reproduces one finding against a real server: the services' edge
(`EdgeServer` over real SQLite state) or the gateway (`LocalCloud` with a small app and
real execution environments). Raw sockets (`reliability_wire`) let a test send what no
SDK would: a lying Content-Length, a slow-loris head, a 1 MB header.

`HostileCloud` runs `lambic local` on a copy of tests/apps/hostile_handlers in its own
session, on free ports, and finds processes by a token in their command line (a
handler's children live in their environment's PID namespace, so their pids as the
handler sees them mean nothing here).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The suite's helper module sits next to this file (as tests/examples does).
sys.path.insert(0, str(Path(__file__).parent))

from reliability_wire import make_edge

from lambic._cloud_process import free_port
from lambic.services.server import EdgeServer


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[EdgeServer]:
    """The services' edge with state on disk and the shipped limits."""
    server = make_edge(tmp_path / "state")
    yield server
    server.stop()


REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "apps" / "hostile_handlers"
LAMBIC = Path(sys.executable).parent / "lambic"


def _live_processes(entry: str, matches: Callable[[bytes], bool]) -> set[int]:
    """Live (not zombie) processes whose /proc/PID/`entry` file `matches`."""
    found = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/{entry}", "rb") as fh:
                content = fh.read()
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if matches(content) and state != "Z":
            found.add(int(pid))
    return found


def processes_named(name: str) -> set[int]:
    """Live processes whose name (/proc/PID/comm) is `name`."""
    return _live_processes("comm", lambda comm: comm.strip() == name.encode())


def processes_with(token: str) -> set[int]:
    """Live processes whose command line contains `token`."""
    return _live_processes("cmdline", lambda cmdline: token.encode() in cmdline)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class HostileCloud:
    def __init__(self, project: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.project = project
        self.port = free_port()
        command = [str(LAMBIC), "local", "--project-dir", str(project), "--port", str(self.port)]
        command += ["--services-port", str(free_port()), *args]
        environment = dict(os.environ, AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t")
        environment.update(env or {})
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            env=environment,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for("Serving ")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(
            f"{text!r} did not appear; lambic local said:\n" + "\n".join(self.lines)
        )

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, raw.decode("utf-8", "replace")
        finally:
            conn.close()

    # The module's helpers, for test modules (a conftest cannot be imported from them).
    processes_with = staticmethod(processes_with)
    wait_until = staticmethod(wait_until)

    def request_in_background(self, method: str, path: str, body: Any = None) -> threading.Thread:
        """A request whose answer nobody waits for (the environment will be killed)."""
        thread = threading.Thread(target=self.request, args=(method, path, body), daemon=True)
        thread.start()
        return thread

    def zygote_pids(self) -> set[int]:
        """This cloud's zygotes: lambic local's children (environments are forks of them
        and share their command line)."""
        zygotes = set()
        for pid in processes_with("lambic.runtime._zygote_main") | processes_named("lambic-zygote"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
                if int(fh.read().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    zygotes.add(pid)
        return zygotes

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def copy_app(target: Path, **local: Any) -> Path:
    """The hostile app, with `local` settings (e.g. idle_timeout_seconds) in its config."""
    shutil.copytree(APP, target, ignore=shutil.ignore_patterns("__pycache__", "state"))
    # What app.py tries to open while it is imported (for its routes, and in each
    # environment): this copy's config, by its absolute path.
    (target / "import_probe.txt").write_text(str(target / ".lambic" / "config.json"))
    if local:
        config_file = target / ".lambic" / "config.json"
        config = json.loads(config_file.read_text())
        config["local"] = local
        config_file.write_text(json.dumps(config))
    return target


@pytest.fixture()
def start_cloud(tmp_path: Path) -> Iterator[Callable[..., HostileCloud]]:
    """Start `lambic local` on a fresh copy of the hostile app; everything is stopped after."""
    clouds: list[HostileCloud] = []

    def start(*args: str, env: dict[str, str] | None = None, **local: Any) -> HostileCloud:
        project = copy_app(tmp_path / f"hostile{len(clouds)}", **local)
        clouds.append(HostileCloud(project, *args, env=env))
        return clouds[-1]

    yield start
    for cloud in clouds:
        cloud.close()
