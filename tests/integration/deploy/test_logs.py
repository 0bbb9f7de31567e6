"""Reading a deployed stage's CloudWatch logs (moto's CloudWatch Logs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.deployer import deploy
from lambic.deploy.errors import RecordError
from lambic.deploy.logs import read_deployed_logs

from .conftest import client

pytestmark = pytest.mark.usefixtures("aws_env")
# CloudWatch drops events older than 14 days, so the timestamps must be recent.
NOW = int(time.time() * 1000) - 60_000


def _write(group: str, messages: list[tuple[int, str]]) -> None:
    logs = client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/25/[$LATEST]abc")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/11/25/[$LATEST]abc",
        logEvents=[{"timestamp": ts, "message": text} for ts, text in messages],
    )


def test_merges_the_stage_functions_logs_in_time_order(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("web")
    deploy(project, "dev")
    _write("/aws/lambda/web-dev", [(NOW, "START api"), (NOW + 300, "END")])
    _write("/aws/lambda/web-dev-token_auth", [(NOW + 100, "auth ok")])
    events = list(read_deployed_logs(project, "dev"))
    assert [(e.function_name, e.message) for e in events] == [
        ("web-dev", "START api"),
        ("web-dev-token_auth", "auth ok"),
        ("web-dev", "END"),
    ]
    only = list(read_deployed_logs(project, "dev", function="token_auth"))
    assert [e.message for e in only] == ["auth ok"]


def test_follow_keeps_polling_and_never_repeats_an_event(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("hello")
    deploy(project, "dev")
    _write("/aws/lambda/hello-dev", [(NOW, "first")])
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        client("logs").put_log_events(
            logGroupName="/aws/lambda/hello-dev",
            logStreamName="2026/11/25/[$LATEST]abc",
            logEvents=[{"timestamp": NOW + 1000, "message": "second"}],
        )

    stream = read_deployed_logs(project, "dev", follow=True, poll_interval=0.5, sleep=sleep)
    assert next(stream).message == "first"
    assert next(stream).message == "second"
    assert polls == [0.5]


def test_undeployed_stage_says_to_deploy(copy_app: Callable[[str], Path]) -> None:
    with pytest.raises(RecordError, match=r"run `lambic deploy --stage prod`"):
        list(read_deployed_logs(copy_app("hello"), "prod"))


def test_lambic_logs_reads_cloudwatch_for_a_deployed_stage(
    copy_app: Callable[[str], Path],
) -> None:
    from click.testing import CliRunner

    from lambic.cli.main import main

    project = copy_app("hello")
    deploy(project, "dev")
    _write("/aws/lambda/hello-dev", [(NOW, "START from AWS")])
    result = CliRunner().invoke(main, ["logs", "--stage", "dev", "--project-dir", str(project)])
    assert result.exit_code == 0, result.output
    assert "hello-dev" in result.output and "START from AWS" in result.output
    undeployed = CliRunner().invoke(
        main, ["logs", "--stage", "prod", "--source", "aws", "--project-dir", str(project)]
    )
    assert undeployed.exit_code == 2
    assert "lambic deploy --stage prod" in undeployed.output
