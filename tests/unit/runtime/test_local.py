from __future__ import annotations

import json
from pathlib import Path

from lambic.project.config import parse_config
from lambic.project.manifest import AppManifest
from lambic.project.project import Project
from lambic.runtime._snapshot import CodeSnapshots, snapshot_base
from lambic.runtime.local import create_api


def project(config: dict[str, object], routes: dict[str, object] | None = None) -> Project:
    manifest = AppManifest.from_json(
        {
            "app_name": "shop",
            "functions": [{"name": "api_handler", "handler": "app.app", "kind": "api"}],
            "routes": routes or {"/items/{id}": {"GET": {"cors": None}}},
            "binary_types": ["image/png"],
        }
    )
    return Project(Path("/nowhere"), parse_config(config), manifest)


def test_create_api_targets_the_stage_function_with_its_timeout() -> None:
    api = create_api(project({"lambda_timeout": 20, "stages": {"dev": {}}}), "dev")

    assert api.function_name == "shop-dev"
    assert api.function_timeout == 20
    assert api.binary_types == ("image/png",)
    match = api.matcher.match("GET", "/items/7")
    assert match is not None and match.path_params == {"id": "7"}


def test_snapshots_copy_code_and_data_but_not_config_state_caches_or_vcs(tmp_path: Path) -> None:
    source = tmp_path / "proj"
    for rel in [
        "app.py",
        "chalicelib/__init__.py",
        "chalicelib/data/feed.xml",
        ".lambic/state/dev/logs.sqlite3",
        ".chalice/config.json",
        ".git/HEAD",
        "__pycache__/app.cpython-311.pyc",
    ]:
        path = source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    (source / ".lambic" / "config.json").write_text(json.dumps({"app_name": "shop"}))
    snapshots = CodeSnapshots(source)
    try:
        copy = snapshots.take()

        copied = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
        # No config: it holds every function's secrets, and no Lambda package has it.
        assert copied == [
            "app.py",
            "chalicelib/__init__.py",
            "chalicelib/data/feed.xml",
        ]
        (source / "app.py").write_text("edited")
        assert (copy / "app.py").read_text() == "app.py"
    finally:
        snapshots.close()
    assert not snapshots.root.exists()


def test_snapshots_link_big_data_files_instead_of_copying_them(tmp_path: Path) -> None:
    source = tmp_path / "proj"
    (source / "data").mkdir(parents=True)
    (source / "app.py").write_text("x = 1\n")
    big = source / "data" / "model.bin"
    big.write_bytes(b"\0" * (2 * 1024 * 1024))
    snapshots = CodeSnapshots(source)
    try:
        copy = snapshots.take()

        assert (copy / "data" / "model.bin").stat().st_ino == big.stat().st_ino
        assert (copy / "app.py").stat().st_ino != (source / "app.py").stat().st_ino
    finally:
        snapshots.close()


def test_snapshot_paths_map_back_to_the_project(tmp_path: Path) -> None:
    source = tmp_path / "proj"
    source.mkdir()
    (source / "app.py").write_text("x = 1\n")
    snapshots = CodeSnapshots(source)
    try:
        copy = snapshots.take()
        trace = f'  File "{copy / "app.py"}", line 1, in <module>'

        assert (
            snapshots.rewrite.apply(trace) == f'  File "{source / "app.py"}", line 1, in <module>'
        )
    finally:
        snapshots.close()


def test_a_snapshot_root_left_by_a_killed_process_is_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    stale = snapshot_base() / f"lambic-task-{dead.stdout.strip()}-test"
    (stale / "1").mkdir(parents=True)
    source = tmp_path / "proj"
    source.mkdir()
    (source / "app.py").write_text("x = 1\n")

    snapshots = CodeSnapshots(source)
    snapshots.close()

    assert not stale.exists()


def test_create_api_resolves_route_authorizers_and_refuses_foreign_custom_ones() -> None:
    import pytest

    from lambic.project.errors import ProjectError

    uri = (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:000000000000:function:{}/invocations"
    )
    custom = {"kind": "custom", "name": "c", "authorizer_uri": uri.format("shop-dev")}
    routes = {
        "/open": {"GET": {}},
        "/items": {"GET": {"authorizer": custom}, "POST": {"authorizer": {"kind": "iam"}}},
    }
    api = create_api(project({"stages": {"dev": {}}}, routes), "dev")

    assert "/open" not in api.authorizers
    assert api.authorizers["/items"]["GET"].function == "api_handler"
    assert api.authorizers["/items"]["POST"].kind == "iam"

    foreign = {"/items": {"GET": {"authorizer": {**custom, "authorizer_uri": uri.format("x")}}}}
    with pytest.raises(ProjectError, match=r"GET /items uses CustomAuthorizer 'c'.*'x'"):
        create_api(project({"stages": {"dev": {}}}, foreign), "dev")


def test_an_sqs_batch_over_ten_without_window_is_refused_with_aws_message() -> None:
    import pytest

    from lambic.project.errors import ProjectError
    from lambic.runtime.local import check_event_source_limits

    def with_sqs(batch: int, window: int) -> Project:
        source = {
            "queue": "jobs",
            "batch_size": batch,
            "maximum_batching_window_in_seconds": window,
        }
        manifest = AppManifest.from_json(
            {
                "app_name": "shop",
                "functions": [
                    {"name": "work", "handler": "app.work", "kind": "sqs", "event_source": source}
                ],
            }
        )
        return Project(Path("/nowhere"), parse_config({"stages": {"dev": {}}}), manifest)

    check_event_source_limits(with_sqs(10, 0))
    check_event_source_limits(with_sqs(200, 1))
    with pytest.raises(
        ProjectError,
        match=r"work .*: Maximum batch window in seconds must be greater than 0 if maximum "
        "batch size is greater than 10",
    ):
        check_event_source_limits(with_sqs(200, 0))
