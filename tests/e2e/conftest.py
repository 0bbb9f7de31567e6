"""The trainstatus example run as the README's main command runs it: one `lambic local`.

The cloud is shared by every end-to-end test in the session (the first scheduled fire
comes a full minute after start, as on AWS, and one wait is enough). Teardown sends
SIGTERM, as a terminal's Ctrl-C or a service manager would, and fails the session if
`lambic local` exits badly or leaves any process of its tree behind.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "trainstatus"
LAMBIC = Path(sys.executable).parent / "lambic"  # the venv's console script, as the README runs it

STARTUP_TIMEOUT = 30.0
FIRST_FIRE_TIMEOUT = 100.0  # the schedule is rate(1 minute): first fire one minute after start
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat_fields(pid: int) -> list[str] | None:
    """`/proc/PID/stat` fields after the command name (state, ppid, pgrp, session...)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _live_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in _live_pids():
        fields = _stat_fields(pid)
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids still running (a zombie has exited; only its exit status is left)."""
    running = set()
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None and fields[0] != "Z":
            running.add(pid)
    return running


def in_session(session: int) -> set[int]:
    """Every live process of a session, including ones re-parented to init."""
    return {
        pid
        for pid in _live_pids()
        if (fields := _stat_fields(pid)) is not None
        and fields[0] != "Z"
        and int(fields[3]) == session
    }


class LocalCloudProcess:
    """`lambic local --project-dir DIR` (`--no-reload` unless `reload`) as a subprocess
    in its own session, run as the README runs it (the venv's console script), on free
    ports by default.

    `stop()` is SIGTERM and reports what survived; `kill_everything()` is kill -9 of
    the whole session, `lambic local` and every environment it started; `close()` is
    both, for fixtures.
    """

    def __init__(
        self,
        project_dir: Path,
        *args: str,
        port: int | None = None,
        services_port: int | None = None,
        env: dict[str, str] | None = None,
        reload: bool = False,
    ) -> None:
        self.project_dir = project_dir
        self.port = port or free_port()
        self.services_port = services_port or free_port()
        self.started = time.monotonic()
        command = [str(LAMBIC), "local", "--project-dir", str(project_dir)]
        command += ["--port", str(self.port), "--services-port", str(self.services_port)]
        self.proc = subprocess.Popen(
            [*command, *([] if reload else ["--no-reload"]), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own session, so we can find every process it starts
            env=env if env is not None else subprocess_environment(),
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def services_url(self) -> str:
        return f"http://127.0.0.1:{self.services_port}"

    def _read(self) -> None:
        if self.proc.stdout is None:
            return
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """The first output line containing `text`; fails if `lambic local` exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"{text!r} did not appear; lambic local said:\n{self.output()}")

    def client(self, service: str) -> Any:
        """An unchanged boto3 client of the local services (no retries hide errors)."""
        return boto3.client(
            service,
            endpoint_url=self.services_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 0}, read_timeout=30),
        )

    def get(self, path: str, *, port: int | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=15)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            conn.close()

    def get_json(self, path: str) -> tuple[int, Any]:
        status, _, body = self.get(path)
        return status, json.loads(body)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One JSON request to the gateway: (status, decoded body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def stop(self) -> tuple[int | None, set[int]]:
        """SIGTERM; the exit code (None if it hung) and any process of its tree still alive."""
        tree = descendants(self.proc.pid)
        code: int | None = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + 5
        survivors = alive(tree) | in_session(self.proc.pid)
        while survivors and time.monotonic() < deadline:
            time.sleep(0.1)
            survivors = alive(tree) | in_session(self.proc.pid)
        return code, survivors

    def kill_everything(self) -> None:
        for pid in alive(descendants(self.proc.pid)) | in_session(self.proc.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def close(self) -> None:
        self.stop()
        self.kill_everything()


def subprocess_environment() -> dict[str, str]:
    """The developer's environment with dummy credentials (the local services accept any)."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="e2e",
        AWS_SECRET_ACCESS_KEY="e2e",
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("AWS_PROFILE", None)
    return env


def copy_example(target: Path) -> Path:
    """The example as a user's fresh checkout has it: no state, no caches."""
    shutil.copytree(
        EXAMPLE,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "state", "deployed", "logs"),
    )
    return target


@pytest.fixture(scope="session")
def trainstatus_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("e2e") / "trainstatus")


@pytest.fixture(scope="session")
def trainstatus_cloud(trainstatus_project: Path) -> Iterator[LocalCloudProcess]:
    """`lambic local` on a copy of the example, serving; stopped with SIGTERM at the end."""
    cloud = LocalCloudProcess(trainstatus_project)
    try:
        cloud.wait_for("Press Ctrl-C to stop.", STARTUP_TIMEOUT)
    except BaseException:
        cloud.kill_everything()
        raise
    yield cloud
    code, survivors = cloud.stop()
    if code is None or survivors:
        cloud.kill_everything()
    else:
        cloud._reader.join(timeout=10)
        if cloud.proc.stdout is not None:
            cloud.proc.stdout.close()
    assert code == 0, f"lambic local exited {code} on SIGTERM:\n{cloud.output()}"
    assert not survivors, f"processes of lambic local survived SIGTERM: {sorted(survivors)}"


@pytest.fixture(scope="session")
def first_fire(trainstatus_cloud: LocalCloudProcess) -> str:
    """The log line of the schedule's first completed fire (bounded by FIRST_FIRE_TIMEOUT)."""
    line = trainstatus_cloud.wait_for(
        "[event] schedule -> update_status",
        trainstatus_cloud.started + FIRST_FIRE_TIMEOUT - time.monotonic(),
    )
    assert " ok " in line, f"the first fire failed: {line}\n{trainstatus_cloud.output()}"
    return line


@pytest.fixture(scope="session")
def trainstatus_aws(trainstatus_cloud: LocalCloudProcess) -> Any:
    """`trainstatus_aws("s3")`: a boto3 client for the local services, as user code builds."""

    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=trainstatus_cloud.services_url,
            region_name="us-east-1",
            aws_access_key_id="e2e",
            aws_secret_access_key="e2e",
            config=Config(retries={"max_attempts": 0}),
        )

    return make


@pytest.fixture(scope="session")
def lambic_cli() -> Any:
    """`lambic_cli("invoke", "-n", "f", ...)`: the venv's `lambic` CLI, bounded, output captured."""

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LAMBIC), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=subprocess_environment(),
            check=False,
        )

    return run


# --- helpers the other end-to-end modules share (`from .conftest import ...`) ---


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll `condition` every 50 ms until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")


def recorded(out: Path, kind: str) -> list[dict[str, Any]]:
    """What the test apps' handlers appended to `out/<kind>.jsonl`, oldest first."""
    path = out / f"{kind}.jsonl"
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        # A line may be half written when the process was killed: skip it.
        with contextlib.suppress(ValueError):
            lines.append(json.loads(line))
    return lines


# --- a real browser for the pages (the flagship's, the console) ---

HOW_TO_INSTALL_CHROMIUM = (
    "run ./scripts/test as root (it installs them), or "
    "`sudo apt-get update && sudo apt-get install -y chromium chromium-driver`"
)


def _find_program(names: tuple[str, ...], fallbacks: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((path for path in fallbacks if Path(path).is_file()), None)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium (Debian's, with its chromedriver: Selenium never downloads one)
    with a fresh profile and a laptop-sized window; a test emulating a phone sets (and
    clears) its device metrics itself. A missing browser fails at once, before any wait."""
    binary = _find_program(("chromium", "chromium-browser"), ("/usr/lib/chromium/chromium",))
    driver_path = _find_program(("chromedriver",), ("/usr/lib/chromium/chromedriver",))
    if binary is None or driver_path is None:
        missing = " and ".join(
            name
            for name, path in (("chromium", binary), ("chromedriver", driver_path))
            if path is None
        )
        pytest.fail(
            f"The browser tests need Debian's Chromium; {missing} not found: "
            + HOW_TO_INSTALL_CHROMIUM
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("The browser tests need selenium: .venv/bin/pip install -e '.[dev]'")

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
