"""The trainstatus example run as the README's main command runs it: one `lambic local`.

The cloud is shared by every end-to-end test in the session (the first scheduled fire
comes a full minute after start, as on AWS, and one wait is enough). Teardown sends
SIGTERM, as a terminal's Ctrl-C or a service manager would, and fails the session if
`lambic local` exits badly or leaves any process of its tree behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambic import _cloud_process
from lambic.runtime._isolation import ALLOW

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "trainstatus"
LAMBIC = Path(sys.executable).parent / "lambic"  # the venv's console script, as the README runs it

STARTUP_TIMEOUT = 30.0
FIRST_FIRE_TIMEOUT = 100.0  # the schedule is rate(1 minute): first fire one minute after start
STOP_TIMEOUT = 30.0

free_port = _cloud_process.free_port


class LocalCloudProcess(_cloud_process.LocalCloudProcess):
    """`lambic local --project-dir DIR` (`--no-reload` unless `reload`), started at once,
    as the README runs it (the venv's console script), in its own session, on free
    ports by default: the pytest plugin's machinery (`lambic._cloud_process`).

    `stop()` is SIGTERM and reports what survived; `kill_everything()` is kill -9 of
    the whole session; `close()` is both, for fixtures.
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
        super().__init__(
            project_dir,
            *args,
            port=port,
            services_port=services_port,
            env=env if env is not None else subprocess_environment(),
            reload=reload,
            command=(str(LAMBIC),),
        )
        self.launch()


@contextlib.contextmanager
def websocket_cloud(project: Path) -> Iterator[LocalCloudProcess]:
    """`lambic local --ws-port <free port>` on `project`, ready to serve. Leaving it sends
    SIGTERM: `lambic local` must exit 0 and leave no process of its tree behind."""
    cloud = LocalCloudProcess(project, "--ws-port", str(free_port()))
    try:
        cloud.wait_for("Press Ctrl-C to stop.", 60)
        yield cloud
    finally:
        code, survivors = cloud.stop()
        cloud.kill_everything()
        assert code == 0, cloud.output()
        assert not survivors


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
        cloud.wait_for(_cloud_process.READY_LINE, STARTUP_TIMEOUT)
    except BaseException:
        cloud.kill_everything()
        raise
    yield cloud
    code, survivors = cloud.close()
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


@pytest.fixture(scope="session", autouse=True)
def _handlers_may_write_test_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Handlers here record what they received in `$OUT_DIR`, under pytest's base temp
    directory: isolated environments may write there (protected paths stay hidden)."""
    os.environ[ALLOW] = str(tmp_path_factory.getbasetemp())
    yield
    os.environ.pop(ALLOW, None)
