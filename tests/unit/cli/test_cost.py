"""`lambic cost`: the stage's metered usage priced and projected, as a table or JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambic.cli.main import main
from lambic.project.metering import Meter
from lambic.runtime.logstore import connect, write_rows
from lambic.runtime.usage import UsageRecord


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose dev stage ran 4 requests to a 256 MB function (one cold) and,
    on an arm64 worker, 1 invocation; plus S3 and SQS requests."""
    (tmp_path / ".lambic").mkdir()
    (tmp_path / ".lambic" / "config.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "app_name": "shop",
                "lambda_memory_size": 256,
                "lambda_functions": {"worker": {"lambda_architecture": "arm64"}},
            }
        )
    )
    state = tmp_path / ".lambic" / "state" / "dev"
    now = int(time.time() * 1000)
    conn = connect(state / "logs.sqlite3")
    rows = [
        UsageRecord("shop-dev", f"r{n}", now - 60_000 + n, "ok", 9.5, 10, 256, 50, None, False)
        for n in range(3)
    ]
    rows.append(UsageRecord("shop-dev", "r3", now - 30_000, "ok", 9.5, 130, 256, 50, 120.0, True))
    rows.append(UsageRecord("shop-dev-worker", "w", now, "ok", 999.0, 1000, 256, 50, None, False))
    write_rows(conn, [], rows)
    conn.close()
    meter = Meter(state / "logs.sqlite3")
    meter.add("apigateway", "rest", "requests", 4)
    meter.add("s3", "site", "tier1", 2)
    meter.add("sqs", "jobs", "requests", 3)
    meter.close()
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["cost", *args])
    return result.exit_code, result.output


def test_json_gives_quantities_unit_prices_and_amounts(project: Path) -> None:
    code, out = run("--project-dir", str(project), "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    lines = {(line["resource"], line["metric"]): line for line in data["lines"]}
    assert lines[("shop-dev", "requests")]["quantity"] == 4
    # 3 x 10 ms + 130 ms (init included) at 256 MB.
    api_gb = lines[("shop-dev", "gb_seconds")]
    assert api_gb["quantity"] == pytest.approx(160 * 256 / 1024 / 1000)
    assert api_gb["price_key"] == "lambda.gb_seconds.x86_64"
    assert lines[("shop-dev-worker", "gb_seconds")]["price_key"] == "lambda.gb_seconds.arm64"
    assert lines[("rest", "requests")]["unit_price"] == 3.50
    for line in data["lines"]:
        assert line["amount"] == pytest.approx(line["quantity"] * line["unit_price"] / line["per"])
    assert data["totals"]["amount"] == pytest.approx(sum(x["amount"] for x in data["lines"]))
    assert data["region"] == "us-east-1" and data["free_tier"] is True


def test_the_table_names_each_line_and_what_dominates(project: Path) -> None:
    code, out = run("--project-dir", str(project), "--per-day", "10000")
    assert code == 0, out
    assert "Stage dev, us-east-1 prices of" in out
    assert "at 10,000 requests a day" in out
    assert "API Gateway REST requests" in out and "Lambda compute, arm64" in out
    assert "dominates" in out
    assert "Per month by function: shop-dev" in out


def test_region_and_free_tier_options_change_the_bill(project: Path) -> None:
    _, us = run("--project-dir", str(project), "--format", "json", "--no-free-tier")
    _, eu = run(
        "--project-dir", str(project), "--format", "json", "--no-free-tier",
        "--region", "eu-central-1",
    )  # fmt: skip
    us_lines = {line["price_key"]: line for line in json.loads(us)["lines"]}
    eu_lines = {line["price_key"]: line for line in json.loads(eu)["lines"]}
    assert us_lines["s3.tier1"]["unit_price"] == 0.005
    assert eu_lines["s3.tier1"]["unit_price"] == 0.0054
    assert all(line["free_quantity"] == 0 for line in json.loads(us)["lines"])


def test_a_window_with_nothing_in_it_says_so(project: Path) -> None:
    code, out = run("--project-dir", str(project), "--since", "2099-01-01T00:00:00")
    assert code == 0 and "Nothing billable metered in stage dev" in out


def test_bad_input_is_one_line_and_a_non_zero_exit(project: Path, tmp_path: Path) -> None:
    code, out = run("--project-dir", str(project), "--region", "mars-1")
    assert code != 0 and "has prices for" in out and "us-east-1" in out
    code, out = run("--project-dir", str(project), "--since", "yesterday")
    assert code != 0 and "--since 'yesterday'" in out
    code, out = run("--project-dir", str(project), "--stage", "prod")
    assert code != 0 and "Nothing has run in stage prod yet" in out


def test_until_ends_the_window_so_two_runs_price_the_same_one(project: Path) -> None:
    until = str(int(time.time() * 1000) - 45_000)  # after the first three invocations only
    code, out = run("--project-dir", str(project), "--until", until, "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert data["window"]["until_ms"] == int(until)
    lines = {(line["resource"], line["metric"]): line for line in data["lines"]}
    assert lines[("shop-dev", "requests")]["quantity"] == 3
    assert ("shop-dev-worker", "requests") not in lines
    assert run("--project-dir", str(project), "--until", until, "--format", "json")[1] == out


def test_the_table_marks_prices_not_verified_for_the_region(project: Path) -> None:
    _, eu = run("--project-dir", str(project), "--region", "eu-west-1")
    assert "* Not verified: the eu-west-1 price of" in eu
    assert "s3.tier1" in eu and "lambda.requests" in eu
    assert "$0.005 / 1K requests *" in eu
    _, us = run("--project-dir", str(project))
    # In us-east-1 only the figures never checked are marked (SQS's here).
    assert "* Not verified: the us-east-1 price of sqs.requests was shipped" in us
    assert "$0.005 / 1K requests *" not in us
