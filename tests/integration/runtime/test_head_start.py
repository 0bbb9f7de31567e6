"""`lambic local` binds its port and starts its zygote before its heavy imports
(`runtime.head_start`); `LocalCloud` takes both over, or closes them if it fails."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import urllib.request
from pathlib import Path

import pytest

from lambic._sockets import PortInUseError
from lambic.runtime.errors import ProjectError
from lambic.runtime.head_start import head_start
from lambic.runtime.local import LocalCloud

pytestmark = pytest.mark.slow

APP = """
from lambic import Lambic

app = Lambic(app_name="early")


@app.route("/")
def index():
    return {"hello": "early"}
"""


def _children() -> set[int]:
    pid = os.getpid()
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found.update(int(child) for child in fh.read().split())
        except FileNotFoundError:
            continue  # a thread that ended since the listing has no children to report
    return found


def _project(root: Path, app: str | None = APP) -> Path:
    (root / ".lambic").mkdir(parents=True)
    (root / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "early", "stages": {"dev": {}}})
    )
    if app is not None:
        (root / "app.py").write_text(app)
    return root


def test_a_port_in_use_fails_before_any_process_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = _children()
        with pytest.raises(PortInUseError, match="--port"):
            head_start(_project(tmp_path), "dev", "127.0.0.1", port)
        assert _children() == before


def test_the_cloud_serves_on_the_early_socket_from_the_early_zygote(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj")
    head = head_start(project, "dev", "127.0.0.1", 0)
    port = head.sock.getsockname()[1]
    lines: list[str] = []
    cloud = LocalCloud(project, port=port, reload=False, echo=lines.append, head_start=head)

    async def scenario() -> tuple[int, bytes]:
        await cloud.start()
        try:
            assert cloud.invoker is not None and cloud.invoker.zygote.pid == head.zygote.pid
            with await asyncio.to_thread(urllib.request.urlopen, f"http://127.0.0.1:{port}/") as r:
                return r.status, r.read()
        finally:
            await cloud.stop()

    status, body = asyncio.run(scenario())
    assert (status, json.loads(body)) == (200, {"hello": "early"})
    assert any(line.startswith("Serving early (stage dev) on http://127.0.0.1:") for line in lines)
    assert head.zygote.dead and not os.path.exists(f"/proc/{head.zygote.pid}")


def test_a_failed_start_closes_the_early_socket_and_zygote(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", app=None)
    head = head_start(project, "dev", "127.0.0.1", 0)
    cloud = LocalCloud(project, reload=False, echo=lambda line: None, head_start=head)
    with pytest.raises(ProjectError, match=r"No app\.py"):
        asyncio.run(cloud.start())
    assert head.sock.fileno() == -1
    assert not os.path.exists(f"/proc/{head.zygote.pid}")
