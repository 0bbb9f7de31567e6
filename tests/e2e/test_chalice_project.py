"""A Chalice project, not one file changed, under a real `lambic local` and `lambic invoke`.

tests/deploy_apps/chalice_project is what `chalice new-project` users have: `from chalice
import Chalice`, `.chalice/config.json` with two stages, `chalicelib/`. Its routes answer
with the stage's settings, and its S3 and SQS handlers get their events.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import LocalCloudProcess, recorded, wait_until

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "deploy_apps" / "chalice_project"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("chalice")
    project, out = root / "project", root / "out"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__"))
    out.mkdir()
    # The one edit a test needs: where handlers record (an environment variable, as a
    # user would set one). The app and chalicelib are untouched.
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"]["OUT_DIR"] = str(out)
    config_path.write_text(json.dumps(config))
    return project, out


@pytest.fixture(scope="module")
def cloud(project: tuple[Path, Path]) -> Iterator[LocalCloudProcess]:
    local = LocalCloudProcess(project[0])
    try:
        local.wait_for("Press Ctrl-C")  # the banner's last line
        yield local
    finally:
        local.close()


def test_the_banner_serves_the_chalice_app_and_lists_its_unsupported_keys_once(
    cloud: LocalCloudProcess,
) -> None:
    banner = cloud.output()
    assert "Serving chaliceproj (stage dev)" in banner, banner
    assert "(API Gateway stage 'api' served at /)" in banner
    warnings = [line for line in cloud.lines if line.startswith("Warning")]
    # The bucket and queue the handlers name are not declared: created locally, and
    # each said once, as `lambic deploy` will need them to exist.
    assert warnings == [
        "Warning: @app.on_s3_event (uploaded) names bucket 'chalice-uploads', which is not "
        "declared under resources.s3_buckets in .chalice/config.json: `lambic deploy` needs it "
        "to exist in the account already; declare it there to have deploy create it",
        "Warning: @app.on_sqs_message (job) names queue 'chalice-jobs', which is not declared "
        "under resources.sqs_queues in .chalice/config.json: `lambic deploy` needs it to exist "
        "in the account already; declare it there to have deploy create it",
        "Warning: .chalice/config.json: not supported by Lambic yet, ignored: xray",
    ]


def test_routes_answer_with_the_stage_settings_from_chalice_config(
    cloud: LocalCloudProcess,
) -> None:
    assert cloud.request("GET", "/") == (200, {"greeting": "hello from dev", "memory": "128"})
    assert cloud.request("PUT", "/users/ada", {"admin": True}) == (
        200,
        {"name": "ada", "body": {"admin": True}},
    )


def test_s3_and_sqs_handlers_get_their_events(
    cloud: LocalCloudProcess, project: tuple[Path, Path]
) -> None:
    out = project[1]
    cloud.client("s3").put_object(Bucket="chalice-uploads", Key="in/report.csv", Body=b"a,b")
    sqs = cloud.client("sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName="chalice-jobs")["QueueUrl"], MessageBody="go"
    )

    assert wait_until(lambda: recorded(out, "s3"), what="the S3 event") == [
        {"bucket": "chalice-uploads", "key": "in/report.csv"}
    ]
    assert wait_until(lambda: recorded(out, "sqs"), what="the SQS message") == [{"body": "go"}]


def test_invoke_runs_plain_and_schedule_handlers_of_the_other_stage(
    project: tuple[Path, Path],
) -> None:
    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lambic", "invoke", "--project-dir", str(project[0]), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    added = invoke("-n", "add", "--stage", "prod", "--payload", '{"a": 2, "b": 3}')
    assert (added.returncode, json.loads(added.stdout)) == (0, {"sum": 5}), added.stderr
    fired = invoke("-n", "hourly", "--schedule")
    assert fired.returncode == 0, fired.stderr
    assert len(recorded(project[1], "schedule")) == 1
