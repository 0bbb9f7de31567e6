from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambic.deploy.config import load_stage_config
from lambic.deploy.errors import ConfigError


def _write(tmp_path: Path, config: dict[str, object]) -> Path:
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_most_specific_setting_wins_and_environments_merge(tmp_path: Path) -> None:
    project = _write(
        tmp_path,
        {
            "app_name": "demo",
            "lambda_timeout": 10,
            "environment_variables": {"A": "top", "B": "top"},
            "lambda_functions": {
                "worker": {"lambda_timeout": 20, "environment_variables": {"C": "fn"}}
            },
            "stages": {
                "prod": {
                    "lambda_memory_size": 512,
                    "environment_variables": {"B": "stage"},
                    "lambda_functions": {"worker": {"lambda_memory_size": 1024}},
                }
            },
        },
    )
    config = load_stage_config(project, "prod")
    worker = config.function("worker")
    assert (worker.memory_size, worker.timeout) == (1024, 20)
    assert worker.environment == {"A": "top", "B": "stage", "C": "fn"}
    other = config.function("api_handler")
    assert (other.memory_size, other.timeout, other.runtime) == (512, 10, "python3.11")


def test_project_without_config_uses_app_name_and_defaults(tmp_path: Path) -> None:
    config = load_stage_config(tmp_path, "dev", "hello")
    assert (config.app_name, config.api_gateway_stage, config.api_gateway_type) == (
        "hello",
        "api",
        "rest",
    )
    assert config.function("api_handler").memory_size == 128


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lambda_memory_size": 64}, "outside Lambda's 128..10240 MB"),
        ({"lambda_timeout": 901}, "outside Lambda's 1..900 s"),
        ({"lambda_runtime": "python2.7"}, "not supported"),
        ({"lambda_timeout": "60"}, "must be an integer"),
    ],
)
def test_rejects_settings_lambda_would_refuse(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    config = load_stage_config(_write(tmp_path, {"app_name": "x", **settings}), "dev")
    with pytest.raises(ConfigError, match=message):
        config.function("api_handler")


def test_rejects_unknown_api_gateway_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='"rest" or "http"'):
        load_stage_config(_write(tmp_path, {"app_name": "x", "api_gateway_type": "ws"}), "dev")


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text("{nope")
    with pytest.raises(ConfigError, match=r"config\.json"):
        load_stage_config(tmp_path, "dev")
