"""A `lambic local` of a project run as a real subprocess, for tests.

`LocalCloudProcess` starts `python -m lambic local` on free loopback ports in its own
session, collects its output, knows its URLs (the gateway, the services edge, a
WebSocket endpoint when the banner or the stage's endpoint file names one), reads a
function's log lines from the stage's log store, waits for invocations and event
deliveries, and stops the whole process tree. The pytest plugin's `lambic_local`
fixture and the project's own end-to-end tests use it.

    cloud = LocalCloudProcess(Path("myapp")).start()
    cloud.get("/hello")                      # (200, headers, b'{"hello":"world"}')
    cloud.wait_for_invocation("on_upload")   # the function's log lines, once it ran
    cloud.close()

Only the standard library at import time: pytest loads the plugin, and so this module,
in every test session of a project that installed Lambic; boto3 and the runtime's
modules are imported by the helpers that need them.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["READY_LINE", "LocalCloudError", "LocalCloudProcess", "free_port"]

#: The last line of `lambic local`'s banner: everything has started.
READY_LINE = "Press Ctrl-C to stop."
#: Where `lambic local` keeps a stage's state, relative to the project.
_STATE = Path(".lambic") / "state"
_WEBSOCKET_URL = re.compile(r"\bwss?://[^\s)'\"]+")
#: A function's platform line that ends each invocation (Lambda's REPORT).
_REPORT = "REPORT RequestId: "
#: The log stream that holds a function's event delivery lines (runtime.live_event_sources).
_EVENTS_STREAM = "lambic/events"


class LocalCloudError(RuntimeError):
    """`lambic local` did not start, or exited; the message carries its output."""


def free_port() -> int:
    """A loopback port nobody listens on right now (the caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat_fields(pid: int) -> list[str] | None:
    """`/proc/PID/stat` after the command name (state, ppid, pgrp, session...)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def session_processes(session: int) -> set[int]:
    """Every live (not zombie) process of a session, including re-parented ones."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and fields[0] != "Z" and int(fields[3]) == session:
                found.add(int(entry))
    return found


class LocalCloudProcess:
    """`lambic local --project-dir DIR --no-reload` as a subprocess on free ports.

    `start()` waits for the banner; `stop()` is SIGTERM (what Ctrl-C does) and returns
    the exit code and any process of its session still alive; `close()` also kills
    whatever survived. Nothing outlives `close()`.
    """

    def __init__(
        self,
        project_dir: Path,
        *args: str,
        stage: str = "dev",
        port: int | None = None,
        services_port: int | None = None,
        env: Mapping[str, str] | None = None,
        reload: bool = False,
        command: tuple[str, ...] = (sys.executable, "-m", "lambic"),
    ) -> None:
        self.project_dir = project_dir.resolve()
        self.stage = stage
        self.port = port or free_port()
        self.services_port = services_port or free_port()
        self.args = args
        self.env = dict(env if env is not None else os.environ)
        self.reload = reload
        self.command = command
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self.started = time.monotonic()

    # ---------------------------------------------------------------- lifecycle

    def launch(self) -> LocalCloudProcess:
        """Start the process without waiting for it to serve."""
        command = [*self.command, "local", "--project-dir", str(self.project_dir)]
        command += ["--stage", self.stage, "--port", str(self.port)]
        command += ["--services-port", str(self.services_port)]
        if not self.reload:
            command.append("--no-reload")
        env = dict(self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [*command, *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            # Its own session: every process it starts can be found and stopped.
            start_new_session=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, name="lambic-local-output", daemon=True)
        self._reader.start()
        return self

    def start(self, timeout: float = 60.0) -> LocalCloudProcess:
        """Start and wait until everything serves; on failure nothing is left running."""
        self.launch()
        try:
            self.wait_for(READY_LINE, timeout)
        except BaseException:
            self.kill_everything()
            raise
        return self

    def _read(self) -> None:
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> tuple[int | None, set[int]]:
        """SIGTERM; (exit code or None if it hung, pids of its session still alive)."""
        proc = self.proc
        if proc is None:
            return None, set()
        code: int | None = None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            code = proc.wait(timeout=timeout)
        deadline = time.monotonic() + 5
        survivors = session_processes(proc.pid)
        while survivors and time.monotonic() < deadline:
            time.sleep(0.05)
            survivors = session_processes(proc.pid)
        return code, survivors

    def kill_everything(self) -> None:
        """kill -9 of `lambic local` and every process of its session."""
        proc = self.proc
        if proc is None:
            return
        # `lambic local` itself first: it holds the services and records what each
        # invocation did. An environment killed before it would be seen dying (a
        # function error: with no retries left, its event goes to the dead-letter
        # queue, durably) if this process were preempted between two kills.
        with contextlib.suppress(OSError):
            proc.kill()
        for pid in session_processes(proc.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def close(self) -> tuple[int | None, set[int]]:
        """`stop()`, then kill whatever survived; returns what `stop()` found."""
        result = self.stop()
        self.kill_everything()
        return result

    # ---------------------------------------------------------------- where it serves

    @property
    def url(self) -> str:
        """The gateway (API Gateway's stage URL): `http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def services_url(self) -> str:
        """The local AWS services' edge: what AWS_ENDPOINT_URL is set to."""
        return f"http://127.0.0.1:{self.services_port}"

    @property
    def state_dir(self) -> Path:
        return self.project_dir / _STATE / self.stage

    @property
    def websocket_url(self) -> str | None:
        """A WebSocket endpoint's URL when the app has one: the first `ws://` or `wss://`
        URL of the stage's endpoint file, else of the banner; None when there is none."""
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((self.state_dir / "local.json").read_text("utf-8"))
            if isinstance(data, dict):
                for value in data.values():
                    if isinstance(value, str) and _WEBSOCKET_URL.fullmatch(value):
                        return value
        for line in list(self.lines):
            if READY_LINE in line:
                break
            match = _WEBSOCKET_URL.search(line)
            if match:
                return match.group(0).rstrip(".,")
        return None

    # ---------------------------------------------------------------- output and logs

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """The first output line containing `text`; fails if `lambic local` exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            reader = self._reader
            if not self.running and (reader is None or not reader.is_alive()):
                raise LocalCloudError(
                    f"lambic local exited before printing {text!r}:\n{self.output()}"
                )
            time.sleep(0.01)
        raise LocalCloudError(f"{text!r} did not appear within {timeout} s:\n{self.output()}")

    def log_lines(self, function: str, *, stream: str | None = None) -> list[str]:
        """A function's log lines so far (app.py's short name or the deployed name),
        oldest first: START/END/REPORT, its output, and its event delivery lines."""
        from lambic.project.config import load_config
        from lambic.runtime.logstore import iter_events, resolve_log_group

        db = self.state_dir / "logs.sqlite3"
        if not db.exists():
            return []
        app_name = load_config(self.project_dir).app_name
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            group = resolve_log_group(conn, function, app_name, self.stage)
            if group is None:
                return []
            return [
                event.message
                for event in iter_events(conn, group)
                if stream is None or event.log_stream == stream
            ]
        except sqlite3.OperationalError:  # the writer has not created the tables yet
            return []
        finally:
            conn.close()

    def invocations(self, function: str) -> int:
        """How many invocations of `function` have finished (its REPORT lines)."""
        return sum(line.startswith(_REPORT) for line in self.log_lines(function))

    def deliveries(self, function: str) -> list[str]:
        """The event deliveries to `function` so far, one line each
        (`[event] s3:bucket -> on_upload <request id> ok 3.1 ms`)."""
        return self.log_lines(function, stream=_EVENTS_STREAM)

    def wait_for_invocation(
        self, function: str, *, count: int = 1, timeout: float = 30.0
    ) -> list[str]:
        """Wait until `count` invocations of `function` have finished; its log lines."""
        return self._wait(
            lambda: self.invocations(function) >= count,
            lambda: self.log_lines(function),
            f"{count} invocation(s) of {function}",
            timeout,
        )

    def wait_for_delivery(
        self, function: str, *, count: int = 1, timeout: float = 30.0
    ) -> list[str]:
        """Wait until `count` events were delivered to `function`; the delivery lines."""
        return self._wait(
            lambda: len(self.deliveries(function)) >= count,
            lambda: self.deliveries(function),
            f"{count} event deliver(ies) to {function}",
            timeout,
        )

    def _wait(self, done: Any, result: Any, what: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                lines: list[str] = result()
                return lines
            if not self.running:
                raise LocalCloudError(f"lambic local exited waiting for {what}:\n{self.output()}")
            time.sleep(0.05)
        raise LocalCloudError(f"No {what} within {timeout} s; lambic local said:\n{self.output()}")

    # ---------------------------------------------------------------- talking to it

    def get(
        self, path: str, *, port: int | None = None, timeout: float = 30.0
    ) -> tuple[int, dict[str, str], bytes]:
        """GET `path` from the gateway (or another port of it): (status, lower-cased
        headers, body)."""
        return self.request_raw("GET", path, port=port, timeout=timeout)

    def request_raw(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            response = conn.getresponse()
            found = {name.lower(): value for name, value in response.getheaders()}
            return response.status, found, response.read()
        finally:
            conn.close()

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One JSON request to the gateway: (status, decoded JSON body)."""
        payload = None if body is None else json.dumps(body).encode("utf-8")
        status, _, data = self.request_raw(
            method, path, payload, {"Content-Type": "application/json"}
        )
        return status, json.loads(data)

    def get_json(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def client(self, service: str, **kwargs: Any) -> Any:
        """An unchanged boto3 client of the local services (no retries hide errors)."""
        import boto3
        from botocore.config import Config

        from lambic.project.account import LOCAL_ACCESS_KEY, LOCAL_REGION

        kwargs.setdefault("config", Config(retries={"max_attempts": 0}, read_timeout=30))
        return boto3.client(
            service,
            endpoint_url=self.services_url,
            region_name=LOCAL_REGION,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_ACCESS_KEY,
            **kwargs,
        )
