"""Declared Kinesis streams (`resources.kinesis_streams`) deployed to moto, changed, deleted.

The app's one handler reads the stream "clicks" by name: declared, the deploy creates
it (with its shards and retention) before wiring the handler to it; not declared, it
must exist already, and the deploy refuses before any change when it does not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambic.deploy.aws import AWSSession
from lambic.deploy.deployer import delete, deploy
from lambic.deploy.errors import ConfigError
from lambic.deploy.records import load_record

from .conftest import REGION, CallLog, client

Session = Callable[[], tuple[AWSSession, CallLog]]
ACCOUNT = "123456789012"  # moto's
APP = """\
from lambic import Lambic

app = Lambic(app_name="clicks")


@app.on_kinesis_record(stream="clicks", starting_position="TRIM_HORIZON")
def on_click(event):
    return None
"""


def _project(tmp_path: Path, streams: list[dict[str, Any]] | None) -> Path:
    project = tmp_path / "clicks"
    (project / ".lambic").mkdir(parents=True, exist_ok=True)
    (project / "app.py").write_text(APP)
    _declare(project, streams)
    return project


def _declare(project: Path, streams: list[dict[str, Any]] | None) -> None:
    config: dict[str, Any] = {"version": "2.0", "app_name": "clicks", "stages": {"dev": {}}}
    if streams is not None:
        config["resources"] = {"kinesis_streams": streams}
    (project / ".lambic" / "config.json").write_text(json.dumps(config))


def _summary(name: str = "clicks") -> dict[str, Any]:
    summary: dict[str, Any] = client("kinesis").describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"
    ]
    return summary


def test_a_declared_stream_is_created_with_its_shards_before_the_handler_is_wired_to_it(
    tmp_path: Path, aws_env: str, counted_session: Session
) -> None:
    project = _project(
        tmp_path, [{"StreamName": "clicks", "ShardCount": 2, "RetentionPeriodHours": 48}]
    )
    lines: list[str] = []
    aws, log = counted_session()
    deploy(project, "dev", aws=aws, echo=lines.append)

    summary = _summary()
    assert (summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (2, 48)
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    [mapping] = client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert mapping["EventSourceArn"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks"
    assert mapping["FunctionArn"].endswith(":function:clicks-dev-on_click")
    # The stream first (the mapping needs it), its retention set once it is ACTIVE.
    kinesis = [op for service, op in log.calls if service == "kinesis" and op in log.mutating]
    assert kinesis == ["CreateStream", "IncreaseStreamRetentionPeriod"]
    assert log.mutating.index("CreateStream") < log.mutating.index("CreateEventSourceMapping")
    assert "  created   Kinesis stream clicks" in lines

    # Unchanged: nothing to do.
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert log.mutating == []


def test_changed_shards_retention_and_mode_are_applied_in_place(
    tmp_path: Path, aws_env: str, counted_session: Session
) -> None:
    project = _project(tmp_path, [{"StreamName": "clicks", "ShardCount": 1}])
    deploy(project, "dev")
    created = _summary()["StreamCreationTimestamp"]

    _declare(project, [{"StreamName": "clicks", "ShardCount": 2, "RetentionPeriodHours": 72}])
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert log.mutating == ["UpdateShardCount", "IncreaseStreamRetentionPeriod"]
    summary = _summary()
    assert (summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (2, 72)
    assert summary["StreamCreationTimestamp"] == created  # the same stream, resharded

    _declare(project, [{"StreamName": "clicks", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}])
    aws, log = counted_session()
    deploy(project, "dev", aws=aws)
    assert log.mutating == ["UpdateStreamMode", "DecreaseStreamRetentionPeriod"]
    summary = _summary()
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["RetentionPeriodHours"] == 24


def test_delete_keeps_the_stream_until_asked_to_delete_its_data(
    tmp_path: Path, aws_env: str
) -> None:
    project = _project(tmp_path, [{"StreamName": "clicks", "ShardCount": 1}])
    deploy(project, "dev")
    # (No record put: moto would run the mapped function for it, which needs docker.)

    lines: list[str] = []
    delete(project, "dev", echo=lines.append)
    assert client("kinesis").list_streams()["StreamNames"] == ["clicks"]
    assert client("lambda").list_functions()["Functions"] == []
    assert any("kept" in line and "Kinesis stream clicks" in line for line in lines), lines

    asked: list[list[str]] = []
    delete(project, "dev", include_data=True, confirm=lambda held: asked.append(held) or True)
    assert asked == [["Kinesis stream clicks (the records of the last 24 hours)"]]
    assert client("kinesis").list_streams()["StreamNames"] == []
    assert load_record(project, "dev") is None


def test_an_undeclared_stream_missing_on_aws_refuses_the_deploy_before_any_change(
    tmp_path: Path, aws_env: str, counted_session: Session
) -> None:
    project = _project(tmp_path, None)
    aws, log = counted_session()
    with pytest.raises(ConfigError) as refused:
        deploy(project, "dev", aws=aws)
    # The sentence `lambic local` prints when it creates the stream for the app.
    assert str(refused.value) == (
        "@app.on_kinesis_record (on_click) names Kinesis stream 'clicks', which is not "
        "declared under resources.kinesis_streams in .lambic/config.json: `lambic deploy` "
        "needs it to exist in the account already; declare it there to have deploy create it"
    )
    assert log.mutating == []

    # Made outside the app, it is used as it is (and never deleted by Lambic).
    client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    deploy(project, "dev")
    delete(project, "dev", include_data=True, confirm=lambda held: True)
    assert client("kinesis").list_streams()["StreamNames"] == ["clicks"]
