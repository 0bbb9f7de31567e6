"""The flagship example deployed to moto: declared table and bucket, schedule, routes."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambic.deploy.aws import AWSSession
from lambic.deploy.deployer import delete, deploy, url
from lambic.deploy.packager import package_bytes

from .conftest import CallLog, client

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "trainstatus"
Session = Callable[[], tuple[AWSSession, CallLog]]


@pytest.fixture
def trainstatus(tmp_path: Path) -> Path:
    project = tmp_path / "trainstatus"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "state", "deployed", "cache")
    )
    return project


@pytest.fixture
def hermetic(trainstatus: Path) -> Path:
    """The example without third-party requirements, so no package index is needed.

    (Resolving requirements is covered by test_packager against a local index and by
    the slow test below against the real one.)
    """
    (trainstatus / "requirements.txt").write_text("")
    return trainstatus


@pytest.mark.usefixtures("aws_env")
def test_deploys_declared_storage_schedule_and_api_then_deletes_them(
    hermetic: Path, counted_session: Session
) -> None:
    lines: list[str] = []
    record = deploy(hermetic, "dev", echo=lines.append)
    table = client("dynamodb").describe_table(TableName="trainstatus")["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["date", "time"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    website = client("s3").get_bucket_website(Bucket="trainstatus-site")
    assert website["IndexDocument"] == {"Suffix": "index.html"}
    # PublicRead: the page is visible on AWS, and nothing but reading it is allowed.
    block = client("s3").get_public_access_block(Bucket="trainstatus-site")
    assert block["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    site_policy = json.loads(client("s3").get_bucket_policy(Bucket="trainstatus-site")["Policy"])
    assert site_policy["Statement"] == [
        {
            "Sid": "PublicReadGetObject",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::trainstatus-site/*",
        }
    ]
    assert url(hermetic, "dev", website=True) == (
        "http://trainstatus-site.s3-website-us-east-1.amazonaws.com"
    )
    rules = client("events").list_rules()["Rules"]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(1 minute)"]
    api = client("lambda").get_function(FunctionName="trainstatus-dev")["Configuration"]
    assert (api["MemorySize"], api["Timeout"]) == (256, 30)
    assert api["Environment"]["Variables"]["TABLE_NAME"] == "trainstatus"
    policy = client("iam").get_role_policy(RoleName="trainstatus-dev", PolicyName="trainstatus-dev")
    by_action = {
        action: statement["Resource"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }
    assert by_action["dynamodb:PutItem"] == ["arn:aws:dynamodb:*:*:table/trainstatus"]
    assert by_action["s3:PutObject"] == ["arn:aws:s3:::trainstatus-site/*"]
    assert record.api_url and record.api_url.endswith("/api/")
    # The summary gives every address the stage has: the API, the site, the logs.
    assert lines[-4:] == [
        "Deployed trainstatus (dev): 7 created",
        f"  Rest API URL: {record.api_url}",
        "  Website URL:  http://trainstatus-site.s3-website-us-east-1.amazonaws.com",
        "  Logs:         lambic logs --stage dev",
    ]

    aws, log = counted_session()
    lines.clear()
    deploy(hermetic, "dev", aws=aws, echo=lines.append)
    assert log.mutating == []
    assert lines[0] == "No changes: 7 resources up to date in trainstatus (dev), us-east-1"

    delete(hermetic, "dev", include_data=True)
    assert client("dynamodb").list_tables()["TableNames"] == []
    assert client("s3").list_buckets()["Buckets"] == []
    assert client("lambda").list_functions()["Functions"] == []
    assert client("events").list_rules()["Rules"] == []


@pytest.mark.slow
def test_packages_real_requirements_as_linux_wheels(trainstatus: Path) -> None:
    """Needs the package index (pip download); the zip holds protobuf's Linux build.

    boto3 is left out of this copy's requirements: it is pure Python and already in the
    Lambda runtime, and its 12 MB download would only slow the test.
    """
    requirements = (trainstatus / "requirements.txt").read_text().splitlines()
    (trainstatus / "requirements.txt").write_text(
        "\n".join(line for line in requirements if line.strip() != "boto3") + "\n"
    )
    names = zipfile.ZipFile(io.BytesIO(package_bytes(trainstatus))).namelist()
    assert "google/transit/gtfs_realtime_pb2.py" in names
    # protobuf's C extension, from the manylinux2014_x86_64 wheel (an ELF object).
    assert "google/_upb/_message.abi3.so" in names
    assert any(n.startswith("protobuf-") and n.endswith(".dist-info/WHEEL") for n in names)
    data = zipfile.ZipFile(io.BytesIO(package_bytes(trainstatus)))
    assert data.read("google/_upb/_message.abi3.so")[:4] == b"\x7fELF"
    wheel = next(n for n in names if n.startswith("protobuf-") and n.endswith("/WHEEL"))
    assert "manylinux" in data.read(wheel).decode()
    assert "chalicelib/feeds.py" in names
