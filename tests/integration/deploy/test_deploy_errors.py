"""AWS failures surface as one line that says what to do (real botocore errors)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from lambic._cloud_process import free_port
from lambic.cli.main import main
from lambic.deploy.deployer import deploy
from lambic.deploy.errors import AWSError

from .conftest import client


def test_missing_credentials_say_how_to_configure_them(
    aws_env: str, copy_app: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # No instance metadata lookup: it would wait on a link-local address.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AWSError, match=r"no AWS credentials found; run `aws configure`"):
        deploy(copy_app("hello"), "dev")


def test_unknown_profile_is_named(aws_env: str, copy_app: Callable[[str], Path]) -> None:
    with pytest.raises(AWSError, match=r"AWS profile 'nope' is not configured"):
        deploy(copy_app("hello"), "dev", profile="nope")


def test_a_name_taken_by_someone_else_says_to_choose_another(
    aws_env: str, copy_app: Callable[[str], Path]
) -> None:
    client("iam").create_role(RoleName="hello-dev", AssumeRolePolicyDocument="{}")
    with pytest.raises(AWSError, match=r"choose another app_name or stage") as caught:
        deploy(copy_app("hello"), "dev")
    assert caught.value.code == "EntityAlreadyExists"
    assert "\n" not in str(caught.value)


def test_unreachable_service_endpoint_names_the_region(
    aws_env: str, copy_app: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(AWSError, match=r"may not exist in region us-east-1"):
        deploy(copy_app("hello"), "dev")


def test_cli_prints_one_error_line_and_exits_2(
    aws_env: str, copy_app: Callable[[str], Path]
) -> None:
    client("iam").create_role(RoleName="hello-dev", AssumeRolePolicyDocument="{}")
    result = CliRunner().invoke(main, ["deploy", "--project-dir", str(copy_app("hello"))])
    assert result.exit_code == 2
    [line] = [text for text in result.output.splitlines() if text.startswith("Error:")]
    assert "choose another app_name" in line


def test_cli_deploy_url_and_delete_round_trip(
    aws_env: str, copy_app: Callable[[str], Path]
) -> None:
    project = str(copy_app("hello"))
    runner = CliRunner()
    deployed = runner.invoke(main, ["deploy", "--project-dir", project])
    assert deployed.exit_code == 0, deployed.output
    [api_url] = [
        line.removeprefix("  Rest API URL: ")
        for line in deployed.output.splitlines()
        if line.startswith("  Rest API URL: ")
    ]
    shown = runner.invoke(main, ["url", "--project-dir", project])
    assert shown.output.strip() == api_url
    assert runner.invoke(main, ["delete", "--project-dir", project]).exit_code == 0
    gone = runner.invoke(main, ["url", "--project-dir", project])
    assert gone.exit_code == 2
    assert "is not deployed; run `lambic deploy --stage dev`" in gone.output


def test_profile_supplies_credentials_and_region(
    aws_env: str, copy_app: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[profile ci]\nregion = eu-west-1\n")
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("[ci]\naws_access_key_id = ci\naws_secret_access_key = ci\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    project = copy_app("hello")
    record = deploy(project, "dev", profile="ci")
    assert record.region == "eu-west-1"
    assert record.api_url is not None
    assert ".execute-api.eu-west-1.amazonaws.com/api/" in record.api_url
    lam = boto3.client(
        "lambda", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    assert lam.get_function(FunctionName="hello-dev")["Configuration"]["Handler"] == "app.app"
    # The stage now lives in eu-west-1; another region must not silently fork it.
    with pytest.raises(AWSError, match=r"deployed in account 123456789012, region eu-west-1"):
        deploy(project, "dev", profile="ci", region="us-west-2")
