"""Hot reload: notice edits to a project's code and config by polling modification times.

    every `interval` s: scan the project (in a worker thread, the loop never blocks)
        -> {path: (mtime_ns, size)} differs from the last scan?
        -> wait for the edits to settle (editors save in several writes)
        -> await on_change(changed paths)

Watched: `*.py` anywhere under the project directory (app.py, chalicelib/, any
module it imports from the project) and `.lambic/config.json`. Skipped: hidden
directories other than `.lambic`, `.lambic/state` (the local cloud writes there),
virtualenvs, `__pycache__`, `node_modules`. Polling needs no dependency and works
on every filesystem (bind mounts, network drives) where inotify does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from lambic.project.paths import ProjectPaths
from lambic.runtime._snapshot import SKIPPED_DIRS
from lambic.runtime._tasks import cancel_and_wait

__all__ = ["FileWatcher", "scan_project"]

Snapshot = dict[str, tuple[int, int]]

_SUFFIXES = (".py",)


def scan_project(root: Path) -> Snapshot:
    """Modification time and size of every watched file under `root`."""
    snapshot: Snapshot = {}
    config = ProjectPaths(root).config_file
    with contextlib.suppress(OSError):
        st = config.stat()
        snapshot[str(config)] = (st.st_mtime_ns, st.st_size)
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue  # removed while we looked: the next scan sees the new state
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name in SKIPPED_DIRS or name.startswith("."):
                        continue
                    stack.append(entry.path)
                elif name.endswith(_SUFFIXES):
                    st = entry.stat()
                    snapshot[entry.path] = (st.st_mtime_ns, st.st_size)
            except OSError:
                continue
    return snapshot


def _changed(before: Snapshot, after: Snapshot) -> list[Path]:
    paths = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return sorted(Path(p) for p in paths)


class FileWatcher:
    """Calls `on_change(paths)` after files under `root` change; one call at a time.

    watcher = FileWatcher(Path("myapp"), reload_app)
    await watcher.start(); ...; await watcher.stop()
    """

    def __init__(
        self,
        root: Path,
        on_change: Callable[[list[Path]], Awaitable[None]],
        *,
        interval: float = 0.3,
        settle: float = 0.1,
    ) -> None:
        self.root = root
        self.on_change = on_change
        self.interval = interval
        self.settle = settle
        self._snapshot: Snapshot = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take the first snapshot (the code as loaded) and start polling."""
        self._snapshot = await asyncio.to_thread(scan_project, self.root)
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop polling; a reload in progress is cancelled."""
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            current = await asyncio.to_thread(scan_project, self.root)
            if current == self._snapshot:
                continue
            # Editors write a file in several steps (truncate, write, rename); wait
            # until two scans agree so we load the finished file once.
            while True:
                await asyncio.sleep(self.settle)
                settled = await asyncio.to_thread(scan_project, self.root)
                if settled == current:
                    break
                current = settled
            changed = _changed(self._snapshot, current)
            self._snapshot = current
            await self.on_change(changed)
