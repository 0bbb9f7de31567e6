"""Finding 8: a handler could read the stage's state, `.lambic/config.json` (every
function's secrets) and 38 `/proc/*/environ`. Now it sees its code, its own /tmp and
its own environment only (on a kernel with Landlock and user namespaces, as here)."""

from __future__ import annotations

import http.client
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambic.runtime import _isolation

HostileCloud = Any  # conftest.HostileCloud (a conftest is not importable here)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (_isolation.facilities().landlock and _isolation.facilities().namespaces),
        reason="needs Landlock and unprivileged user namespaces (lambic local says so)",
    ),
]


def test_a_handler_cannot_open_the_state_the_config_or_files_outside_its_code(
    start_cloud: Callable[..., HostileCloud], tmp_path: Path
) -> None:
    cloud = start_cloud()
    project = cloud.project
    state = project / ".lambic" / "state" / "dev"
    assert (state / "logs.sqlite3").is_file()  # the state exists: it is refused, not absent
    home_file = Path.home() / ".lambic-isolation-test"
    home_file.write_text("private")
    try:
        paths = [
            str(project / ".lambic" / "config.json"),
            str(state / "logs.sqlite3"),
            *[str(p) for p in state.glob("*.sqlite3")],
            str(project / "app.py"),  # the project itself: the handler has its snapshot
            str(home_file),
            "/etc/hostname",  # the system stays readable, as on Lambda
        ]
        status, opened = cloud.request("POST", "/read", {"paths": paths})
    finally:
        home_file.unlink()
    assert status == 200, opened
    assert opened.pop("/etc/hostname") == "read"
    assert opened, "no protected path was tried"
    assert {path: outcome for path, outcome in opened.items() if outcome == "read"} == {}


def test_a_handler_reads_only_its_own_environment(
    start_cloud: Callable[..., HostileCloud],
) -> None:
    cloud = start_cloud()
    status, seen = cloud.request("GET", "/environ")
    assert status == 200, seen
    assert seen["secret"] == "api-secret"
    assert seen["other_secret"] is None  # another function's variable is not in ours
    # Not the other function's environment, the zygote's, lambic local's nor anyone's:
    assert seen["other_environ"] == "PermissionError"
    assert seen["readable"] == [seen["pid"]]
    assert seen["other"]["readable"] == [seen["other"]["pid"]]
    for pid in [cloud.proc.pid, *cloud.zygote_pids()]:
        assert pid not in seen["readable"]
    assert cloud.zygote_pids()


def test_each_environment_has_its_own_tmp_and_a_read_only_task_root_without_config(
    start_cloud: Callable[..., HostileCloud], tmp_path: Path
) -> None:
    cloud = start_cloud()
    outside = Path("/tmp") / f"lambic-isolation-outside-{os.getpid()}"
    outside.write_text("host /tmp")
    try:
        status, first = cloud.request("POST", "/tmp", {"name": "first"})
    finally:
        outside.unlink()
    assert status == 200, first
    assert "first" in first["tmp"]
    assert outside.name not in first["tmp"]  # the machine's /tmp is not the handler's
    assert first["task_root_write"] != "written"  # read-only, as Lambda's /var/task
    assert first["config_in_task_root"] is False
    # The same environment keeps its /tmp between invocations (a warm start)...
    status, again = cloud.request("POST", "/tmp", {"name": "second"})
    assert {"first", "second"} <= set(again["tmp"])


def _import_probe(cloud: HostileCloud) -> str | None:
    """What app.py's import-time code could open, from the CORS preflight the gateway
    answers out of the route table (read by importing app.py, not by a handler)."""
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
    try:
        headers = {"Origin": "https://x.invalid", "Access-Control-Request-Method": "GET"}
        conn.request("OPTIONS", "/import-probe", headers=headers)
        response = conn.getresponse()
        response.read()
        origin: str | None = response.getheader("Access-Control-Allow-Origin")
        return origin
    finally:
        conn.close()


def test_app_py_read_for_its_routes_is_walled_in_too(
    start_cloud: Callable[..., HostileCloud],
) -> None:
    cloud = start_cloud()
    # Refused (Landlock) or absent (the project sits under the machine's /tmp, which
    # the reader's private /tmp hides), never read:
    assert _import_probe(cloud) in {
        "https://permissionerror.invalid",
        "https://filenotfounderror.invalid",
    }, "\n".join(cloud.lines)


def test_isolation_can_be_turned_off_for_debugging(
    start_cloud: Callable[..., HostileCloud],
) -> None:
    cloud = start_cloud(env={"LAMBIC_ISOLATION": "off"})
    cloud.wait_for("Isolation is off (LAMBIC_ISOLATION=off)")
    config = cloud.project / ".lambic" / "config.json"
    status, opened = cloud.request("POST", "/read", {"paths": [str(config)]})
    assert status == 200, opened
    assert opened == {str(config): "read"}
    assert _import_probe(cloud) == "https://read.invalid"  # the probe can see a leak
