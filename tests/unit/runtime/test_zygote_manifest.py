"""`lambic local` reads app.py's manifest in a child forked from its zygote, which is
ready once it has imported its preload (its boto3 clients are built afterwards)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lambic.project.errors import ProjectError
from lambic.project.manifest import AppManifest, aread_manifest, read_manifest
from lambic.runtime.zygote import Zygote

APP = """
import os
from pathlib import Path
from typing import Any

from lambic import Lambic

print("importing the app")  # its own output must not corrupt the manifest
Path(os.environ["PROBE_OUT"], "pid.txt").write_text(f"{os.getpid()} {os.getppid()}")
app = Lambic(os.environ["APP_NAME"])


@app.route("/items/{id}", methods=["GET", "PUT"])
def item(id):
    return {}


@app.schedule("rate(5 minutes)")
def tick(event):
    return None
"""


async def _read(project: Path, *, timeout: float = 30.0, **env: str) -> tuple[AppManifest, int]:
    zygote = Zygote(preload=("json", "lambic.app"))
    try:
        manifest = await aread_manifest(
            project, env={**os.environ, **env}, timeout=timeout, reader=zygote
        )
        return manifest, zygote.pid
    finally:
        await zygote.aclose()


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the app's import writes what the test reads: the reader is walled in as an
    execution environment (its code read-only, a private /tmp), so this directory is
    let in explicitly, as a user would let in a test's output directory."""
    directory = tmp_path / "out"
    directory.mkdir()
    monkeypatch.setenv("LAMBIC_ISOLATION_ALLOW", str(directory))
    return directory


def test_the_zygote_reads_what_a_fresh_interpreter_reads(tmp_path: Path, out: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(APP)

    forked, zygote_pid = asyncio.run(_read(project, APP_NAME="shop", PROBE_OUT=str(out)))
    reader_pid, reader_parent = map(int, (out / "pid.txt").read_text().split())
    fresh = read_manifest(project, env={**os.environ, "APP_NAME": "shop", "PROBE_OUT": str(out)})

    assert forked == fresh
    assert fresh.app_name == "shop"  # the environment given reached the import
    assert sorted(fresh.routes["/items/{id}"]) == ["GET", "PUT"]
    assert ("tick", "schedule") in [(f.name, f.kind) for f in fresh.functions]
    # The user's code ran in a child of the zygote, not here nor in the zygote itself.
    assert reader_parent == zygote_pid
    assert reader_pid not in (os.getpid(), zygote_pid)


def test_a_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("from lambic import Lambic\napp = Lambic('x'\n")

    with pytest.raises(ProjectError, match=r"Syntax error in app\.py:2"):
        asyncio.run(_read(tmp_path))


def test_an_import_that_hangs_is_killed_at_the_timeout(tmp_path: Path, out: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(
        "import os, time\n"
        "open(os.path.join(os.environ['PROBE_OUT'], 'pid.txt'), 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )

    with pytest.raises(ProjectError, match="took more than 1 s"):
        asyncio.run(_read(project, timeout=1.0, PROBE_OUT=str(out)))
    pid = int((out / "pid.txt").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_zygote_imports_before_it_is_ready_and_leaves_clients_for_later() -> None:
    # In a child: preload_modules freezes the GC of the process it runs in.
    probe = (
        "import boto3, sys\n"
        "from lambic.runtime.zygote import preload_modules\n"
        "pending = preload_modules(['json', 'boto3:dynamodb;s3'])\n"
        "print(pending, 'boto3' in sys.modules, boto3.DEFAULT_SESSION is None)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['dynamodb',", "'s3']", "True", "True"]


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(child) for child in fh.read().split()]


async def _spare_within(zygote: Zygote, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _children(zygote.pid):  # isolation off: the spare is its only child
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.parametrize("hold", [False, True])
def test_a_held_zygote_builds_its_clients_and_spare_only_after_its_first_request(
    hold: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `lambic local`'s zygote: its first request (the manifest read) must not wait
    # behind a boto3 client being built; the spare, forked once the clients are
    # built, shows when that happened.
    monkeypatch.setenv("LAMBIC_ISOLATION", "off")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "app.py").write_text("from lambic import Lambic\napp = Lambic('held')\n")

    async def scenario() -> tuple[bool, bool]:
        zygote = Zygote(preload=("json", "lambic.app", "boto3:sts"), hold_warm=hold)
        try:
            await zygote.wait_ready()
            before = await _spare_within(zygote, 3.0)
            await aread_manifest(project, env=dict(os.environ), reader=zygote)
            after = await _spare_within(zygote, 10.0)
            return before, after
        finally:
            await zygote.aclose()

    before, after = asyncio.run(scenario())
    assert (before, after) == ((False, True) if hold else (True, True))


def test_warmed_services_leave_their_client_and_resource_models_loaded() -> None:
    # What a cold environment forked afterwards would otherwise read and parse itself:
    # boto3.resource("dynamodb") (the flagship's) loads no model file once warmed.
    probe = (
        "import boto3, botocore.loaders\n"
        "from lambic.runtime._zygote_process import _warm_boto3\n"
        "_warm_boto3(['dynamodb', 'sts'])\n"
        "read = []\n"
        "original = botocore.loaders.Loader.load_data_with_path\n"
        "def spy(self, name, *args, **kwargs):\n"
        "    read.append(name)\n"
        "    return original(self, name, *args, **kwargs)\n"
        "botocore.loaders.Loader.load_data_with_path = spy\n"
        "keys = dict(region_name='eu-west-1', aws_access_key_id='a', aws_secret_access_key='b')\n"
        "boto3.resource('dynamodb', **keys).Table('t')\n"
        "boto3.client('sts', **keys)\n"
        "boto3.client('sqs', **keys)\n"
        "print(sorted({n.split('/')[0] for n in read if '/' in n}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # Only the service that was not warmed had its model files read.
    assert out.stdout.split() == ["['sqs']"]


def test_the_zygote_process_does_not_import_the_handles_asyncio() -> None:
    # ~20 ms of the zygote's way to "ready" (on the first answer's path): asyncio is the
    # invoker's side only; an app that uses it imports it in its own environment.
    probe = "import sys, lambic.runtime._zygote_main\nprint('asyncio' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_the_manifest_comes_without_waiting_for_the_zygote_to_report_the_readers_exit(
    tmp_path: Path,
) -> None:
    # The zygote reports a reader's exit only between two boto3 clients it builds;
    # stopped right after forking the reader, it reports nothing: the manifest must
    # come anyway (it used to wait 5 s for that status).
    (tmp_path / "app.py").write_text("from lambic import Lambic\napp = Lambic('quick')\n")

    async def scenario() -> tuple[str, float]:
        zygote = Zygote(preload=("json", "lambic.app"))
        fork = zygote._fork

        def fork_then_stop(op: str, payload: dict[str, Any], fds: Any) -> asyncio.Future[int]:
            forked = fork(op, payload, fds)
            forked.add_done_callback(lambda _: os.kill(zygote.pid, signal.SIGSTOP))
            return forked

        zygote._fork = fork_then_stop  # type: ignore[method-assign]
        try:
            started = time.monotonic()
            manifest = await aread_manifest(tmp_path, env=dict(os.environ), reader=zygote)
            return manifest.app_name, time.monotonic() - started
        finally:
            os.kill(zygote.pid, signal.SIGCONT)
            await zygote.aclose()

    name, seconds = asyncio.run(scenario())
    assert name == "quick" and seconds < 4.0


def test_the_preload_leaves_the_gc_on_with_what_it_loaded_frozen() -> None:
    # Collections are paused while the preload imports (one pass at its end), but the
    # processes forked afterwards (manifest readers, environments: user code) must get
    # the interpreter's usual automatic collection.
    probe = (
        "import gc\n"
        "from lambic.runtime._zygote_process import preload_modules\n"
        "pending = preload_modules(['json', 'lambic.app', 'boto3:sts'])\n"
        "print(pending, gc.isenabled(), gc.get_freeze_count() > 1000)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['sts']", "True", "True"]


def test_the_preload_is_frozen_without_a_full_collection() -> None:
    # The zygote is ready without a full collection (~25 ms on the first answer's
    # way, for ~150 kB of garbage): what the imports left unreachable stays frozen.
    probe = (
        "import gc, weakref\n"
        "from lambic.runtime._zygote_process import preload_modules\n"
        "class Node:\n"
        "    pass\n"
        "gc.disable()\n"
        "a, b = Node(), Node()\n"
        "a.other, b.other = b, a\n"
        "probe = weakref.ref(a)\n"
        "del a, b\n"
        "preload_modules(['json'])\n"
        "gc.collect()\n"
        "print(probe() is not None, gc.isenabled(), gc.get_freeze_count() > 1000)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]
