from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "deploy_apps"


@pytest.fixture
def copy_app(tmp_path: Path) -> Callable[[str], Path]:
    """Copy tests/deploy_apps/<name> into a fresh directory and return it."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(APPS / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        return target

    return copy
