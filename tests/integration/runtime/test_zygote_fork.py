"""`lambic local` forks its zygote from the CLI's process once the code both share is
imported (`runtime._zygote_fork`), instead of starting a new interpreter: the zygote
then holds nothing of the CLI's it would not have had as a new interpreter
(descriptors, stdin, `__main__`, the script's directory on sys.path), and the modules
it shares are ones both processes really use."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambic._cloud_process import free_port
from lambic._start_trace import TRACE_VARIABLE
from lambic.runtime._zygote_fork import (
    BOTH_USE,
    PROCESS_NAME,
    WRITER_USES,
    ForkedProcess,
    can_fork,
)
from lambic.runtime._zygote_launch import DEFAULT_PRELOAD
from tests._support.processes import children

pytestmark = pytest.mark.slow

APP = """
import sys
from lambic import Lambic

app = Lambic(app_name="forked")


@app.route("/where")
def where():
    main = sys.modules["__main__"]
    return {
        "path": sys.path,
        "main": getattr(main, "__file__", None),
        "cli": sorted(name for name in sys.modules if name.startswith("lambic.cli")),
        "stdin": sys.stdin.isatty() if sys.stdin else None,
    }
"""

LAMBIC = Path(sys.executable).parent / "lambic"


def _comm(pid: int) -> str:
    with open(f"/proc/{pid}/comm") as fh:
        return fh.read().strip()


def _open_files(pid: int) -> set[str]:
    targets = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return targets


class Local:
    """`lambic local` (the console script) on a one-route project, run from `cwd`."""

    def __init__(
        self, tmp_path: Path, stray_fd: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        project = tmp_path / "project"
        (project / ".lambic").mkdir(parents=True)
        (project / "app.py").write_text(APP)
        (project / ".lambic" / "config.json").write_text(
            json.dumps({"version": "2.0", "app_name": "forked"})
        )
        self.cwd = tmp_path / "elsewhere"
        self.cwd.mkdir()
        self.port = free_port()
        command = [str(LAMBIC), "local", "--project-dir", str(project), "--no-reload"]
        command += ["--port", str(self.port), "--services-port", str(free_port())]
        command += ["--ws-port", str(free_port())]
        self.proc = subprocess.Popen(
            command,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=[] if stray_fd is None else [stray_fd],
            env=env,
            start_new_session=True,
        )

    def get(self, path: str) -> dict[str, object]:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}") as answer:
                    body: dict[str, object] = json.loads(answer.read())
                    return body
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def zygote(self) -> int:
        named = [pid for pid in children(self.proc.pid) if _comm(pid) == PROCESS_NAME]
        assert len(named) == 1, [(pid, _comm(pid)) for pid in children(self.proc.pid)]
        return named[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    stray = tmp_path / "held-open.txt"
    stray.write_text("a descriptor the CLI inherited")
    fd = os.open(stray, os.O_RDONLY)
    try:
        running = Local(tmp_path, fd)
    finally:
        os.close(fd)
    try:
        yield running
    finally:
        running.stop()


def test_the_zygote_is_a_named_fork_holding_none_of_the_clis_descriptors(
    local: Local, tmp_path: Path
) -> None:
    local.get("/where")
    zygote = local.zygote()
    with (
        open(f"/proc/{zygote}/cmdline", "rb") as fh,
        open(f"/proc/{local.proc.pid}/cmdline", "rb") as gh,
    ):
        assert fh.read() == gh.read()  # a fork: the CLI's command line
    assert str(tmp_path / "held-open.txt") in _open_files(local.proc.pid)
    assert str(tmp_path / "held-open.txt") not in _open_files(zygote)
    # stdin is /dev/null, as it was for the zygote started as a new interpreter.
    assert os.readlink(f"/proc/{zygote}/fd/0") == os.devnull
    # What it forks names itself (`top` would otherwise show lambic-zygote for each).
    names = {_comm(pid) for pid in children(zygote)}
    assert "lambic-env" in names  # the environment that answered, and the spare
    assert names <= {"lambic-env", "lambic-ns", "lambic-logs"}


def test_an_environment_sees_neither_the_clis_main_nor_its_directories(local: Local) -> None:
    seen = local.get("/where")
    path = seen["path"]
    assert isinstance(path, list)
    assert str(LAMBIC.parent) not in path  # the console script's directory
    assert str(local.cwd) not in path and "" not in path  # the CLI's working directory
    assert seen["main"] is None  # not the console script
    assert seen["cli"] == []


def test_the_zygote_stamps_its_start_into_the_trace(tmp_path: Path) -> None:
    """`LAMBIC_START_TRACE` (bench/startup.py --trace): the zygote keeps the trace
    file's descriptor through the fork, and its phases are there."""
    trace = tmp_path / "trace.txt"
    running = Local(tmp_path, env={**os.environ, TRACE_VARIABLE: str(trace)})
    try:
        running.get("/where")
        zygote = running.zygote()
    finally:
        running.stop()
    phases = {tuple(line.split(" ", 3)[1::2]) for line in trace.read_text().splitlines()}
    assert (str(zygote), "zygote: ready") in phases
    assert (str(running.proc.pid), "zygote: ready") not in phases


def test_ctrl_c_leaves_no_process(local: Local) -> None:
    local.get("/where")
    zygote = local.zygote()
    local.stop()
    assert local.proc.returncode == 0
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{zygote}") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{zygote}")


# What each process imports: the zygote, its preload (`DEFAULT_PRELOAD`, boto3's import
# included) and entry point; `lambic local`'s process, serving the flagship (a table:
# the DynamoDB engine; a bucket: S3; a schedule; the uvloop loop; the gateway).
ZYGOTE = ", ".join(
    [entry.partition(":")[0] for entry in DEFAULT_PRELOAD] + ["lambic.runtime._zygote_main"]
)
GATEWAY = (
    "lambic.cli.local_serve, lambic.runtime.local, lambic.runtime.websocket_gateway,"
    " lambic.services.dynamodb.engine, lambic.services.s3.service, uvloop"
)
# What the gateway's process loads on first use: the event half of `lambic.app` for an
# app with a schedule or an event handler, S3's object handlers with the first object
# written (the flagship's schedule writes its page each run).
ON_FIRST_USE = {
    "lambic.app.schedules": "lambic.app.schedules",
    "email.header": "lambic.services.s3._objects",
}


@pytest.mark.parametrize(
    "imports", [ZYGOTE, GATEWAY, f"{GATEWAY}, {', '.join(ON_FIRST_USE.values())}"]
)
def test_both_processes_use_what_the_cli_imports_before_forking(imports: str) -> None:
    """Each name shared is one the zygote and the gateway's process import anyway: a
    name only one side used would delay the fork for nothing."""
    probe = f"import sys\nimport {imports}\nprint(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    missing = set(BOTH_USE) - set(done.stdout.split())
    assert missing == (set(ON_FIRST_USE) if imports == GATEWAY else set())


def test_the_gateway_imports_what_the_log_writer_does() -> None:
    """The writer's modules, imported before the fork, are shared with the gateway's
    process, which uses them too (the log store); all but the writer's own loop."""

    def imported(names: str) -> set[str]:
        probe = f"import sys\nimport {names}\nprint(' '.join(sys.modules))"
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        return set(done.stdout.split())

    writer = imported(", ".join(WRITER_USES)) - set(WRITER_USES)
    assert "sqlite3" in writer and "orjson" in writer
    assert writer - imported(GATEWAY) == set()


def test_only_a_process_without_threads_or_asyncio_forks() -> None:
    assert "asyncio" in sys.modules  # pytest's process: a new interpreter, always
    assert can_fork() is False
    code = "from lambic.runtime._zygote_fork import can_fork; print(can_fork())"
    alone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert alone.stdout.strip() == "True"
    threaded = "import threading, time\nthreading.Thread(target=time.sleep, args=(2,)).start()\n"
    busy = subprocess.run(
        [sys.executable, "-c", threaded + code], capture_output=True, text=True, check=True
    )
    assert busy.stdout.strip() == "False"


def test_the_forked_process_handle_polls_waits_and_kills() -> None:
    pid = os.posix_spawn("/bin/sleep", ["sleep", "30"], dict(os.environ))
    handle = ForkedProcess(pid)
    assert handle.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        handle.wait(timeout=0.05)
    handle.kill()
    assert handle.wait(timeout=10) == -signal.SIGKILL
    assert handle.poll() == -signal.SIGKILL and handle.returncode == -signal.SIGKILL
    handle.kill()  # reaped: its pid is not signalled again


def test_shared_imports_are_frozen_out_of_collections() -> None:
    """Imported and frozen: the CLI's collections later leave those objects' pages
    alone (a collection writes to every object it walks)."""
    code = (
        "import gc\nfrom lambic.runtime._zygote_fork import import_shared\n"
        "before = gc.get_freeze_count()\nimport_shared()\n"
        "print(gc.get_freeze_count() > before, gc.isenabled())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]
