from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "deploy_apps"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def copy_app(tmp_path: Path) -> Callable[[str], Path]:
    """Copy tests/deploy_apps/<name> (or examples/<name>) into a fresh directory."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        suffix = 1
        while target.exists():  # the same app copied twice in one test
            suffix += 1
            target = tmp_path / f"{name}-{suffix}"
        source = APPS / name if (APPS / name).is_dir() else EXAMPLES / name
        shutil.copytree(
            source,
            target,
            ignore=shutil.ignore_patterns("__pycache__", "state", "deployed", "cache"),
        )
        return target

    return copy
