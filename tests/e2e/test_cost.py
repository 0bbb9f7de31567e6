"""`lambic cost` after a known workload on a real `lambic local` (issue 19, Done means).

N requests to a 256 MB function, M PutItems of known sizes, K S3 PUTs and GETs and J
SQS messages, sent by unchanged boto3 and HTTP; then `lambic local` stops (SIGTERM,
which flushes the meter) and `lambic cost --format json` must report each quantity
exactly and price each at the shipped price table's figure. Its GB-seconds must equal
the REPORT lines' billed durations x memory, cold-start init included.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from .conftest import LAMBIC, LocalCloudProcess, subprocess_environment

APP = Path(__file__).resolve().parents[1] / "apps" / "cost_workload"

N_REQUESTS = 7
ITEM_SIZES = [100, 1024, 1025, 3000, 5000]  # bytes, by DynamoDB's measure
K_OBJECTS = 3
J_MESSAGES = 4

pytestmark = pytest.mark.slow


def item(key: str, size: int) -> dict[str, Any]:
    """An item of exactly `size` bytes: attribute names plus values."""
    used = len("pk") + len(key) + len("v")
    return {"pk": {"S": key}, "v": {"S": "x" * (size - used)}}


def run_workload(cloud: LocalCloudProcess) -> None:
    for _ in range(N_REQUESTS):
        status, _, _ = cloud.get("/")
        assert status == 200
    ddb, s3, sqs = cloud.client("dynamodb"), cloud.client("s3"), cloud.client("sqs")
    ddb.create_table(
        TableName="things",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n, size in enumerate(ITEM_SIZES):
        ddb.put_item(TableName="things", Item=item(f"k{n}", size))
    s3.create_bucket(Bucket="files")
    for n in range(K_OBJECTS):
        s3.put_object(Bucket="files", Key=f"f{n}", Body=b"z" * 2048)
        assert s3.get_object(Bucket="files", Key=f"f{n}")["Body"].read() == b"z" * 2048
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    for n in range(J_MESSAGES):
        sqs.send_message(QueueUrl=url, MessageBody=f"job {n}")


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project after the workload ran and `lambic local` stopped."""
    project = tmp_path_factory.mktemp("cost") / "cost_workload"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("state", "__pycache__"))
    cloud = LocalCloudProcess(project)
    try:
        cloud.wait_for("Serving cost-workload", timeout=60)
        run_workload(cloud)
        code, survivors = cloud.stop()
        assert code == 0 and not survivors, cloud.output()
    finally:
        cloud.close()
    return project


def cost_json(project: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(LAMBIC), "cost", "--project-dir", str(project), "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_environment(),
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def shipped_price(key: str, region: str = "us-east-1") -> tuple[float, float]:
    """(first-tier price, per) straight from the shipped prices.json."""
    raw = json.loads(resources.files("lambic.cost").joinpath("prices.json").read_text())
    entry = raw["prices"][key]
    value = entry["regions"][region]
    price = value[0][1] if isinstance(value, list) else value
    return float(price), float(entry["per"])


def test_each_metered_quantity_is_exact_and_priced_by_the_table(ran: Path) -> None:
    data = cost_json(ran, "--no-free-tier")
    lines = {(line["service"], line["resource"], line["metric"]): line for line in data["lines"]}
    quantity: Callable[[str, str, str], float] = lambda *key: lines[key]["quantity"]  # noqa: E731
    assert quantity("apigateway", "rest", "requests") == N_REQUESTS
    assert quantity("lambda", "cost-workload-dev", "requests") == N_REQUESTS
    expected_wru = sum(math.ceil(size / 1024) for size in ITEM_SIZES)  # 1+1+2+3+5
    assert quantity("dynamodb", "things", "write_units") == expected_wru == 12
    assert quantity("s3", "files", "tier1") == 1 + K_OBJECTS  # CreateBucket + PUTs
    assert quantity("s3", "files", "tier2") == K_OBJECTS  # GETs
    assert quantity("sqs", "jobs", "requests") == 1 + J_MESSAGES  # CreateQueue + sends
    for line in data["lines"]:
        price, per = shipped_price(line["price_key"])
        assert line["unit_price"] == price and line["per"] == per
        assert line["amount"] == pytest.approx(line["quantity"] * price / per, rel=1e-12)
    assert data["totals"]["amount"] == pytest.approx(sum(x["amount"] for x in data["lines"]))


def test_storage_of_the_bucket_and_table_was_sampled(ran: Path) -> None:
    lines = cost_json(ran)["lines"]
    stored = {line["price_key"]: line for line in lines if line["metric"] == "byte_hours"}
    assert stored["s3.storage"]["quantity"] > 0 and stored["s3.storage"]["unit"] == "GB-month"
    assert stored["dynamodb.storage"]["quantity"] > 0


def test_gb_seconds_equal_the_report_lines_billed_durations_times_memory(ran: Path) -> None:
    data = cost_json(ran)
    (line,) = [x for x in data["lines"] if x["metric"] == "gb_seconds"]
    logs = ran / ".lambic" / "state" / "dev" / "logs.sqlite3"
    with sqlite3.connect(logs) as conn:
        reports = [r[0] for r in conn.execute("SELECT message FROM log_events")]
    reports = [m for m in reports if m.startswith("REPORT RequestId:")]
    assert len(reports) == N_REQUESTS
    mb_ms = 0
    cold = []
    for report in reports:
        billed = int(re.search(r"Billed Duration: (\d+) ms", report).group(1))  # type: ignore[union-attr]
        memory = int(re.search(r"Memory Size: (\d+) MB", report).group(1))  # type: ignore[union-attr]
        assert memory == 256
        mb_ms += billed * memory
        init = re.search(r"Init Duration: ([\d.]+) ms", report)
        if init:
            cold.append((billed, float(init.group(1))))
    assert line["quantity"] == pytest.approx(mb_ms / 1024 / 1000, rel=1e-12)
    # The cold start's init phase is billed (on-demand functions, since August 2025).
    assert cold and all(billed >= math.floor(init) for billed, init in cold)
