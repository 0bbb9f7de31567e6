from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.deployer import check_lambda_limits
from lambic.deploy.errors import PackagingError
from lambic.deploy.packager import build_package, package_bytes


def _names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_same_project_packages_to_identical_bytes(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("web")
    first = package_bytes(project)
    for path in project.rglob("*.py"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # only timestamps change
    assert package_bytes(project) == first


def test_entries_are_sorted_with_fixed_time_and_permissions(
    copy_app: Callable[[str], Path],
) -> None:
    infos = zipfile.ZipFile(io.BytesIO(package_bytes(copy_app("web")))).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} <= {0o100644, 0o100755}


def test_zip_holds_app_local_packages_and_lambic_app_but_no_local_data(
    copy_app: Callable[[str], Path],
) -> None:
    project = copy_app("web")
    for junk in (
        ".lambic/state/dev/s3.sqlite3",
        ".lambic/deployed/dev.json",
        ".venv/x.py",
        "tests/test_app.py",
        "chalicelib/__pycache__/store.cpython-311.pyc",
        "test_local.py",
    ):
        (project / junk).parent.mkdir(parents=True, exist_ok=True)
        (project / junk).write_text("junk")
    names = _names(package_bytes(project))
    assert "app.py" in names
    assert "chalicelib/store.py" in names
    assert "lambic/__init__.py" in names
    assert "lambic/app/application.py" in names
    assert not [n for n in names if n.startswith((".lambic", ".venv", "tests/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "test_local.py" not in names
    assert not [n for n in names if n.startswith("lambic/") and "/cli/" in n]


def test_packaged_app_answers_a_request_without_site_packages(
    copy_app: Callable[[str], Path], tmp_path: Path
) -> None:
    built = build_package(copy_app("hello"), tmp_path / "out" / "deployment.zip")
    task = tmp_path / "task"
    zipfile.ZipFile(built.path).extractall(task)
    # -S -I: no site-packages, no user paths; only the stdlib and the unzipped package,
    # as in a bare Lambda runtime. The handler string "app.app" is called as Lambda would.
    script = """
import json, sys
sys.path.insert(0, sys.argv[1])
import importlib
handler = getattr(importlib.import_module("app"), "app")
from lambic.app.proxy_events import create_rest_event
event = create_rest_event(method="GET", path="/", resource_path="/", path_params=None,
                          query=[], headers=[], body=b"", binary_types=[], stage="api")
response = handler(event, None)
print(json.dumps([response["statusCode"], json.loads(response["body"]),
                  "click" in sys.modules]))
"""
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script, str(task)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [200, {"hello": "world"}, False]


def _wheel(directory: Path, name: str, tag: str, files: dict[str, str]) -> None:
    dist = f"{name}-1.0.dist-info"
    contents = {
        **files,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ),
    }
    contents[f"{dist}/RECORD"] = "".join(f"{path},,\n" for path in contents) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(directory / f"{name}-1.0-{tag}.whl", "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)


@pytest.fixture
def wheel_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local package index (a find-links directory); PyPI is never contacted."""
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    return index


def test_requirements_are_unpacked_from_wheels_into_the_zip_root(
    copy_app: Callable[[str], Path], wheel_index: Path
) -> None:
    _wheel(wheel_index, "tinypkg", "py3-none-any", {"tinypkg/__init__.py": "X = 1\n"})
    _wheel(
        wheel_index,
        "fastpkg",
        "cp311-cp311-manylinux2014_x86_64",
        {"fastpkg/__init__.py": "Y = 2\n", "fastpkg/_speed.so": "ELF"},
    )
    project = copy_app("hello")
    (project / "requirements.txt").write_text("tinypkg==1.0\nfastpkg==1.0  # native\n")
    names = _names(package_bytes(project))
    assert {"tinypkg/__init__.py", "fastpkg/_speed.so", "tinypkg-1.0.dist-info/METADATA"} <= set(
        names
    )


def test_requirement_with_only_a_windows_wheel_is_named_in_the_error(
    copy_app: Callable[[str], Path], wheel_index: Path
) -> None:
    _wheel(wheel_index, "tinypkg", "py3-none-any", {"tinypkg/__init__.py": "X = 1\n"})
    _wheel(wheel_index, "winonly", "cp311-cp311-win_amd64", {"winonly/__init__.py": ""})
    project = copy_app("hello")
    (project / "requirements.txt").write_text("tinypkg==1.0\nwinonly==1.0\n")
    with pytest.raises(PackagingError, match=r"'winonly==1\.0' has no manylinux2014_x86_64 wheel"):
        package_bytes(project)


def test_packages_over_lambda_quotas_are_refused_before_any_aws_call() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.bin", b"\0" * 4096)  # compresses to almost nothing
    data = buffer.getvalue()
    # The real quotas (50 MB zipped, 250 MB unzipped) scaled down to keep the test fast.
    check_lambda_limits(data, direct_limit=len(data), unzipped_limit=4096)
    with pytest.raises(PackagingError, match=r"over Lambda's 250 MB limit"):
        check_lambda_limits(data, unzipped_limit=4095)
    with pytest.raises(PackagingError, match=r"over Lambda's 50 MB direct-upload limit"):
        check_lambda_limits(data, direct_limit=len(data) - 1)
