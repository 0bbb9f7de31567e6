"""Fixtures for runtime tests whose handlers (tests/apps/*) write what they saw to files.

The event-handler apps append each event they receive as one JSON line to
`$OUT_DIR/<kind>.jsonl`; `recorded` reads them back and `wait_for` polls until a
condition on them holds, failing the test after a bound instead of hanging.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic.runtime._isolation import ALLOW

WaitFor = Callable[..., Awaitable[None]]
Recorded = Callable[[Path, str], list[dict[str, Any]]]
AppCopy = Callable[[Path], tuple[Path, Path]]


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
