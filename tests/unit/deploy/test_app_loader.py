from __future__ import annotations

import sys
import types
from pathlib import Path

from lambic.deploy._loader import load_app


def _project(root: Path, name: str, helper_value: str) -> Path:
    project = root / name
    (project / "chalicelib").mkdir(parents=True)
    (project / "chalicelib" / "__init__.py").write_text("")
    (project / "chalicelib" / "names.py").write_text(f"VALUE = {helper_value!r}\n")
    (project / "app.py").write_text(
        "from lambic import Lambic\nfrom chalicelib.names import VALUE\napp = Lambic(VALUE)\n"
    )
    return project


def test_a_chalicelib_imported_earlier_does_not_shadow_the_projects_own(tmp_path: Path) -> None:
    stale = types.ModuleType("chalicelib")
    stale.__path__ = []  # an unrelated package of the same name, already imported
    sys.modules["chalicelib"] = stale
    try:
        first = load_app(_project(tmp_path, "one", "first-app"))
        second = load_app(_project(tmp_path, "two", "second-app"))
        assert (first.app_name, second.app_name) == ("first-app", "second-app")
        assert sys.modules["chalicelib"] is stale  # the caller's module is given back
    finally:
        sys.modules.pop("chalicelib", None)
