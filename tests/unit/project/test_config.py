"""`.lambic/config.json`: Chalice's layout, precedence and key-naming errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lambic.project.config import (
    DEFAULT_RUNTIME,
    AsyncSettings,
    ConfigError,
    load_config,
    load_stage_config,
    parse_config,
)

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


def _write(tmp_path: Path, config: dict[str, object]) -> Path:
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_the_deployer_resolves_functions_exactly_as_the_runtime_does(tmp_path: Path) -> None:
    project = _write(tmp_path, {**LAYERED, "tags": {"team": "a"}})
    stage = load_stage_config(project, "dev")
    for name in ("worker", "api_handler"):
        assert stage.function(name) == load_config(project).resolve("dev", name, app_name="demo")
    worker = stage.function("worker")
    assert (worker.deployed_name, worker.runtime, dict(worker.tags)) == (
        "demo-dev-worker",
        DEFAULT_RUNTIME,
        {"team": "a"},
    )
    assert stage.function("api_handler").deployed_name == "demo-dev"


def test_project_without_config_uses_app_name_and_defaults(tmp_path: Path) -> None:
    config = load_stage_config(tmp_path, "dev", "hello")
    assert (config.app_name, config.api_gateway_stage, config.api_gateway_type) == (
        "hello",
        "api",
        "rest",
    )
    assert config.function("api_handler").memory_size == 128


def test_a_project_without_any_app_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='add "app_name"'):
        load_stage_config(tmp_path, "dev")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lambda_runtime": "python2.7"}, 'lambda_runtime "python2.7" is not supported'),
        ({"api_gateway_type": "ws"}, 'api_gateway_type must be "rest" or "http", got "ws"'),
        ({"tags": {"cost": 1}}, "tags must be an object of strings"),
        ({"maximum_retry_attempts": 3}, "maximum_retry_attempts must be an integer from 0 to 2"),
        ({"stages": {"dev": {"manage_iam_role": "no"}}}, "stages.dev.manage_iam_role must be true"),
        (
            {"stages": {"dev": {"resources": {"queues": []}}}},
            "stages.dev.resources.queues is not a resource kind",
        ),
    ],
)
def test_keys_only_the_deployer_used_are_checked_when_the_file_is_read(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    # The runtime refuses what AWS would refuse at deploy, before anything runs.
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(_write(tmp_path, {"app_name": "x", **settings}))


def test_deploy_keys_and_resources_are_not_reported_as_unknown() -> None:
    config = parse_config(
        {
            "api_gateway_type": "http",
            "resources": {"s3_buckets": [{"Bucket": "site"}]},
            "stages": {"dev": {"lambda_runtime": "python3.12", "tags": {"a": "b"}}},
        }
    )
    assert config.unknown_keys == ()


def test_a_role_arn_is_required_when_the_role_is_not_managed(tmp_path: Path) -> None:
    project = _write(tmp_path, {"app_name": "x", "stages": {"prod": {"manage_iam_role": False}}})
    with pytest.raises(ConfigError, match=r"stages\.prod: manage_iam_role is false"):
        load_stage_config(project, "prod")


def test_the_api_gateway_stage_defaults_to_chalices_api() -> None:
    assert parse_config({"stages": {"dev": {}}}).api_gateway_stage("dev") == "api"


def test_the_api_gateway_stage_follows_the_stage_then_the_top_level_setting() -> None:
    config = parse_config(
        {"api_gateway_stage": "v1", "stages": {"dev": {}, "prod": {"api_gateway_stage": "live"}}}
    )
    assert config.api_gateway_stage("dev") == "v1"
    assert config.api_gateway_stage("prod") == "live"


def test_async_settings_follow_chalices_precedence_like_every_other_setting() -> None:
    config = parse_config(
        {
            "maximum_event_age_in_seconds": 600,
            "lambda_functions": {"worker": {"on_failure_destination": "failed"}},
            "stages": {
                "dev": {"maximum_retry_attempts": 0, "dead_letter_queue": "dlq"},
                "prod": {"lambda_functions": {"worker": {"maximum_retry_attempts": 1}}},
            },
        }
    )
    assert config.resolve("dev", "worker").asynchronous == AsyncSettings(
        maximum_retry_attempts=0,
        maximum_event_age_in_seconds=600.0,
        on_failure="failed",
        dead_letter_queue="dlq",
    )
    assert config.resolve("prod", "worker").asynchronous == AsyncSettings(
        maximum_retry_attempts=1, maximum_event_age_in_seconds=600.0, on_failure="failed"
    )
    assert config.resolve("prod", "other").asynchronous == AsyncSettings(
        maximum_event_age_in_seconds=600.0
    )


def test_a_stage_resources_list_replaces_the_top_level_one() -> None:
    config = parse_config(
        {
            "resources": {"s3_buckets": [{"Bucket": "top"}]},
            "stages": {"prod": {"resources": {"s3_buckets": [{"Bucket": "prod-site"}]}}},
        }
    )
    assert config.resources("dev").bucket_names() == ["top"]
    assert config.resources("prod").bucket_names() == ["prod-site"]
