"""`lambic local`'s zygote builds boto3 clients for the services the project's code
names (`project.sdk_use.warm_plan`), not the usual seven: an environment holds
those services' models, shared, and no other's."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from lambic._cloud_process import LocalCloudProcess
from tests._support.clouds import RunningCloud

pytestmark = pytest.mark.slow

APP = """
import time

import boto3
from lambic import Lambic

app = Lambic(app_name="warmplan")


def queues():
    return boto3.client("sqs"), boto3.client("sns")


def cached(kind=None):
    # What botocore's loader had cached when this environment was forked (the
    # zygote's clients); nothing here builds a client.
    loader = boto3.DEFAULT_SESSION._session.get_component("data_loader")
    return sorted(
        {
            key[1]
            for key in loader._cache
            if key[0] == "load_service_model" and kind in (None, key[2])
        }
    )


@app.route("/models")
def models():
    return cached()


@app.route("/resource-models")
def resource_models():
    return cached("resources-1")


@app.route("/busy")
def busy():
    time.sleep(1.5)
    return {"busy": True}
"""


DATA_ROUTE = """
@app.route("/data")
def data():
    # How the zygote's session reads botocore's data (`_model_data`), and a client
    # built from it calling the local services.
    loader = boto3.DEFAULT_SESSION._session.get_component("data_loader")
    endpoints = loader.load_data("endpoints")
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="compact")["QueueUrl"]
    return {
        "file_loader": type(loader.file_loader).__name__,
        "services": type(endpoints["partitions"][0]["services"]).__name__,
        "queues": sqs.list_queues()["QueueUrls"] == [url],
    }
"""


def _project(root: Path, app: str) -> Path:
    (root / ".lambic").mkdir(parents=True)
    (root / "app.py").write_text(app)
    (root / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "warmplan"})
    )
    return root


def test_the_zygote_builds_the_services_the_code_names(tmp_path: Path) -> None:
    with RunningCloud(_project(tmp_path, APP), reload=False) as cloud:
        # The first environment waits for the groundwork: the first named service's
        # models (SQS), not DynamoDB's, which come first in the usual list.
        first = cloud.request("GET", "/models").json()
        assert "sqs" in first and "dynamodb" not in first
        time.sleep(2)  # the zygote builds the rest, then forks its spare
        busy = threading.Thread(target=cloud.request, args=("GET", "/busy"))
        busy.start()
        time.sleep(0.3)
        second = cloud.request("GET", "/models").json()  # the spare: a second environment
        busy.join()
        assert second == ["sns", "sqs"]
        # Both have boto3 resources, which the code does not use: none was built.
        assert cloud.request("GET", "/resource-models").json() == []


def test_code_naming_no_service_gets_the_usual_ones(tmp_path: Path) -> None:
    app = APP.replace('boto3.client("sqs"), boto3.client("sns")', "boto3")
    with RunningCloud(_project(tmp_path, app), reload=False) as cloud:
        first = cloud.request("GET", "/models").json()
        assert "dynamodb" in first


def test_environments_read_the_compact_data(tmp_path: Path) -> None:
    """Under `lambic local` (its services too): the environment's default session reads
    botocore's data as the zygote's `_model_data` does, and its client calls SQS."""
    local = LocalCloudProcess(_project(tmp_path, APP + DATA_ROUTE)).start()
    try:
        assert local.get_json("/data") == (
            200,
            {"file_loader": "CompactFileLoader", "services": "PackedServices", "queues": True},
        )
    finally:
        local.close()
