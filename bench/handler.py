"""Handler benchmark: Lambic vs Chalice on the same app code, in one run.

    .venv/bin/python bench/handler.py [--seconds 1.0] [--repeats 5] [--imports 15]

1. Direct dispatch, `app(event, context)` with an API Gateway REST event:
   a) hello route (GET /), b) a route with two path parameters and a JSON body.
2. The in-process test client's `http.get("/")`: `lambic.testing.Client` against
   `chalice.test.Client` (the anchor).
3. `import lambic.app` vs `import chalice.app`, each in a fresh interpreter; both with
   cached bytecode (a private PYTHONPYCACHEPREFIX, warmed first), since the shell may
   set PYTHONDONTWRITEBYTECODE and Chalice's bytecode was compiled at install time.

Throughput: each measurement runs the loop for `--seconds`, `--repeats` times,
alternating Lambic and Chalice; the median of the repeats is printed with the ratio
Lambic / Chalice (target >= 1.5). Import time: median over `--imports` fresh processes
(target: Lambic <= Chalice). Loopback only, no network, bounded in time.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import chalice.app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import lambic.app  # noqa: E402
from lambic.app import create_rest_event  # noqa: E402

TARGET_RATIO = 1.5


def build_app(framework: ModuleType) -> Any:
    """The same app code for both frameworks (only the class comes from `framework`)."""
    app = framework.Chalice(app_name="bench", configure_logs=False)

    @app.route("/")  # type: ignore[untyped-decorator]
    def index() -> dict[str, str]:
        return {"hello": "world"}

    @app.route("/users/{user_id}/orders/{order_id}", methods=["POST"])  # type: ignore[untyped-decorator]
    def order(user_id: str, order_id: str) -> dict[str, Any]:
        body = app.current_request.json_body
        return {"user": user_id, "order": order_id, "items": body["items"]}

    return app


def rest_event(method: str, path: str, resource: str, params: dict[str, str], body: bytes) -> Any:
    headers = [
        ("Accept", "*/*"),
        ("Host", "abc123.execute-api.us-east-1.amazonaws.com"),
        ("User-Agent", "bench/1.0"),
        ("X-Forwarded-For", "127.0.0.1"),
    ]
    if body:
        headers.append(("Content-Type", "application/json"))
    return create_rest_event(
        method=method,
        path=path,
        resource_path=resource,
        path_params=params,
        query=[],
        headers=headers,
        body=body,
        binary_types=[],
        stage="api",
        request_id="bench-request",
        request_time_epoch_ms=1764061528000,
    )


def rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per second of `func`, looping for about `seconds`."""
    batch = 200
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            func()
        calls += batch
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def compare(
    label: str,
    make: Callable[[ModuleType], Callable[[], object]],
    seconds: float,
    repeats: int,
) -> float:
    lambic_call = make(lambic.app)
    chalice_call = make(chalice.app)
    # Same answers first, so the comparison is between equal work.
    lambic_result, chalice_result = lambic_call(), chalice_call()
    if lambic_result != chalice_result:
        raise SystemExit(f"{label}: results differ: {lambic_result} != {chalice_result}")
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        ours.append(rate(lambic_call, seconds))
        theirs.append(rate(chalice_call, seconds))
    lam, cha = statistics.median(ours), statistics.median(theirs)
    ratio = lam / cha
    verdict = "ok" if ratio >= TARGET_RATIO else f"BELOW target {TARGET_RATIO}x"
    print(
        f"{label:<34} lambic {lam:>10,.0f}/s   chalice {cha:>10,.0f}/s"
        f"   ratio {ratio:5.2f}x  {verdict}"
    )
    return ratio


def direct(method: str, path: str, resource: str, params: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
    event = rest_event(method, path, resource, params, body)

    def make(framework: ModuleType) -> Callable[[], object]:
        app = build_app(framework)

        def call() -> object:
            # A fresh event per call, as a Lambda invocation deserialises one.
            response = app(copy.copy(event), None)
            return (response["statusCode"], response["body"])

        return call

    return make


def test_client(framework: ModuleType) -> Callable[[], object]:
    app = build_app(framework)
    client: Any
    if framework is chalice.app:
        from chalice.test import Client as ChaliceClient

        client = ChaliceClient(app)
    else:
        from lambic.testing import Client as LambicClient

        client = LambicClient(app)

    def call() -> object:
        response = client.http.get("/")
        return (response.status_code, response.body)

    return call


def import_times(count: int) -> tuple[float, float]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="lambic-bench-pyc-")
    env["PYTHONPATH"] = str(ROOT / "src")
    code = "import time; t = time.perf_counter(); import {m}; print((time.perf_counter()-t)*1e3)"

    def once(module: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", code.format(m=module)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return float(out.stdout)

    once("lambic.app")  # warm the bytecode cache
    once("chalice.app")
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(count):
        ours.append(once("lambic.app"))
        theirs.append(once("chalice.app"))
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--imports", type=int, default=15)
    args = parser.parse_args()
    version = sys.version.split()[0]
    print(f"python {version}, chalice {chalice.app.__version__}; medians of {args.repeats}")
    compare("direct: hello GET /", direct("GET", "/", "/", {}, b""), args.seconds, args.repeats)
    compare(
        "direct: 2 path params + JSON body",
        direct(
            "POST",
            "/users/42/orders/7",
            "/users/{user_id}/orders/{order_id}",
            {"user_id": "42", "order_id": "7"},
            b'{"items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 1}]}',
        ),
        args.seconds,
        args.repeats,
    )
    try:
        import lambic.testing  # noqa: F401
    except ImportError:
        print("test client: lambic.testing.Client is not available in this tree; not measured")
    else:
        compare("test client: http.get('/')", test_client, args.seconds, args.repeats)
    ours, theirs = import_times(args.imports)
    verdict = "ok" if ours <= theirs else "SLOWER than chalice"
    print(
        f"{'import (fresh interpreter)':<34} lambic.app {ours:6.1f} ms"
        f"   chalice.app {theirs:6.1f} ms"
        f"   ratio {ours / theirs:5.2f}x  {verdict}  (median of {args.imports})"
    )


if __name__ == "__main__":
    main()
