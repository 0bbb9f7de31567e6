"""Finding 9: a handler's child started with `start_new_session=True` outlived
`lambic local`. Now every process a handler starts (a new session, a double-forked
daemon) ends with its environment: on shutdown (SIGTERM, SIGINT, even kill -9 of
`lambic local` alone), idle scale-down, a timeout, an out-of-memory kill and a reload.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from lambic.runtime import _isolation

HostileCloud = Any  # conftest.HostileCloud (a conftest is not importable here)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not _isolation.facilities().namespaces,
        reason="needs unprivileged user namespaces (lambic local says so)",
    ),
]


def _leave_children(cloud: HostileCloud, then: str | None = None) -> str:
    token = f"orphan-{uuid.uuid4().hex}"
    if then is None:
        status, body = cloud.request("POST", "/spawn", {"token": token})
        assert status == 200, body
    else:  # the environment is killed after it started them: nobody gets an answer
        cloud.request_in_background("POST", "/spawn", {"token": token, "then": then})
    # Both children are running: one in a new session, one double-forked.
    assert wait(cloud, lambda: len(cloud.processes_with(token)) == 2, 10)
    return token


def wait(cloud: HostileCloud, condition: Callable[[], bool], timeout: float) -> bool:
    return bool(cloud.wait_until(condition, timeout))


def gone(cloud: HostileCloud, token: str, timeout: float = 15) -> bool:
    return wait(cloud, lambda: not cloud.processes_with(token), timeout)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_children_end_when_lambic_local_stops(
    start_cloud: Callable[..., HostileCloud], sig: int
) -> None:
    cloud = start_cloud()
    token = _leave_children(cloud)
    cloud.stop(sig)  # SIGKILL: lambic local alone, not its session
    assert gone(cloud, token, 10), cloud.processes_with(token)


def test_children_end_when_an_idle_environment_is_reclaimed(
    start_cloud: Callable[..., HostileCloud],
) -> None:
    cloud = start_cloud(idle_timeout_seconds=1)
    token = _leave_children(cloud)
    assert gone(cloud, token), cloud.processes_with(token)
    assert cloud.proc.poll() is None  # lambic local itself still serves


def test_children_end_when_the_handler_times_out(
    start_cloud: Callable[..., HostileCloud],
) -> None:
    cloud = start_cloud()
    token = _leave_children(cloud, then="hang")  # lambda_timeout is 3 s
    assert gone(cloud, token), cloud.processes_with(token)


def test_children_end_when_the_handler_runs_out_of_memory(
    start_cloud: Callable[..., HostileCloud],
) -> None:
    cloud = start_cloud()
    token = _leave_children(cloud, then="balloon")  # lambda_memory_size is 128 MB
    assert gone(cloud, token), cloud.processes_with(token)


def test_children_end_when_a_reload_retires_their_environment(
    start_cloud: Callable[..., HostileCloud],
) -> None:
    cloud = start_cloud()  # watching for changes
    token = _leave_children(cloud)
    app = cloud.project / "app.py"
    app.write_text(app.read_text() + "\n# edited\n")
    cloud.wait_for("Reloaded after changes to app.py")
    assert gone(cloud, token), cloud.processes_with(token)
