"""Lambda's environment variables for functions and for imports that only read the app."""

from __future__ import annotations

from pathlib import Path

from lambic.project.config import FunctionSettings, parse_config
from lambic.project.environ import function_environment, import_environment

SHELL = {
    "PATH": "/usr/bin",
    "AWS_ACCESS_KEY_ID": "AKIASHELL",
    "AWS_SECRET_ACCESS_KEY": "shell-secret",
    "AWS_PROFILE": "production",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
}


def test_a_function_gets_lambdas_reserved_variables() -> None:
    settings = FunctionSettings("worker", "shop-dev-worker", "app.worker", "sqs", memory_size=256)

    stream = "2026/12/06/[$LATEST]x"
    env = function_environment(settings, task_root=Path("/task"), log_stream=stream)

    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "shop-dev-worker"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/shop-dev-worker"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == stream
    assert (env["_HANDLER"], env["LAMBDA_TASK_ROOT"]) == ("app.worker", "/task")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_reading_the_app_never_sees_the_shells_aws_identity() -> None:
    config = parse_config({"app_name": "shop", "environment_variables": {"TABLE": "t"}})

    env = import_environment(config, "dev", project_dir=Path("/p"), base=SHELL)

    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "lambic-local"
    assert "AWS_PROFILE" not in env
    assert (env["PATH"], env["AWS_ENDPOINT_URL"]) == ("/usr/bin", "http://127.0.0.1:4566")
    assert (env["TABLE"], env["AWS_LAMBDA_FUNCTION_NAME"]) == ("t", "shop-dev")


def test_without_local_services_the_shell_identity_is_kept_as_functions_keep_it() -> None:
    config = parse_config({"app_name": "shop"})

    env = import_environment(config, "dev", project_dir=Path("/p"), base=SHELL, shell_identity=True)

    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_PROFILE"]) == ("AKIASHELL", "production")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "shop-dev"
