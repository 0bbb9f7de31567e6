"""The deployment zip: app code, local packages, `lambic.app`, and Linux wheels.

Layout of the zip (the root is Lambda's `/var/task`, first on `sys.path`)::

    app.py                 the user's module ("app.app" is the API handler)
    chalicelib/ ...        local packages: every top-level directory with __init__.py
    <vendor/ contents>     copied to the root, as Chalice does
    lambic/__init__.py     a shim re-exporting lambic.app, so `from lambic import Lambic`
    lambic/app/ ...        works without click, uvicorn or anything else of the CLI
    <wheel contents>       requirements.txt resolved for manylinux2014_x86_64

The zip is deterministic: entries sorted by name, a fixed timestamp, fixed permissions,
Unix as the creating system. The same inputs give the same bytes, so the code hash
tells a redeploy whether the code changed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lambic
from lambic.deploy.wheels import requirement_files
from lambic.project.config import DEFAULT_RUNTIME
from lambic.project.paths import LAMBIC_DIR, ProjectPaths

# Never shipped: local state, deploy records, environments, caches, tests.
EXCLUDED_DIRS = frozenset(
    {
        LAMBIC_DIR,
        ".chalice",
        ".venv",
        "venv",
        ".git",
        "__pycache__",
        "node_modules",
        "tests",
        "test",
        "vendor",
        "build",
        "dist",
    }
)
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644
_EXEC_MODE = 0o100755

_SHIM = '''"""Lambic inside a Lambda deployment package: the programming model only.

Written by `lambic package`; the CLI, the local cloud and the deployer are not shipped.
"""

from lambic.app import *  # noqa: F403
from lambic.app import __all__  # noqa: F401

__version__ = "{version}"
'''


@dataclass(frozen=True)
class Package:
    """A built deployment zip and Lambda's view of its hash (`CodeSha256`)."""

    path: Path
    code_sha256: str  # base64 SHA-256, as Lambda reports it
    size: int


def build_package(
    project_dir: Path,
    out_path: Path,
    *,
    runtime: str = DEFAULT_RUNTIME,
    cache_dir: Path | None = None,
) -> Package:
    """Write the deployment zip for the project to `out_path`.

    >>> build_package(Path("."), Path("out/deployment.zip"))  # doctest: +SKIP
    """
    data = package_bytes(project_dir, runtime=runtime, cache_dir=cache_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(data)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return Package(out_path, digest, len(data))


def package_bytes(
    project_dir: Path, *, runtime: str = DEFAULT_RUNTIME, cache_dir: Path | None = None
) -> bytes:
    """The deterministic zip for the project, as bytes."""
    entries: dict[str, Path | bytes] = {}
    cache = cache_dir or ProjectPaths(project_dir).cache_dir
    for wheel_root in requirement_files(project_dir, runtime=runtime, cache_dir=cache):
        entries.update(_tree(wheel_root))
    vendor = project_dir / "vendor"
    if vendor.is_dir():
        entries.update(_tree(vendor))
    for path in project_source_files(project_dir):
        entries[path.relative_to(project_dir).as_posix()] = path
    app_pkg = Path(lambic.__file__).parent / "app"
    for path in _walk(app_pkg):
        entries["lambic/app/" + path.relative_to(app_pkg).as_posix()] = path
    entries["lambic/__init__.py"] = _SHIM.format(version=lambic.__version__).encode()
    return _zip(entries)


def project_source_files(project_dir: Path) -> list[Path]:
    """The user's own code: top-level modules and local packages, sorted.

    Test modules (`test_*.py`, `conftest.py`) and `setup.py` stay out.
    """
    files: list[Path] = []
    for child in sorted(project_dir.iterdir()):
        if child.is_file() and child.suffix == ".py" and not _is_test_module(child.name):
            files.append(child)
        elif (
            child.is_dir()
            and child.name not in EXCLUDED_DIRS
            and not child.name.startswith(".")
            and (child / "__init__.py").is_file()
        ):
            files.extend(_walk(child))
    return files


def _is_test_module(name: str) -> bool:
    return name.startswith("test_") or name in ("conftest.py", "setup.py")


def _walk(root: Path, excluded: frozenset[str] = EXCLUDED_DIRS) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if any(part in excluded or part.startswith(".") for part in rel[:-1]):
            continue
        if path.is_file() and not path.name.endswith(_EXCLUDED_SUFFIXES):
            yield path


def _tree(root: Path) -> dict[str, Path | bytes]:
    """Third-party files: shipped whole (their tests may be imported), minus bytecode."""
    return {
        path.relative_to(root).as_posix(): path for path in _walk(root, frozenset({"__pycache__"}))
    }


def _zip(entries: dict[str, Path | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            source = entries[name]
            if isinstance(source, Path):
                data = source.read_bytes()
                executable = source.stat().st_mode & 0o111
            else:
                data, executable = source, 0
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below are honoured
            info.external_attr = (_EXEC_MODE if executable else _FILE_MODE) << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()
