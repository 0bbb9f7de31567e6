"""requirements.txt → wheels for the Lambda platform, unpacked and cached.

Lambda runs Amazon Linux on x86_64, so the wheels must be manylinux2014_x86_64 builds
for the function's CPython version, whatever machine packages the app::

    pip download -r requirements.txt --platform manylinux2014_x86_64
        --only-binary=:all: --python-version 3.11 --implementation cp

When that fails, each requirement is tried on its own; one without a Linux wheel is
built locally with `pip wheel` and accepted only if the result is pure Python
(`*-none-any.whl`). A requirement with neither is reported by name. Results are
cached under `.lambic/cache/wheels/<hash of requirements and runtime>/`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lambic.deploy.errors import PackagingError

PLATFORM = "manylinux2014_x86_64"
_PIP_TIMEOUT_S = 600


def requirement_files(project_dir: Path, *, runtime: str, cache_dir: Path) -> list[Path]:
    """Directories whose contents go to the zip root, one per unpacked wheel (sorted)."""
    requirements = project_dir / "requirements.txt"
    if not requirements.is_file() or not _has_requirements(requirements):
        return []
    version = runtime.removeprefix("python")
    key = hashlib.sha256(requirements.read_bytes() + runtime.encode()).hexdigest()[:16]
    target = cache_dir / "wheels" / key
    done = target / ".complete"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            wheels = _download(requirements, Path(tmp), version)
            for wheel in wheels:
                _unpack(wheel, target / wheel.name.removesuffix(".whl"))
        target.mkdir(parents=True, exist_ok=True)
        done.write_text("ok\n")
    return sorted(p for p in target.iterdir() if p.is_dir())


def _has_requirements(path: Path) -> bool:
    return any(_requirement_lines(path))


def _requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _platform_args(version: str) -> list[str]:
    return [
        "--platform",
        PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        version,
        "--implementation",
        "cp",
    ]


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        timeout=_PIP_TIMEOUT_S,
        check=False,
    )


def _download(requirements: Path, tmp: Path, version: str) -> list[Path]:
    dest = tmp / "all"
    result = _pip(
        "download", "-q", "-r", str(requirements), "-d", str(dest), *_platform_args(version)
    )
    if result.returncode == 0:
        return sorted(dest.glob("*.whl"))
    # Some requirement has no Linux wheel: resolve each on its own to find which, and
    # build the ones that are pure Python.
    wheels: dict[str, Path] = {}
    for index, line in enumerate(_requirement_lines(requirements)):
        if line.startswith("-"):
            continue  # pip options (-i, --extra-index-url) only apply to the whole file
        one = tmp / f"req{index}"
        got = _pip("download", "-q", line, "-d", str(one), *_platform_args(version))
        if got.returncode != 0:
            built = _pip("wheel", "-q", line, "-w", str(one))
            impure = [w.name for w in one.glob("*.whl") if not w.name.endswith("-none-any.whl")]
            if built.returncode != 0 or impure:
                raise PackagingError(
                    f"requirement {line!r} has no {PLATFORM} wheel for CPython {version} and no "
                    "pure-Python distribution; pin a version that publishes Linux wheels or "
                    "vendor a Linux build under vendor/"
                )
        for wheel in one.glob("*.whl"):
            wheels[wheel.name] = wheel
    return [wheels[name] for name in sorted(wheels)]


def _unpack(wheel: Path, target: Path) -> None:
    """Extract a wheel; `<name>.data/purelib|platlib` goes to the root as pip would."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            parts = member.filename.split("/")
            if member.is_dir() or ".." in parts:
                continue
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts and headers have no place in a Lambda package
                parts = parts[2:]
            out = target.joinpath(*parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(archive.read(member))
