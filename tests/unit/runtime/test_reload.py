from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lambic.runtime.reload import FileWatcher, scan_project


def make_project(root: Path) -> None:
    (root / ".lambic" / "state").mkdir(parents=True)
    (root / "chalicelib").mkdir()
    (root / "__pycache__").mkdir()
    (root / "app.py").write_text("x = 1\n")
    (root / "chalicelib" / "util.py").write_text("y = 1\n")
    (root / ".lambic" / "config.json").write_text("{}")
    (root / ".lambic" / "state" / "junk.py").write_text("")
    (root / "__pycache__" / "app.cpython-311.py").write_text("")
    (root / "notes.txt").write_text("")


def test_scan_sees_code_and_config_but_not_state_caches_or_other_files(tmp_path: Path) -> None:
    make_project(tmp_path)

    seen = {str(Path(p).relative_to(tmp_path)) for p in scan_project(tmp_path)}

    assert seen == {"app.py", "chalicelib/util.py", ".lambic/config.json"}


def test_watcher_reports_an_edited_module_once(tmp_path: Path) -> None:
    make_project(tmp_path)
    calls: list[list[Path]] = []

    async def scenario() -> None:
        async def on_change(paths: list[Path]) -> None:
            calls.append(paths)

        watcher = FileWatcher(tmp_path, on_change, interval=0.02, settle=0.02)
        await watcher.start()
        try:
            util = tmp_path / "chalicelib" / "util.py"
            util.write_text("y = 2  # edited\n")
            for _ in range(200):
                if calls:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
        finally:
            await watcher.stop()

    asyncio.run(scenario())

    assert calls == [[tmp_path / "chalicelib" / "util.py"]]


def test_watcher_notices_a_same_size_edit_through_mtime(tmp_path: Path) -> None:
    make_project(tmp_path)
    app = tmp_path / "app.py"
    before = scan_project(tmp_path)[str(app)]

    app.write_text("x = 2\n")
    os.utime(app, ns=(before[0] + 10**9, before[0] + 10**9))

    assert scan_project(tmp_path)[str(app)] != before


def test_stopping_the_watcher_leaves_no_task_running(tmp_path: Path) -> None:
    make_project(tmp_path)

    async def scenario() -> int:
        async def on_change(paths: list[Path]) -> None:
            return None

        watcher = FileWatcher(tmp_path, on_change, interval=0.01)
        await watcher.start()
        await asyncio.sleep(0.05)
        await watcher.stop()
        return len([t for t in asyncio.all_tasks() if t is not asyncio.current_task()])

    assert asyncio.run(scenario()) == 0
