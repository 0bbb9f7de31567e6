"""Micro-benchmark of the invoker: warm latency, throughput and cold start.

Runs a hello-world Lambic app (tests/apps/http_basic, route GET /) through
`lambic.runtime.create_invoker`, loopback only, bounded in time, and prints:

- warm: p50/p99 latency of sequential invocations, and invocations/s with 8
  concurrent callers; anchor: a raw request/response round trip over a socketpair
  to a forked Python echo process (the IPC floor), and the ratio;
- cold: median total latency of 10 first-invocations on new environments, 50 ms
  apart (and their Init Duration); anchor: median of 10 `python -c "import app"` process
  starts (what spawning a fresh interpreter per environment would cost).

    .venv/bin/python bench/invoke.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lambic.runtime import create_invoker, load_project

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "tests" / "apps" / "http_basic"
EVENT = (
    b'{"resource": "/", "path": "/", "httpMethod": "GET", "headers": {"Host": "localhost"},'
    b' "multiValueHeaders": {"Host": ["localhost"]}, "queryStringParameters": null,'
    b' "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null,'
    b' "requestContext": {"resourcePath": "/", "httpMethod": "GET", "stage": "api",'
    b' "requestId": "x", "identity": {"sourceIp": "127.0.0.1"}, "path": "/api/"},'
    b' "body": null, "isBase64Encoded": false}'
)
WARM_SECONDS = 3.0


def raw_ipc_round_trips(count: int) -> list[float]:
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        parent.close()
        while True:
            data = child.recv(65536)
            if not data:
                os._exit(0)
            child.sendall(data)
    child.close()
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        parent.sendall(EVENT)
        got = 0
        while got < len(EVENT):
            got += len(parent.recv(65536))
        samples.append((time.perf_counter() - t0) * 1000)
    parent.close()
    os.waitpid(pid, 0)
    return samples


def python_starts(app_dir: Path, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import app"], cwd=app_dir, check=True)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="lambic-bench-"))
    app_dir = work / "app"
    shutil.copytree(APP, app_dir)
    project = load_project(app_dir)
    invoker = create_invoker(project, "dev")
    try:
        await invoker.invoke("api_handler", EVENT)  # cold, then warm from here
        warm: list[float] = []
        deadline = time.perf_counter() + WARM_SECONDS
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            result = await invoker.invoke("api_handler", EVENT)
            warm.append((time.perf_counter() - t0) * 1000)
            if result.status != "ok":
                raise SystemExit(f"unexpected result: {result}")
        done = 0
        stop = time.perf_counter() + WARM_SECONDS

        async def caller() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await invoker.invoke("api_handler", EVENT)
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(8)))
        throughput = done / (time.perf_counter() - t0)
        cold: list[float] = []
        init: list[float] = []
        for _ in range(10):
            await invoker.reload(project)  # new pools: the next call is a cold start
            # Cold starts come after a pause, not back to back (the gateway bench idles
            # 1.6 s); 50 ms lets the zygote refill its spare as it would in practice.
            await asyncio.sleep(0.05)
            t0 = time.perf_counter()
            result = await invoker.invoke("api_handler", EVENT)
            cold.append((time.perf_counter() - t0) * 1000)
            init.append(result.init_ms or 0.0)
            if not result.cold_start:
                raise SystemExit("expected a cold start")
    finally:
        await invoker.aclose()
    raw = raw_ipc_round_trips(len(warm))
    starts = python_starts(app_dir, 10)
    shutil.rmtree(work, ignore_errors=True)
    w50, r50 = statistics.median(warm), statistics.median(raw)
    print(f"warm invoke  p50 {w50:.3f} ms  p99 {pct(warm, 0.99):.3f} ms  (n={len(warm)})")
    print(f"anchor raw socketpair round trip p50 {r50:.3f} ms; ratio invoke/raw {w50 / r50:.1f}x")
    print(f"throughput   {throughput:,.0f} invocations/s with 8 concurrent callers")
    c50, s50 = statistics.median(cold), statistics.median(starts)
    print(
        f"cold start   median {c50:.2f} ms (Init Duration median {statistics.median(init):.2f} ms)"
    )
    print(
        f"anchor fresh `python -c 'import app'` median {s50:.2f} ms; ratio cold/fresh "
        f"{c50 / s50:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
