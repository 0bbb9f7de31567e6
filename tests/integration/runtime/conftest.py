"""Fixtures for runtime tests whose handlers (tests/apps/*) write what they saw to files.

The event-handler apps append each event they receive as one JSON line to
`$OUT_DIR/<kind>.jsonl`; `recorded` reads them back and `wait_for` polls until a
condition on them holds, failing the test after a bound instead of hanging;
`event_sources` runs an app's event sources on given engines under a real invoker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic.project.project import load_project
from lambic.runtime._isolation import ALLOW
from lambic.runtime.async_queue import AsyncEventQueue
from lambic.runtime.event_sources import Account, Engines, EventSources, create_event_sources
from lambic.runtime.invoker import create_invoker

WaitFor = Callable[..., Awaitable[None]]
Recorded = Callable[[Path, str], list[dict[str, Any]]]
AppCopy = Callable[[Path], tuple[Path, Path]]
RunSources = Callable[
    ..., contextlib.AbstractAsyncContextManager[tuple[EventSources, AsyncEventQueue]]
]


async def _wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for the handler")


def _recorded(out: Path, kind: str) -> list[dict[str, Any]]:
    path = out / f"{kind}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@contextlib.asynccontextmanager
async def _event_sources(
    project_dir: Path, out: Path, account: str, engines: Engines, **options: Any
) -> AsyncIterator[tuple[EventSources, AsyncEventQueue]]:
    project = load_project(project_dir)
    invoker = create_invoker(project, "dev", extra_env={"OUT_DIR": str(out)})
    queue = AsyncEventQueue(lambda fn, p, rid: invoker.invoke(fn, p, request_id=rid), path=None)
    sources = create_event_sources(
        project.manifest.functions,
        queue,
        Account(account, "dev"),
        engines,
        invoke=lambda fn, p: invoker.invoke(fn, p),
        **options,
    )
    await sources.start()
    try:
        yield sources, queue
    finally:
        await sources.stop()
        await queue.aclose()
        await invoker.aclose(5.0)


@pytest.fixture
def event_sources() -> RunSources:
    """`async with event_sources(project_dir, out, "account", Engines(...), **options) as
    (sources, queue):` the app's event sources started on those engines (options as
    `create_event_sources` takes them), its handlers run by a real invoker with OUT_DIR
    set; sources, queue and invoker stopped afterwards."""
    return _event_sources


@pytest.fixture
def wait_for() -> WaitFor:
    """`await wait_for(lambda: ..., seconds=30)`: poll every 50 ms, fail past the bound."""
    return _wait_for


@pytest.fixture
def recorded() -> Recorded:
    """`recorded(out_dir, "sns")`: the events a handler recorded, oldest first."""
    return _recorded


@pytest.fixture
def app_copy(tmp_path: Path) -> AppCopy:
    """`project_dir, out = app_copy(APP)`: the app copied to `tmp_path/project`, and an
    empty `tmp_path/out` for what its handlers record."""

    def copy(app: Path) -> tuple[Path, Path]:
        project_dir, out = tmp_path / "project", tmp_path / "out"
        shutil.copytree(app, project_dir)
        out.mkdir()
        return project_dir, out

    return copy


@pytest.fixture(scope="session", autouse=True)
def _handlers_may_write_test_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Handlers here record what they received in `$OUT_DIR`, under pytest's base temp
    directory: isolated environments may write there (protected paths stay hidden)."""
    os.environ[ALLOW] = str(tmp_path_factory.getbasetemp())
    yield
    os.environ.pop(ALLOW, None)
