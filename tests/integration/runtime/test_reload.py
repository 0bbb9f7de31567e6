"""Hot reload under `lambic local`: edits take effect, broken code never takes over."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests._support.clouds import RunningCloud

pytestmark = pytest.mark.slow

APP = """
import time

from lambic import Lambic
from chalicelib.greeting import GREETING

app = Lambic(app_name="hot")


@app.route("/")
def index():
    return {"version": VERSION, "greeting": GREETING}


@app.route("/slow")
def slow():
    time.sleep(1.0)
    return {"version": VERSION}


VERSION = 1
"""


def get(cloud: RunningCloud, path: str) -> Any:
    """The JSON of a 200 answer to GET `path`."""
    reply = cloud.request("GET", path, timeout=20)
    assert reply.status == 200, reply.body
    return reply.json()


def write(path: Path, text: str) -> None:
    # Bump the mtime past the filesystem's resolution, so the edit is always seen.
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    new = max(path.stat().st_mtime_ns, old + 1_000_000)
    os.utime(path, ns=(new, new))


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[RunningCloud]:
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "hot", "stages": {"dev": {}}})
    )
    (tmp_path / "chalicelib").mkdir()
    (tmp_path / "chalicelib" / "__init__.py").write_text("")
    (tmp_path / "chalicelib" / "greeting.py").write_text('GREETING = "hello"\n')
    (tmp_path / "app.py").write_text(APP)
    with RunningCloud(tmp_path, reload=True, reload_interval=0.05) as running:
        yield running


def wait_until(
    cloud: RunningCloud, path: str, expected: dict[str, Any], timeout: float = 15
) -> None:
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = get(cloud, path)
        if got == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"still {got}, wanted {expected}; output: {cloud.lines}")


def test_an_edit_to_app_py_serves_the_new_code_on_the_next_request(cloud: RunningCloud) -> None:
    assert get(cloud, "/") == {"version": 1, "greeting": "hello"}
    app_py = cloud.cloud.project_dir / "app.py"

    write(app_py, APP.replace("VERSION = 1", "VERSION = 2"))

    wait_until(cloud, "/", {"version": 2, "greeting": "hello"})
    cloud.wait_for_line(r"Reloaded after changes to app\.py", timeout=15)


def test_an_edit_to_an_imported_module_is_picked_up(cloud: RunningCloud) -> None:
    assert get(cloud, "/")["greeting"] == "hello"

    write(cloud.cloud.project_dir / "chalicelib" / "greeting.py", 'GREETING = "bonjour"\n')

    wait_until(cloud, "/", {"version": 1, "greeting": "bonjour"})


def test_a_syntax_error_is_reported_and_the_last_good_code_keeps_serving(
    cloud: RunningCloud,
) -> None:
    app_py = cloud.cloud.project_dir / "app.py"

    write(app_py, APP + "\ndef broken(:\n")

    line = cloud.wait_for_line(r"Reload failed", timeout=15)
    assert re.search(r"app\.py:\d+", line), line
    assert get(cloud, "/") == {"version": 1, "greeting": "hello"}

    write(app_py, APP.replace("VERSION = 1", "VERSION = 3"))

    wait_until(cloud, "/", {"version": 3, "greeting": "hello"})


def test_in_flight_requests_finish_on_the_old_code_during_a_reload(cloud: RunningCloud) -> None:
    get(cloud, "/")
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(get, cloud, "/slow")
        time.sleep(0.2)
        write(cloud.cloud.project_dir / "app.py", APP.replace("VERSION = 1", "VERSION = 2"))
        cloud.wait_for_line(r"Reloaded", timeout=15)
        after = get(cloud, "/")
        assert slow.result(timeout=20) == {"version": 1}

    assert after["version"] == 2
