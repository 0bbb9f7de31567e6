"""`Project`: functions resolved per stage and the warnings a user should act on."""

from __future__ import annotations

from pathlib import Path

from lambic.project.config import SUPPORTED_RUNTIMES, parse_config
from lambic.project.environ import runtime_name
from lambic.project.manifest import AppManifest, FunctionEntry
from lambic.project.project import Project


def project(config: dict[str, object]) -> Project:
    manifest = AppManifest(
        app_name="shop",
        functions=(
            FunctionEntry("api_handler", "app.app", "api"),
            FunctionEntry("worker", "app.worker", "sqs"),
        ),
    )
    return Project(Path("/nowhere"), parse_config(config), manifest)


def test_functions_carry_names_handlers_and_settings_of_the_stage() -> None:
    functions = project({"stages": {"dev": {"lambda_timeout": 9}}}).functions("dev")
    assert {
        name: (f.deployed_name, f.handler, f.kind, f.timeout) for name, f in functions.items()
    } == {
        "api_handler": ("shop-dev", "app.app", "api", 9),
        "worker": ("shop-dev-worker", "app.worker", "sqs", 9),
    }


def test_a_clean_project_has_nothing_to_warn_about() -> None:
    assert project({"stages": {"dev": {}}}).warnings("dev") == []


def test_unknown_keys_are_named_one_per_line() -> None:
    warnings = project({"colour": "blue", "stages": {"dev": {"speed": 1}}}).warnings("dev")
    assert warnings == [
        ".lambic/config.json: unknown key colour is ignored",
        ".lambic/config.json: unknown key stages.dev.speed is ignored",
    ]


def test_a_function_deploying_on_another_python_is_pointed_out() -> None:
    other = next(r for r in SUPPORTED_RUNTIMES if r != runtime_name())
    config = {"lambda_functions": {"worker": {"lambda_runtime": other}}}

    (warning,) = project(config).warnings("dev")

    assert warning.startswith(f"functions run locally on {runtime_name()} but deploy on {other}")
