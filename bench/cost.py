"""`lambic cost` over a million invocations: the report is SQL aggregates, not a row loop.

    .venv/bin/python bench/cost.py [--rows 1000000] [--metered-rows 100000] [--runs 5]

Builds a project whose dev stage's `logs.sqlite3` holds `--rows` usage rows (five
functions over 30 days, a cold start in twenty) and `--metered-rows` per-minute
metered rows (API Gateway, DynamoDB, S3, SQS), then times, median of `--runs`:

- anchor: `SELECT COUNT(*) FROM usage` on its own connection (the least any report
  over that table can cost);
- `lambic cost --format json`, the command itself, in process (click's runner);
- the same as a subprocess, for reference (adds interpreter start-up).

Target (issue 19): the command in process <= 0.5 s over 1,000,000 usage rows.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from click.testing import CliRunner

from lambic.cli.main import main as lambic_main
from lambic.project.metering import METERED_SCHEMA
from lambic.runtime.logstore import connect

FUNCTIONS = ["shop-dev", "shop-dev-worker", "shop-dev-feed", "shop-dev-mail", "shop-dev-nightly"]
METRICS = [
    ("apigateway", "rest", "requests"),
    ("dynamodb", "orders", "read_units"),
    ("dynamodb", "orders", "write_units"),
    ("s3", "site", "tier1"),
    ("s3", "site", "tier2"),
    ("sqs", "jobs", "requests"),
]
MONTH_MS = 30 * 86_400_000


def usage_rows(count: int, start_ms: int) -> Iterator[tuple[object, ...]]:
    step = MONTH_MS / count
    for n in range(count):
        cold = n % 20 == 0
        yield (
            FUNCTIONS[n % len(FUNCTIONS)], f"req-{n}", int(start_ms + n * step), "ok",
            12.3, 13 + (150 if cold else 0), 256, 60, 150.0 if cold else None, int(cold),
        )  # fmt: skip


def metered_rows(count: int, start_ms: int) -> Iterator[tuple[object, ...]]:
    for n in range(count):
        service, resource, metric = METRICS[n % len(METRICS)]
        minute = start_ms - start_ms % 60_000 + (n // len(METRICS)) * 60_000
        yield (minute, service, resource, metric, 1.0 + n % 7)


def build(project: Path, rows: int, metered: int) -> Path:
    (project / ".lambic").mkdir(parents=True)
    config = {"version": "2.0", "app_name": "shop", "lambda_memory_size": 256}
    (project / ".lambic" / "config.json").write_text(json.dumps(config))
    path = project / ".lambic" / "state" / "dev" / "logs.sqlite3"
    conn = connect(path)
    conn.executescript(METERED_SCHEMA)
    start = int(time.time() * 1000) - MONTH_MS - 60_000
    with conn:
        conn.executemany(
            "INSERT INTO usage (function_name, request_id, timestamp_ms, status, duration_ms,"
            " billed_ms, memory_size_mb, max_memory_mb, init_ms, cold_start)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            usage_rows(rows, start),
        )
        conn.executemany(
            "INSERT INTO metered (minute_ms, service, resource, metric, quantity)"
            " VALUES (?, ?, ?, ?, ?)",
            metered_rows(metered, start),
        )
    conn.close()
    return path


def timed(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm the page cache once, as a second `lambic cost` would find it
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        action()
        samples.append(time.perf_counter() - begin)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--metered-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "shop"
        begin = time.perf_counter()
        path = build(project, args.rows, args.metered_rows)
        print(
            f"built {args.rows:,} usage rows and {args.metered_rows:,} metered rows "
            f"in {time.perf_counter() - begin:.1f} s"
        )

        def count() -> object:
            with sqlite3.connect(path) as conn:
                return conn.execute("SELECT COUNT(*) FROM usage").fetchone()

        runner = CliRunner()

        def command() -> object:
            result = runner.invoke(
                lambic_main, ["cost", "--project-dir", str(project), "--format", "json"]
            )
            if result.exit_code != 0:
                raise RuntimeError(result.output)
            return json.loads(result.output)

        def subprocess_command() -> object:
            return subprocess.run(
                [sys.executable, "-m", "lambic", "cost", "--project-dir", str(project)],
                check=True,
                capture_output=True,
            )

        report = command()
        anchor = statistics.median(timed(count, args.runs))
        inproc = statistics.median(timed(command, args.runs))
        outproc = statistics.median(timed(subprocess_command, args.runs))
    assert isinstance(report, dict)
    lam = [x for x in report["lines"] if x["metric"] == "requests" and x["service"] == "lambda"]
    print(f"invocations priced: {sum(x['quantity'] for x in lam):,.0f}")
    print(f"anchor: SELECT COUNT(*) FROM usage          {anchor * 1000:8.1f} ms")
    print(f"lambic cost --format json (in process)      {inproc * 1000:8.1f} ms"
          f"   = {inproc / anchor:.1f}x the anchor   (target <= 500 ms)")  # fmt: skip
    print(f"lambic cost (subprocess, with start-up)     {outproc * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
