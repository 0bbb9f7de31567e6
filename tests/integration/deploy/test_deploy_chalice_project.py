"""A Chalice project, unchanged, deployed to moto: `.chalice/config.json` decides.

The bucket and queue its handlers name exist beforehand (as deploy requires); its
requirements are emptied so no package index is needed (resolving requirements is
covered by test_packager and the slow real-index test).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.deployer import delete, deploy

from .conftest import client


@pytest.fixture
def chalice_project(copy_app: Callable[[str], Path], aws_env: str) -> Path:
    project = copy_app("chalice_project")
    (project / "requirements.txt").write_text("")
    client("s3").create_bucket(Bucket="chalice-uploads")
    client("sqs").create_queue(QueueName="chalice-jobs")
    return project


def test_a_chalice_project_deploys_with_its_stage_settings_and_wiring(
    chalice_project: Path,
) -> None:
    record = deploy(chalice_project, "prod")

    lam = client("lambda")
    names = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])
    assert names == [
        "chaliceproj-prod",
        "chaliceproj-prod-add",
        "chaliceproj-prod-hourly",
        "chaliceproj-prod-job",
        "chaliceproj-prod-uploaded",
    ]
    api = lam.get_function(FunctionName="chaliceproj-prod")["Configuration"]
    assert api["MemorySize"] == 512
    assert api["Environment"]["Variables"]["GREETING"] == "hello from prod"
    rule = client("events").describe_rule(Name="chaliceproj-prod-hourly")
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    notification = client("s3").get_bucket_notification_configuration(Bucket="chalice-uploads")
    [upload] = notification["LambdaFunctionConfigurations"]
    assert upload["LambdaFunctionArn"].endswith(":function:chaliceproj-prod-uploaded")
    [mapping] = lam.list_event_source_mappings()["EventSourceMappings"]
    assert mapping["EventSourceArn"].endswith(":chalice-jobs")
    assert record.api_url is not None and record.api_url.endswith("/v1/")

    delete(chalice_project, "prod")
    assert lam.list_functions()["Functions"] == []
