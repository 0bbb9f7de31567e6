"""Console benchmark: its first paint and its invocation list, with 100,000 invocations recorded.

    .venv/bin/python bench/console.py [--invocations 100000] [--rounds 20]

Two `lambic local` processes serve the same one-route app: one over a log store
pre-filled with N invocations of its API function (usage rows and their START/END/
REPORT lines, as the log writer stores them), the anchor over an empty store. In the
same run, for each: the console's first paint and the time until its functions table
is filled, in headless Chromium (Debian's chromium + chromedriver, as the browser
tests use), median of a few page loads; and the invocation list API (a page of 50,
the newest and one deep in the history), median of `--rounds` requests. Targets: first
paint <= 1 s and a page of the list <= 100 ms with 100,000 invocations.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lambic.runtime.logstore import connect

APP = """\
from lambic import Lambic

app = Lambic(app_name="bench")


@app.route("/")
def index():
    return {"hello": "world"}
"""
FUNCTION = "bench-dev"
GROUP = f"/aws/lambda/{FUNCTION}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_project(root: Path, invocations: int) -> Path:
    (root / ".lambic").mkdir(parents=True)
    (root / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "bench", "stages": {"dev": {}}})
    )
    (root / "app.py").write_text(APP)
    if invocations:
        conn = connect(root / ".lambic" / "state" / "dev" / "logs.sqlite3")
        start = int(time.time() * 1000) - invocations * 1000
        usage, events = [], []
        for n in range(invocations):
            rid = str(uuid.UUID(int=n + 1))
            ts = start + n * 1000
            cold = n % 100 == 0
            usage.append(
                (FUNCTION, rid, ts, "ok", 1.5 + n % 7, 2, 128, 40, 9.0 if cold else None, cold)
            )
            stream = f"2026/12/06/[$LATEST]{n // 100:032x}"
            events += [
                (GROUP, stream, ts - 2, f"START RequestId: {rid} Version: $LATEST"),
                (GROUP, stream, ts - 1, f"handled request {n}"),
                (GROUP, stream, ts, f"END RequestId: {rid}"),
                (GROUP, stream, ts, f"REPORT RequestId: {rid}\tDuration: 1.50 ms\t..."),
            ]
        with conn:
            conn.executemany(
                "INSERT INTO usage (function_name, request_id, timestamp_ms, status,"
                " duration_ms, billed_ms, memory_size_mb, max_memory_mb, init_ms, cold_start)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                usage,
            )
            conn.executemany(
                "INSERT INTO log_events (log_group, log_stream, timestamp_ms, message)"
                " VALUES (?, ?, ?, ?)",
                events,
            )
        conn.close()
    return root


@contextlib.contextmanager
def local_cloud(project: Path) -> Iterator[int]:
    """`lambic local` on `project`; yields its services (console) port."""
    services_port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambic", "local", "--project-dir", str(project), "--port",
         str(free_port()), "--services-port", str(services_port), "--no-reload"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Press Ctrl-C" in line:
                break
        else:
            raise SystemExit("lambic local did not start")
        yield services_port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def api_ms(port: int, path: str, rounds: int) -> float:
    times = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": f"127.0.0.1:{port}"}
    for _ in range(rounds):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, body[:200]
    conn.close()
    return statistics.median(times)


def browser() -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or "/usr/lib/chromium/chromium"
    driver = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def page_ms(driver: object, port: int, loads: int) -> tuple[float, float]:
    """(first contentful paint, functions table filled) in ms from navigation start."""
    paints, filled = [], []
    for _ in range(loads):
        driver.get("about:blank")  # type: ignore[attr-defined]
        driver.get(f"http://127.0.0.1:{port}/_lambic/console/")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline and ready is None:
            ready = driver.execute_script(  # type: ignore[attr-defined]
                "return window.__filled || (document.querySelector("
                "'#overview-functions tbody tr .invocations') && (window.__filled ="
                " performance.now()))"
            )
            time.sleep(0.005)
        paint = driver.execute_script(  # type: ignore[attr-defined]
            "const p = performance.getEntriesByName('first-contentful-paint')[0];"
            " return p ? p.startTime : null"
        )
        paints.append(float(paint or 0))
        filled.append(float(ready or 0))
    return statistics.median(paints), statistics.median(filled)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        full = make_project(Path(tmp) / "full", args.invocations)
        empty = make_project(Path(tmp) / "empty", 0)
        print(f"log store with {args.invocations:,} invocations written in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        driver = browser()
        try:
            with local_cloud(full) as full_port, local_cloud(empty) as empty_port:
                results = {}
                for name, port in (("empty", empty_port), (f"{args.invocations:,}", full_port)):
                    api = "/_lambic/api/functions/api_handler/invocations"
                    deep = f"{api}?before={max(2, args.invocations // 2)}"
                    results[name] = (
                        api_ms(port, api, args.rounds),
                        api_ms(port, deep, args.rounds),
                        api_ms(port, "/_lambic/api/overview", args.rounds),
                        *page_ms(driver, port, args.loads),
                    )
        finally:
            driver.quit()  # type: ignore[attr-defined]
    print(f"{'store':>10}  {'list page':>10}  {'deep page':>10}  {'overview':>10}  "
          f"{'first paint':>12}  {'table filled':>12}   (medians, ms)")  # fmt: skip
    for name, (page, deep, overview, paint, filled) in results.items():
        print(f"{name:>10}  {page:>10.1f}  {deep:>10.1f}  {overview:>10.1f}  {paint:>12.0f}"
              f"  {filled:>12.0f}")  # fmt: skip
    base = results["empty"]
    full_row = results[f"{args.invocations:,}"]
    print(f"list page, {args.invocations:,} vs empty = {full_row[0] / base[0]:.2f}x "
          f"({full_row[0]:.1f} ms; target <= 100 ms)")  # fmt: skip
    print(f"first paint, {args.invocations:,} vs empty = {full_row[3] / max(base[3], 1):.2f}x "
          f"({full_row[3]:.0f} ms; target <= 1000 ms); functions table filled at "
          f"{full_row[4]:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
