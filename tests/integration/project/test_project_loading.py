"""Loading a project: app.py is imported in a child process; user errors are one line."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from lambic.project import ProjectError, aload_project, load_project

APPS = Path(__file__).resolve().parents[2] / "apps"


def write_app(tmp_path: Path, source: str) -> Path:
    (tmp_path / "app.py").write_text(source)
    return tmp_path


def error_of(project_dir: Path) -> str:
    with pytest.raises(ProjectError) as excinfo:
        load_project(project_dir)
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_manifest_lists_functions_routes_and_binary_types(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(APPS / "runtime_lambic", root)
    project = load_project(root)
    manifest = project.manifest
    assert manifest.app_name == "runtime-demo"
    assert [(f.name, f.handler, f.kind) for f in manifest.functions] == [
        ("api_handler", "app.app", "api"),
        ("worker", "app.worker", "lambda"),
    ]
    assert set(manifest.routes) == {"/", "/users/{user_id}"}
    user = manifest.routes["/users/{user_id}"]
    assert set(user) == {"GET", "PUT"}
    assert user["GET"].view_name == "user"
    assert user["GET"].cors is not None
    assert user["GET"].cors["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in user["GET"].cors["Access-Control-Allow-Headers"]
    assert manifest.routes["/"]["GET"].cors is None
    assert isinstance(manifest.binary_types, tuple) and manifest.binary_types
    assert project.functions("prod")["api_handler"].deployed_name == "runtime-demo-prod"


def test_prints_at_import_time_do_not_break_the_manifest(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        "print('hello at import')\nfrom lambic.app import Lambic\napp = Lambic('noisy')\n",
    )
    assert load_project(tmp_path).app_name == "noisy"


def test_missing_app_py_says_where_it_looked(tmp_path: Path) -> None:
    assert error_of(tmp_path).startswith(f"No app.py in {tmp_path.resolve()}")


def test_missing_app_object_tells_how_to_define_it(tmp_path: Path) -> None:
    write_app(tmp_path, "application = 1\n")
    assert error_of(tmp_path) == "No app named 'app' in app.py; define `app = Lambic('name')`"


def test_wrong_app_object_type_is_named(tmp_path: Path) -> None:
    write_app(tmp_path, "app = 42\n")
    assert error_of(tmp_path).startswith("`app` in app.py is a int, not a Lambic app")


def test_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    write_app(tmp_path, "from lambic.app import Lambic\n\napp = Lambic('x'\nx = = 1\n")
    assert error_of(tmp_path).startswith("Syntax error in app.py:3")


def test_import_error_names_the_missing_module(tmp_path: Path) -> None:
    write_app(tmp_path, "import no_such_dependency_here\n")
    message = error_of(tmp_path)
    assert "could not import 'no_such_dependency_here'" in message
    assert "(app.py:1)" in message


def test_exception_at_import_names_type_and_line(tmp_path: Path) -> None:
    write_app(tmp_path, "x = 1\nraise RuntimeError('bad setup')\n")
    assert error_of(tmp_path) == "app.py raised RuntimeError while importing (app.py:2): bad setup"


def test_async_loading_reads_the_same_manifest(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(APPS / "runtime_lambic", root)
    project = asyncio.run(asyncio.wait_for(aload_project(root), 60))
    assert project.manifest == load_project(root).manifest


IMPORT_TIME_CLIENTS = """
import json
import os

import boto3
from lambic import Lambic

# The commonest pattern there is: clients built when the module imports.
TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
S3 = boto3.client("s3")
KEYS = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_LAMBDA_FUNCTION_NAME", "TABLE_NAME")
with open(os.environ["SEEN_FILE"], "w") as seen:
    json.dump({key: os.environ.get(key) for key in KEYS}, seen)

app = Lambic("clients")


@app.route("/")
def index():
    return {"table": TABLE.name}
"""


def test_app_py_imports_in_the_environment_a_function_of_the_stage_would_see(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shell names a real identity and no region; the import sees neither.
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASHELLREALKEY0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "shell-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "shell-token")
    monkeypatch.setenv("AWS_PROFILE", "production")
    seen_file = tmp_path / "seen.json"
    (tmp_path / "clients").mkdir()
    project_dir = write_app(tmp_path / "clients", IMPORT_TIME_CLIENTS)
    (project_dir / ".lambic").mkdir()
    (project_dir / ".lambic" / "config.json").write_text(
        json.dumps(
            {
                "app_name": "clients",
                "environment_variables": {"SEEN_FILE": str(seen_file), "TABLE_NAME": "top"},
                "stages": {"prod": {"environment_variables": {"TABLE_NAME": "prod-items"}}},
            }
        )
    )

    project = load_project(project_dir, "prod")

    assert project.app_name == "clients"
    assert json.loads(seen_file.read_text()) == {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "lambic-local",
        "AWS_SECRET_ACCESS_KEY": "lambic-local",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_LAMBDA_FUNCTION_NAME": "clients-prod",
        "TABLE_NAME": "prod-items",
    }
