"""The flagship example end to end: the README's `lambic local`, its schedule, API, table and page.

Nothing here reaches into Lambic: the app runs as a user runs it, and everything is
checked from outside, over HTTP and through boto3, as a user or AWS console would.
The snapshot recorded depends on which capture the offline replay served at the first
fire, so every answer is checked against that capture parsed independently.
"""

from __future__ import annotations

import base64
import http.server
import importlib
import json
import re
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.slow

LINE_GROUPS = ["123", "456", "7", "ACE", "BDFM", "G", "JZ", "L", "NQR", "S", "SIR"]
TABLE = "trainstatus"
BUCKET = "trainstatus-site"
ACCESS_DENIED = "serviceStatus_2018-07-21_access-denied.html"


def verdict(status: str) -> str:
    # The original site's rule: only GOOD SERVICE is "NOPE" (the train is not fucked).
    return "NOPE" if status == "GOOD SERVICE" else "YUP"


# --- the command under test is the README's ---


def test_the_readme_opens_with_the_command_these_tests_run(trainstatus_cloud: Any) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block, "README.md must open with a bash block"
    assert block.group(1).splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && "
        ".venv/bin/lambic local --project-dir examples/trainstatus",
        "./scripts/test",
    ]
    # Same console script and subcommand; only the ports (free ones) and reload differ.
    argv = trainstatus_cloud.proc.args
    assert Path(argv[0]).name == "lambic" and argv[1:3] == ["local", "--project-dir"]
    assert Path(argv[3]).name == "trainstatus"


# --- before the first fire: the first tests run while the schedule's minute passes ---


def test_before_the_first_check_the_api_answers_a_clear_404(trainstatus_cloud: Any) -> None:
    fired = "[event] schedule -> update_status"
    assert fired not in trainstatus_cloud.output(), "run this first: the schedule already fired"

    for path in ("/latest", "/lines/ace", "/history"):
        status, error = trainstatus_cloud.get_json(path)
        if fired in trainstatus_cloud.output():
            break  # a slow machine reached the first fire: nothing more to check here
        assert status == 404, (path, error)
        assert error["Code"] == "NotFoundError"
        assert "No status recorded" in error["Message"], error


# --- a feed that is refused, before the first fire (it runs while the schedule waits) ---


class _DeniedFeed(http.server.BaseHTTPRequestHandler):
    """Serves the captured Akamai "Access Denied" page: with 200 at /ok, with 403 elsewhere."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 403)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def denied_feed(trainstatus_project: Path) -> Iterator[str]:
    _DeniedFeed.page = (
        trainstatus_project / "chalicelib" / "captures" / ACCESS_DENIED
    ).read_bytes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DeniedFeed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def refused_stage(trainstatus_cloud: Any, trainstatus_aws: Any, denied_feed: str) -> Iterator[str]:
    """A config stage whose feed is the denied page; its own table and bucket, created empty."""
    config_path = trainstatus_cloud.project_dir / ".lambic" / "config.json"
    original = config_path.read_text()
    config = json.loads(original)
    config["stages"]["refused"] = {
        "environment_variables": {
            "TABLE_NAME": "trainstatus-refused",
            "BUCKET_NAME": "trainstatus-refused-site",
            "FEED_FORMAT": "xml",
            # The running `lambic local` serves stage dev; `lambic invoke --stage refused`
            # would use this stage's own state. A stage's own AWS_ENDPOINT_URL wins, so
            # its calls reach the running local's services, where the test reads.
            "AWS_ENDPOINT_URL": trainstatus_cloud.services_url,
        }
    }
    config_path.write_text(json.dumps(config, indent=2))
    dynamodb = trainstatus_aws("dynamodb")
    dynamodb.create_table(
        TableName="trainstatus-refused",
        KeySchema=[
            {"AttributeName": "date", "KeyType": "HASH"},
            {"AttributeName": "time", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "date", "AttributeType": "S"},
            {"AttributeName": "time", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    trainstatus_aws("s3").create_bucket(Bucket="trainstatus-refused-site")
    yield "refused"
    config_path.write_text(original)


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/ok", r"Feed is not XML .*Access Denied"),
        ("/denied", r"http://127\.0\.0\.1:\d+/denied answered HTTP 403 Forbidden"),
    ],
    ids=["unparseable-feed", "failed-fetch"],
)
def test_a_refused_feed_writes_nothing_and_logs_why(
    trainstatus_cloud: Any,
    refused_stage: str,
    denied_feed: str,
    trainstatus_aws: Any,
    lambic_cli: Any,
    path: str,
    why: str,
) -> None:
    config_path = trainstatus_cloud.project_dir / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"][refused_stage]["environment_variables"]["FEED_URL"] = denied_feed + path
    config_path.write_text(json.dumps(config, indent=2))
    project = str(trainstatus_cloud.project_dir)

    # `--schedule` sends the Scheduled Event the rule would deliver if it fired now.
    result = lambic_cli(
        "invoke",
        "-n",
        "update_status",
        "--schedule",
        "--stage",
        refused_stage,
        "--project-dir",
        project,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["updated"] is False and re.search(why, answer["reason"]), answer
    assert trainstatus_aws("dynamodb").scan(TableName="trainstatus-refused")["Count"] == 0
    assert trainstatus_aws("s3").list_objects_v2(Bucket="trainstatus-refused-site")["KeyCount"] == 0
    logs = lambic_cli(
        "logs", "-n", "update_status", "--stage", refused_stage, "--project-dir", project
    )
    assert logs.returncode == 0, logs.stderr
    assert re.search(r"Not updating the status: " + why, logs.stdout), logs.stdout


# --- after the schedule's first fire ---


def _expected_rows(project_dir: Path, capture: str) -> list[list[str]]:
    """The capture the replay served, parsed by the example's own parser (its tests prove it)."""
    # Imported from the example in the repository, as tests/examples/trainstatus does (one
    # `chalicelib` per test session); the copy under test is byte-identical to it.
    example = Path(__file__).resolve().parents[2] / "examples" / "trainstatus"
    if str(example) not in sys.path:
        sys.path.insert(0, str(example))
    feeds = importlib.import_module("chalicelib.feeds")
    sources = importlib.import_module("chalicelib.sources")

    path = project_dir / "chalicelib" / "captures" / capture
    fmt = {".txt": "xml", ".json": "gtfs-json", ".pb": "gtfs-protobuf"}[path.suffix]
    assert capture in {replayed.name for replayed in sources.ReplayFetcher().files}
    rows: list[list[str]] = feeds.parse_feed(path.read_bytes(), fmt).as_rows()
    return rows


@pytest.fixture(scope="module")
def recorded(first_fire: str, trainstatus_cloud: Any, trainstatus_aws: Any) -> dict[str, Any]:
    """The newest snapshot item in the table after the first fire, via boto3's resource API."""
    table = boto3.resource(
        "dynamodb",
        endpoint_url=trainstatus_cloud.services_url,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",
    ).Table(TABLE)
    items: list[dict[str, Any]] = table.scan()["Items"]
    assert items, f"the first fire recorded nothing:\n{trainstatus_cloud.output()}"
    return max(items, key=lambda item: item["time"])


def test_the_dynamodb_item_has_the_talks_keys_and_rows(recorded: dict[str, Any]) -> None:
    assert set(recorded) == {"date", "time", "data"}
    assert isinstance(recorded["time"], Decimal)
    moment = datetime.fromtimestamp(float(recorded["time"]), tz=timezone.utc)
    assert recorded["date"] == moment.date().isoformat()  # days are UTC days
    assert [row[0] for row in recorded["data"]] == LINE_GROUPS
    for line, status, said in recorded["data"]:
        assert said == verdict(status), (line, status, said)


def test_the_fire_logs_what_it_recorded(
    trainstatus_cloud: Any, recorded: dict[str, Any], lambic_cli: Any
) -> None:
    project = str(trainstatus_cloud.project_dir)
    logs = lambic_cli("logs", "-n", "update_status", "--project-dir", project)

    assert logs.returncode == 0, logs.stderr
    bad = [line for line, _, said in recorded["data"] if said == "YUP"]
    summary = re.search(r"INFO - Recorded 11 lines from (\S+); problems on (\[.*\])", logs.stdout)
    assert summary, logs.stdout
    assert summary.group(2) == repr(bad)
    assert "ERROR" not in logs.stdout


def test_the_time_range_key_round_trips_exactly_as_a_number(
    recorded: dict[str, Any], trainstatus_aws: Any
) -> None:
    # The app writes Decimal(time.time()): every digit of the float must survive
    # DynamoDB's N type, so a key read back finds the very same item.
    number = str(recorded["time"])
    assert Decimal(float(recorded["time"])) == recorded["time"]
    item = trainstatus_aws("dynamodb").get_item(
        TableName=TABLE, Key={"date": {"S": recorded["date"]}, "time": {"N": number}}
    )["Item"]
    assert item["time"] == {"N": number}
    assert item["data"]["L"][0]["L"][0] == {"S": "123"}


def test_latest_answers_every_line_in_the_talks_shape(
    trainstatus_cloud: Any, recorded: dict[str, Any]
) -> None:
    status, headers, body = trainstatus_cloud.get("/latest")

    assert status == 200 and headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert set(answer) == {"data"}
    assert list(answer["data"]) == LINE_GROUPS
    for line, state in answer["data"].items():
        assert set(state) == {"is_fucked", "status"}
        assert state["is_fucked"] in ("YUP", "NOPE")
        assert state["is_fucked"] == verdict(state["status"]), line
    assert answer["data"] == {
        line: {"is_fucked": said, "status": status} for line, status, said in recorded["data"]
    }


def test_one_line_answers_and_an_unknown_line_is_a_clear_404(
    trainstatus_cloud: Any, recorded: dict[str, Any]
) -> None:
    status, ace = trainstatus_cloud.get_json("/lines/ace")
    assert status == 200
    row = next(row for row in recorded["data"] if row[0] == "ACE")
    assert ace == {
        "line": "ACE",
        "checked_at": float(recorded["time"]),
        "status": row[1],
        "is_fucked": row[2],
    }

    status, missing = trainstatus_cloud.get_json("/lines/qx")
    assert status == 404
    assert missing["Code"] == "NotFoundError"
    assert "'qx'" in missing["Message"] and "ACE" in missing["Message"]


def test_history_pages_one_snapshot_at_a_time_with_next(
    trainstatus_cloud: Any, recorded: dict[str, Any], trainstatus_aws: Any
) -> None:
    day = recorded["date"]
    stored = trainstatus_aws("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="#d = :d",
        ExpressionAttributeNames={"#d": "date"},
        ExpressionAttributeValues={":d": {"S": day}},
    )["Items"]
    seen: list[float] = []
    path = f"/history?date={day}&limit=1"
    for _ in range(len(stored) + 1):
        status, page = trainstatus_cloud.get_json(path)
        assert status == 200, page
        assert page["date"] == day and len(page["snapshots"]) <= 1
        seen += [snapshot["time"] for snapshot in page["snapshots"]]
        if page["snapshots"]:
            assert list(page["snapshots"][0]["data"]) == LINE_GROUPS
        if "next" not in page:
            break
        json.loads(base64.urlsafe_b64decode(page["next"]))  # an opaque but well-formed token
        path = f"/history?date={day}&limit=1&next={page['next']}"
    else:
        pytest.fail(f"history never stopped paging after {len(stored)} snapshots")
    assert seen == sorted((float(item["time"]["N"]) for item in stored), reverse=True)
    assert float(recorded["time"]) in seen


def test_history_refuses_bad_input_with_400_and_an_empty_day_with_404(
    trainstatus_cloud: Any,
) -> None:
    for path in ("/history?date=25-11-2026", "/history?limit=0", "/history?next=%21%21"):
        status, error = trainstatus_cloud.get_json(path)
        assert (status, error["Code"]) == (400, "BadRequestError"), (path, error)
    status, error = trainstatus_cloud.get_json("/history?date=1999-01-01")
    assert (status, error["Code"]) == (404, "NotFoundError")


def test_the_page_in_s3_shows_the_recorded_snapshot(
    trainstatus_cloud: Any, recorded: dict[str, Any], trainstatus_aws: Any
) -> None:
    page = trainstatus_aws("s3").get_object(Bucket=BUCKET, Key="index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    html = page["Body"].read().decode("utf-8")

    for line, status, said in recorded["data"]:
        item = re.search(rf'<li class="line" data-line="{line}".*?</li>', html)
        assert item, f"no list item for {line}"
        assert f">{status}<" in item.group(0) and f">{said}<" in item.group(0)
    checked = datetime.fromtimestamp(float(recorded["time"]), tz=timezone.utc)
    assert f"{checked:%Y-%m-%d %H:%M:%S} UTC" in html

    # The page names the capture it came from; parse that capture independently.
    source = re.search(r"from (\S+)</p>", html)
    assert source, "the page does not say where the status came from"
    assert _expected_rows(trainstatus_cloud.project_dir, source.group(1)) == recorded["data"]


def test_the_page_is_served_over_plain_http_on_the_website_path(
    trainstatus_cloud: Any, trainstatus_aws: Any, first_fire: str
) -> None:
    stored = trainstatus_aws("s3").get_object(Bucket=BUCKET, Key="index.html")["Body"].read()
    port = trainstatus_cloud.services_port
    for path in ("/trainstatus-site/index.html", "/trainstatus-site/"):
        status, headers, body = trainstatus_cloud.get(path, port=port)
        assert status == 200, (path, body[:200])
        assert headers["content-type"] == "text/html; charset=utf-8", path
        assert body == stored, path
