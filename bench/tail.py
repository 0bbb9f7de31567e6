"""The gateway's latency tail at one connection, same-run A/B of source trees.

    .venv/bin/python bench/tail.py [NAME=TREE ...] [--rounds 15] [--requests 2000]
                                   [--cpus 0,1]

Each tree (default: this checkout, as `new`) runs `lambic local` with
bench/gateway.py's hello-world app from its own `src` (PYTHONPATH), next to a raw
uvicorn app (the anchor: a tail it shows too is the machine's). Round after round,
each server gets `--requests` sequential requests on one keep-alive connection, after
a warm-up (bench/gateway.py's `one_connection_tails`); the order of the servers
rotates every round, so a burst of other load hits all alike. Quoted per server: the
median over rounds of p50, p99 and p99/p50, and the same over all requests pooled.
`--cpus` pins every server (and its children) to those CPUs, to compare one shared
core with two.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def _gateway_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gateway", HERE / "gateway.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", metavar="NAME=TREE")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--cpus", help="pin the servers to these CPUs, e.g. 0 or 0,1")
    parser.add_argument(
        "--shield",
        action="store_true",
        help="(root) give this client's and each server's session (autogroup) nice -20, so "
        "other load on a shared machine disturbs the measurement less",
    )
    args = parser.parse_args()
    trees = dict(t.split("=", 1) for t in args.trees) or {"new": str(HERE.parent)}
    gw = _gateway_bench()
    names = [*trees, "raw uvicorn"]
    prefix: list[str] = []
    if args.cpus:
        prefix = ["taskset", "-c", args.cpus]
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        lambic_dir, _, _, raw_dir = gw.make_projects(Path(tmp))
        ports: dict[str, int] = {}
        pids: dict[str, int] = {}
        for name, tree in trees.items():
            cwd = Path(tmp) / f"lambic-{name}"  # each tree its own project state
            shutil.copytree(lambic_dir, cwd)
            port = ports[name] = gw.free_port()
            cmd = [*prefix, gw.PY, "-m", "lambic", "local", "--port", str(port)]
            cmd += ["--no-reload", "--services-port", str(gw.free_port())]
            env = {**os.environ, "PYTHONPATH": str(Path(tree) / "src")}
            pids[name] = stack.enter_context(gw.server(cmd, cwd, port, env)).pid
        ports["raw uvicorn"] = gw.free_port()
        raw_cmd = [*prefix, gw.PY, "raw_app.py", str(ports["raw uvicorn"])]
        pids["raw uvicorn"] = stack.enter_context(
            gw.server(raw_cmd, raw_dir, ports["raw uvicorn"])
        ).pid
        if args.shield:
            for pid in [*pids.values(), os.getpid()]:
                Path(f"/proc/{pid}/autogroup").write_text("-20")
        runs = gw.one_connection_tails(ports, args.rounds, args.requests)
    print(
        f"{args.rounds} rounds x {args.requests} sequential requests, 1 connection"
        f"{', pinned to CPUs ' + args.cpus if args.cpus else ''}"
        f"{', shielded (autogroups at nice -20)' if args.shield else ''}"
    )
    print(
        f"{'server':<14} {'p50 ms':>8} {'p99 ms':>8} {'p99/p50':>8}   "
        f"{'pooled p50':>10} {'p99':>7} {'p99/p50':>8} {'p99.9':>7}"
    )
    for name in names:
        p50s = [gw.percentile(r, 0.5) for r in runs[name]]
        p99s = [gw.percentile(r, 0.99) for r in runs[name]]
        ratios = [b / a for a, b in zip(p50s, p99s, strict=True)]
        pooled = [x for r in runs[name] for x in r]
        p50, p99, p999 = (gw.percentile(pooled, q) for q in (0.5, 0.99, 0.999))
        print(
            f"{name:<14} {statistics.median(p50s):>8.3f} {statistics.median(p99s):>8.3f} "
            f"{statistics.median(ratios):>8.2f}   {p50:>10.3f} {p99:>7.3f} {p99 / p50:>8.2f} "
            f"{p999:>7.3f}"
        )


if __name__ == "__main__":
    main()
