from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambic.cli.main import main


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_creates_app_requirements_config_and_gitignore(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["new-project", "myapp"])

    assert result.exit_code == 0, result.output
    project = tmp_path / "myapp"
    app_source = (project / "app.py").read_text()
    assert "from lambic import Lambic" in app_source
    assert 'app = Lambic(app_name="myapp")' in app_source
    compile(app_source, "app.py", "exec")
    assert (project / "requirements.txt").is_file()
    config = json.loads((project / ".lambic" / "config.json").read_text())
    assert config == {
        "version": "2.0",
        "app_name": "myapp",
        "stages": {"dev": {"api_gateway_stage": "api"}},
    }
    ignored = (project / ".gitignore").read_text().splitlines()
    # Local state, deploy records and the wheel cache never belong in a repository.
    assert {".lambic/state/", ".lambic/deployed/", ".lambic/cache/"} <= set(ignored)
    assert "./myapp" in result.output


def test_refuses_to_overwrite_an_existing_directory(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "keep.txt").write_text("mine")

    result = runner.invoke(main, ["new-project", "myapp"])

    assert result.exit_code == 2
    assert "already exists" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "myapp").iterdir()) == ["keep.txt"]


def test_rejects_a_name_lambda_would_not_accept(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["new-project", "my app!"])

    assert result.exit_code == 2
    assert "Invalid project name" in result.output
    assert not (tmp_path / "my app!").exists()


def test_the_hello_app_keeps_literal_braces_of_route_examples(
    runner: CliRunner, tmp_path: Path
) -> None:
    runner.invoke(main, ["new-project", "braces"])

    source = (tmp_path / "braces" / "app.py").read_text()
    assert 'return {"hello": "world"}' in source
    assert '@app.route("/hello/{name}")' in source
