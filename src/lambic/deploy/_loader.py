"""Importing the user's app.py in-process so the deployer can read its registry.

The module is imported under its own name with the project directory first on
`sys.path` (as Lambda does with the unzipped package), and every module imported from
the project is dropped again afterwards so loading two projects in one process (tests,
the benchmark) never mixes their `chalicelib` packages.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambic.deploy.errors import AppLoadError


def load_app(
    project_dir: Path,
    module: str = "app",
    attribute: str = "app",
    *,
    env: Mapping[str, str] | None = None,
) -> Any:
    """Import `module` from `project_dir` and return its `attribute` (the Lambic app).

    `env` replaces `os.environ` while the module imports (module-level code reads its
    table names and builds its clients then) and is undone afterwards.
    """
    project_dir = project_dir.resolve()
    if not (project_dir / f"{module}.py").is_file():
        raise AppLoadError(
            f"no {module}.py in {project_dir}; run from the project directory or pass --project-dir"
        )
    # Modules of the same name imported earlier in this process (another project's
    # `chalicelib`, a test's `app`) would shadow the project's own: set them aside.
    shadowed = _set_aside(_local_names(project_dir) | {module})
    before = set(sys.modules)
    sys.path.insert(0, str(project_dir))
    saved = dict(os.environ)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        loaded = importlib.import_module(module)
    except Exception as exc:  # the user's code may raise anything while importing
        raise AppLoadError(
            f"importing {module}.py failed: {type(exc).__name__}: {exc}; fix the error and retry"
        ) from exc
    finally:
        sys.path.remove(str(project_dir))
        if env is not None:
            os.environ.clear()
            os.environ.update(saved)
        _forget_project_modules(project_dir, before)
        sys.modules.update(shadowed)
    app = getattr(loaded, attribute, None)
    if app is None:
        raise AppLoadError(
            f"No app named {attribute!r} in {module}.py; define `{attribute} = Lambic('name')`"
        )
    return app


def _local_names(project_dir: Path) -> set[str]:
    """Top-level module and package names the project directory provides."""
    names = set()
    for entry in project_dir.iterdir():
        if entry.suffix == ".py":
            names.add(entry.stem)
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            names.add(entry.name)
    return names


def _set_aside(names: set[str]) -> dict[str, Any]:
    taken = {}
    for name in list(sys.modules):
        if name.split(".", 1)[0] in names:
            taken[name] = sys.modules.pop(name)
    return taken


def _forget_project_modules(project_dir: Path, before: set[str]) -> None:
    for name in set(sys.modules) - before:
        file = getattr(sys.modules[name], "__file__", None)
        if file and Path(file).resolve().is_relative_to(project_dir):
            del sys.modules[name]
