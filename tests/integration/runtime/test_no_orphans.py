"""If the process running the invoker is SIGKILLed, every process it started dies too."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests._support.processes import alive, wait_gone

APPS = Path(__file__).resolve().parents[2] / "apps"

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from lambic.runtime import FunctionEntry, create_invoker, create_project
    from tests._support.logs import make_busy

    async def main():
        project = create_project(sys.argv[1], "demo", [FunctionEntry("pid", "handlers.pid")])
        invoker = create_invoker(project, "dev", preload=("json",))
        calls = [invoker.invoke("pid", b'{"hold": 0.3}') for _ in range(3)]
        pids = [json.loads(r.payload) for r in await asyncio.gather(*calls)]
        make_busy(invoker.store)  # its writer process started
        pids += [invoker._zygote.pid, invoker.store._writer.pid]
        print(json.dumps(pids), flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def test_killing_the_invoker_process_takes_zygote_environments_and_writer_with_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "fns"
    shutil.copytree(APPS / "runtime_handlers", root)
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)  # bounded: never hang
        assert ready, "the invoker process printed nothing within 30 s"
        pids = json.loads(proc.stdout.readline())
        assert len(set(pids)) == 5 and all(alive(pid) for pid in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert [pid for pid in pids if not wait_gone(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
