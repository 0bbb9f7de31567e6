"""`.lambic/config.json`: Chalice's layout, precedence and key-naming errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambic.runtime.config import ConfigError, load_config, parse_config

LAYERED = {
    "version": "2.0",
    "app_name": "demo",
    "environment_variables": {"A": "top", "B": "top", "C": "top", "D": "top"},
    "lambda_memory_size": 256,
    "lambda_timeout": 10,
    "lambda_functions": {
        "worker": {
            "environment_variables": {"B": "function", "C": "function", "D": "function"},
            "lambda_timeout": 20,
            "lambda_memory_size": 512,
        }
    },
    "stages": {
        "dev": {
            "environment_variables": {"C": "stage", "D": "stage"},
            "lambda_timeout": 30,
            "reserved_concurrency": 3,
            "lambda_functions": {
                "worker": {"environment_variables": {"D": "stage-function"}, "lambda_timeout": 40}
            },
        }
    },
}


def test_defaults_are_chalices_when_there_is_no_config_file(tmp_path: Path) -> None:
    resolved = load_config(tmp_path).resolve("dev", "api_handler")
    assert (resolved.memory_size, resolved.timeout, resolved.reserved_concurrency) == (
        128,
        60,
        None,
    )
    assert dict(resolved.environment_variables) == {}


def test_stage_function_beats_stage_beats_function_beats_top_level() -> None:
    config = parse_config(LAYERED)
    worker = config.resolve("dev", "worker")
    assert worker.timeout == 40
    assert worker.memory_size == 512
    assert worker.reserved_concurrency == 3
    assert dict(worker.environment_variables) == {
        "A": "top",
        "B": "function",
        "C": "stage",
        "D": "stage-function",
    }
    other = config.resolve("dev", "api_handler")
    assert (other.timeout, other.memory_size) == (30, 256)
    prod = config.resolve("prod", "worker")
    assert (prod.timeout, prod.reserved_concurrency) == (20, None)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"stages": {"dev": {"lambda_timeout": "ten"}}},
            'stages.dev.lambda_timeout must be an integer from 1 to 900, got "ten"',
        ),
        ({"lambda_timeout": 901}, "lambda_timeout must be an integer from 1 to 900, got 901"),
        (
            {"lambda_memory_size": 64},
            "lambda_memory_size must be an integer from 128 to 10240, got 64",
        ),
        (
            {"lambda_functions": {"w": {"reserved_concurrency": True}}},
            "lambda_functions.w.reserved_concurrency must be an integer from 0 to 1000000, "
            "got true",
        ),
        (
            {"environment_variables": {"PORT": 8080}},
            "environment_variables.PORT must be a string",
        ),
        (
            {"stages": {"dev": {"environment_variables": {"AWS_REGION": "x"}}}},
            "stages.dev.environment_variables.AWS_REGION is reserved by Lambda",
        ),
        ({"stages": []}, "stages must be an object, got an array"),
        ({"local": {"idle_timeout_seconds": 0}}, "local.idle_timeout_seconds must be a positive"),
        ([], "config must be a JSON object, got an array"),
    ],
)
def test_ill_typed_values_raise_config_error_naming_the_key(document: object, message: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_config(document)
    assert message in str(excinfo.value)


def test_unknown_keys_are_reported_not_rejected_as_chalice_ignores_them() -> None:
    config = parse_config(
        {"colour": "blue", "stages": {"dev": {"iam_role_arn": "arn:x", "speed": 1}}}
    )
    assert config.unknown_keys == ("colour", "stages.dev.speed")


def test_local_knobs_are_read_from_the_local_object() -> None:
    config = parse_config({"local": {"account_concurrency": 4, "idle_timeout_seconds": 1.5}})
    assert (config.local.account_concurrency, config.local.idle_timeout_seconds) == (4, 1.5)


def test_invalid_json_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text('{\n  "version": "2.0",\n}')
    with pytest.raises(ConfigError) as excinfo:
        load_config(tmp_path)
    assert "config.json: invalid JSON at line 3" in str(excinfo.value)


def test_a_valid_file_round_trips_through_load_config(tmp_path: Path) -> None:
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text(json.dumps(LAYERED))
    assert load_config(tmp_path).resolve("dev", "worker").timeout == 40
