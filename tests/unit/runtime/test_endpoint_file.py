"""The endpoint file and the services lock: who serves a stage's local services."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lambic.runtime.endpoint_file import (
    LocalEndpoint,
    ServicesLock,
    live_endpoint,
    read_endpoint,
    remove_endpoint,
    write_endpoint,
)
from lambic.runtime.errors import ServicesInUseError
from lambic.runtime.local_services import LocalServices


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_write_then_read_names_this_process(tmp_path: Path) -> None:
    path = tmp_path / "state" / "local.json"
    written = write_endpoint(path, "http://127.0.0.1:4566")
    assert written == LocalEndpoint("http://127.0.0.1:4566", os.getpid())
    assert read_endpoint(path) == written
    assert json.loads(path.read_text()) == {"url": "http://127.0.0.1:4566", "pid": os.getpid()}


@pytest.mark.parametrize(
    "content", ["", "{", '{"url": "x"}', '["url", 1]', '{"url": 1, "pid": "a"}']
)
def test_an_unreadable_file_names_no_endpoint(tmp_path: Path, content: str) -> None:
    path = tmp_path / "local.json"
    path.write_text(content)
    assert read_endpoint(path) is None and live_endpoint(path) is None


def test_a_dead_pid_is_not_live(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        write_endpoint(path, f"http://127.0.0.1:{listener.getsockname()[1]}", pid=dead_pid())
        assert live_endpoint(path) is None


def test_a_live_pid_whose_url_does_not_answer_is_not_live(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    write_endpoint(path, f"http://127.0.0.1:{closed_port()}")
    assert live_endpoint(path) is None


def test_remove_only_removes_the_file_of_this_process(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    write_endpoint(path, "http://127.0.0.1:1", pid=os.getpid() + 1)
    remove_endpoint(path)
    assert path.exists()
    write_endpoint(path, "http://127.0.0.1:1")
    remove_endpoint(path)
    assert not path.exists()


def test_the_lock_admits_one_holder_until_released(tmp_path: Path) -> None:
    first, second = (
        ServicesLock(tmp_path / "services.lock"),
        ServicesLock(tmp_path / "services.lock"),
    )
    assert first.try_acquire()
    assert not second.try_acquire()  # flock is per open file: the same process is refused too
    assert second.holder() == os.getpid()
    first.release()
    assert second.try_acquire() and second.held
    second.release()


def test_local_services_refuse_a_state_another_process_holds(tmp_path: Path) -> None:
    other = ServicesLock(tmp_path / "services.lock")
    assert other.try_acquire()

    async def start() -> None:
        await LocalServices(port=0).open(tmp_path, lambda: None)

    with pytest.raises(ServicesInUseError, match=r"in use by another Lambic process \(pid \d+"):
        asyncio.run(start())
    other.release()

    async def start_and_stop() -> str:
        services = LocalServices(port=0)
        url = await services.open(tmp_path, lambda: None)
        assert not ServicesLock(tmp_path / "services.lock").try_acquire()
        await services.stop()
        return url

    assert asyncio.run(start_and_stop()).startswith("http://127.0.0.1:")
    after = ServicesLock(tmp_path / "services.lock")
    assert after.try_acquire()  # stop() released it
    after.release()
