"""What isolation costs a cold start: the same app, walled in and not, in one run.

    .venv/bin/python bench/isolation.py [--runs 15] [--pause 0.05]
    .venv/bin/python bench/isolation.py --steps 30   # where an isolated fork's time goes

Two invokers over tests/apps/http_basic, each with its own zygote: one started with
`LAMBIC_ISOLATION=off` (the anchor), one with isolation on (namespaces, private /tmp,
Landlock, where the machine has them). Cold starts alternate between the two: new
pools (`reload`), a 50 ms pause (the zygote refills its spare, as between real cold
starts), then one invocation; the median total latency of each and the ratio
isolated / anchor are printed (target <= 1.05, i.e. no loss beyond noise). Warm
invocations are compared the same way. Loopback only, bounded in time.

`--steps N` profiles instead: N forks of a zygote-like process (holding each fork's
lifeline, as the zygote does) each walled in as an environment is, with the wall and
CPU time (thread time) of each step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from lambic.runtime import (  # noqa: E402
    Invoker,
    _isolation,
    _namespaces,
    create_invoker,
    load_project,
)
from lambic.runtime._isolation import SWITCH, notice  # noqa: E402
from lambic.runtime.zygote import DEFAULT_PRELOAD, preload_modules  # noqa: E402

APP = ROOT / "tests" / "apps" / "http_basic"
EVENT = b'{"resource": "/", "path": "/", "httpMethod": "GET", "headers": {}, "body": null}'
TARGET_RATIO = 1.05


def invoker_with(app_dir: Path, isolation: str) -> Invoker:
    """An invoker whose zygote (and so every environment) sees LAMBIC_ISOLATION=`isolation`."""
    before = os.environ.get(SWITCH)
    os.environ[SWITCH] = isolation
    try:
        return create_invoker(load_project(app_dir), "dev")
    finally:
        if before is None:
            del os.environ[SWITCH]
        else:
            os.environ[SWITCH] = before


async def cold(invoker: Invoker, app_dir: Path, pause: float) -> float:
    await invoker.reload(load_project(app_dir))
    await asyncio.sleep(pause)
    started = time.perf_counter()
    result = await invoker.invoke("api_handler", EVENT)
    elapsed = (time.perf_counter() - started) * 1000
    if result.status != "ok" or not result.cold_start:
        raise SystemExit(f"expected an ok cold start, got {result}")
    return elapsed


async def warm(invoker: Invoker, count: int) -> float:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await invoker.invoke("api_handler", EVENT)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def main(runs: int, pause: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="lambic-bench-isolation-"))
    app_dir = work / "app"
    shutil.copytree(APP, app_dir)
    off, on = invoker_with(app_dir, "off"), invoker_with(app_dir, "on")
    try:
        for invoker in (off, on):  # zygotes up, first environments forked
            await invoker.invoke("api_handler", EVENT)
        samples: dict[str, list[float]] = {"off": [], "on": []}
        warms: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(runs):
            for name, invoker in (("off", off), ("on", on)):
                samples[name].append(await cold(invoker, app_dir, pause))
                warms[name].append(await warm(invoker, 50))
    finally:
        await off.aclose()
        await on.aclose()
        shutil.rmtree(work, ignore_errors=True)
    print(notice() or "Isolation: complete on this machine (namespaces, private /tmp, Landlock)")
    c_off, c_on = statistics.median(samples["off"]), statistics.median(samples["on"])
    w_off, w_on = statistics.median(warms["off"]), statistics.median(warms["on"])
    print(f"cold start median: isolated {c_on:.2f} ms, anchor (off) {c_off:.2f} ms (n={runs})")
    pairs = statistics.median(a / b for a, b in zip(samples["on"], samples["off"], strict=True))
    print(
        f"ratio isolated/anchor {c_on / c_off:.2f}x, median of paired ratios {pairs:.2f}x"
        f"   (target <= {TARGET_RATIO}x)"
    )
    ratio = w_on / w_off
    print(f"warm invoke median: isolated {w_on:.3f} ms, anchor {w_off:.3f} ms, ratio {ratio:.2f}x")


# (module, attribute, label): the steps timed by --steps, outermost first.
STEPS = [
    (_isolation, "prepare", "prepare (ahead, in the spare)"),
    (_namespaces, "enter", "  enter fresh namespaces"),
    (_isolation, "_new_ruleset", "  Landlock ruleset created"),
    (_isolation, "_add_rule", "  Landlock rules added (each)"),
    (_isolation, "enter", "enter (with the spec)"),
    (_isolation, "_bind", "  bind a /tmp path back (each)"),
    (_isolation, "_drop_capabilities", "  drop capabilities"),
    (_isolation, "_landlock", "  Landlock: task root rule, restrict"),
]


def _timed_child(task_root: str, protect: list[str], out: int) -> None:  # pragma: no cover
    samples: dict[str, list[tuple[float, float]]] = {}
    for module, attr, label in STEPS:
        original = getattr(module, attr)

        def timed(*args: object, _f: object = original, _label: str = label) -> object:
            wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
            try:
                return _f(*args)  # type: ignore[operator]
            finally:
                samples.setdefault(_label, []).append(
                    ((time.perf_counter_ns() - wall) / 1e6, (time.thread_time_ns() - cpu) / 1e6)
                )

        setattr(module, attr, timed)
    _isolation.prepare()
    _isolation.enter(task_root, protect)
    os.write(out, json.dumps(samples).encode())


def steps(runs: int, pause: float) -> None:
    _isolation.facilities()  # first, then the preload and warm(), as the zygote does
    preload_modules(DEFAULT_PRELOAD)
    _isolation.warm()
    lifelines = _namespaces.Lifelines(_isolation.namespaced())
    work = Path(tempfile.mkdtemp(prefix="lambic-bench-isolation-"))
    app_dir = work / "app"
    shutil.copytree(APP, app_dir)
    (app_dir / ".lambic" / "state" / "dev").mkdir(parents=True)
    protect = [str(app_dir / ".lambic" / "state" / "dev"), str(app_dir)]
    totals: dict[str, list[tuple[float, float]]] = {}
    try:
        for _ in range(runs):
            read_end, write_end = os.pipe()
            pid = lifelines.fork()
            if pid == 0:  # pragma: no cover
                try:
                    _timed_child(str(app_dir), protect, write_end)
                finally:
                    os._exit(0)
            os.close(write_end)
            with os.fdopen(read_end, "rb") as fh:
                found = json.loads(fh.read() or b"{}")
            os.waitpid(pid, 0)
            lifelines.cut(pid)
            for label, each in found.items():
                totals.setdefault(label, []).append(
                    (sum(w for w, _ in each), sum(c for _, c in each))
                )
            time.sleep(pause)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(notice() or "Isolation: complete on this machine (namespaces, private /tmp, Landlock)")
    print(f"{'step (medians of ' + str(runs) + ' forks)':<42} {'wall ms':>8} {'CPU ms':>8}")
    for _, _, label in STEPS:
        if label in totals:
            wall = statistics.median(w for w, _ in totals[label])
            cpu = statistics.median(c for _, c in totals[label])
            print(f"{label:<42} {wall:>8.3f} {cpu:>8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds before each")
    parser.add_argument("--steps", type=int, default=0, help="profile N isolated forks")
    args = parser.parse_args()
    if args.steps:
        steps(args.steps, args.pause)
    else:
        asyncio.run(main(args.runs, args.pause))
