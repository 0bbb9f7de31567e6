"""Same-run A/B of two source trees on the gateway and services benches.

    .venv/bin/python bench/trees.py BASE_TREE [NEW_TREE] [--seconds 4] [--rounds 5]
                                    [--only gateway|services]

BASE_TREE and NEW_TREE (default: this checkout) are Lambic checkouts (a `git worktree`
of main at the commit to compare against, say); each server runs from its tree's
`src` (PYTHONPATH) with this interpreter, so only the code differs. Both servers run
side by side and take turns under the same load, so a busy machine hits both alike:

- gateway: `lambic local` with bench/gateway.py's hello-world app, 8 keep-alive
  connections (bench/gateway.py's load generator), `--rounds` turns of `--seconds`;
  quoted: median requests/s, and the CPU per request of the gateway's own process
  (where the HTTP server runs) and of its whole process tree;
- services: `lambic services`, bench/services.py's boto3 operations, interleaved in
  batches (its `measure`); quoted: median calls/s and the server's CPU per call.

CPU per request is the figure to trust on a loaded machine; the ratio NEW/BASE is
printed for each (1.00 = unchanged; under 1 = the new tree costs less).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree / "src")}


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def gateway(trees: dict[str, Path], seconds: float, rounds: int) -> None:
    gw = _bench("gateway")
    rates: dict[str, list[float]] = {name: [] for name in trees}
    own: dict[str, list[float]] = {name: [] for name in trees}
    tree_cpu: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        pids: dict[str, int] = {}
        ports: dict[str, int] = {}
        for name, tree in trees.items():
            project, *_ = gw.make_projects(Path(tmp) / name)
            ports[name] = gw.free_port()
            command = [sys.executable, "-m", "lambic", "local", "--port", str(ports[name])]
            command += ["--no-reload", "--services-port", str(gw.free_port())]
            pids[name] = stack.enter_context(
                gw.server(command, project, ports[name], _env(tree))
            ).pid
        for _ in range(rounds):
            for name in trees:
                before = [0.0, 0.0]

                def start(name: str = name, before: list[float] = before) -> None:
                    before[:] = [_process_cpu(pids[name]), gw.session_cpu(pids[name])]

                rate, _ = gw.load(ports[name], seconds, 8, start)
                requests = rate * seconds
                rates[name].append(rate)
                own[name].append((_process_cpu(pids[name]) - before[0]) / requests * 1e6)
                tree_cpu[name].append((gw.session_cpu(pids[name]) - before[1]) / requests * 1e6)
    base, new = trees
    print(f"gateway ({rounds} rounds of {seconds:.0f} s, medians)")
    print(f"  {'':<28}{base:>10}{new:>10}{'new/base':>10}")
    for label, values in (
        ("requests/s", rates),
        ("gateway process CPU us/req", own),
        ("process tree CPU us/req", tree_cpu),
    ):
        a, b = statistics.median(values[base]), statistics.median(values[new])
        print(f"  {label:<28}{a:>10.1f}{b:>10.1f}{b / a:>10.3f}")


def services(trees: dict[str, Path], seconds: float, rounds: int) -> None:
    sv = _bench("services")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        targets = {}
        for name, tree in trees.items():
            port = sv.free_port()
            command = [sys.executable, "-m", "lambic", "services"]
            command += ["--state", str(Path(tmp) / name), "--port", str(port)]
            proc = stack.enter_context(sv.process(command, "Lambic services", _env(tree)))
            targets[name] = (f"http://127.0.0.1:{port}", False, proc.pid)
        results = sv.measure(targets, seconds=seconds, rounds=rounds)
    base, new = trees
    print(f"services ({rounds} rounds of {seconds:.1f} s per operation, medians)")
    print(f"  {'operation':<20}{'calls/s':>16}{'ratio':>7}{'server CPU us/call':>24}{'ratio':>7}")
    cpu_ratios = []
    for op in results[base]:
        (ra, ca), (rb, cb) = results[base][op], results[new][op]
        cpu_ratios.append(cb / ca)
        print(f"  {op:<20}{ra:>8.0f}{rb:>8.0f}{rb / ra:>7.3f}{ca:>12.0f}{cb:>12.0f}{cb / ca:>7.3f}")
    geo = statistics.geometric_mean(cpu_ratios)
    print(f"  server CPU per call, geometric mean of the ratios: {geo:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("new", type=Path, nargs="?", default=HERE.parent)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("gateway", "services"))
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "new": args.new.resolve()}
    if args.only != "services":
        gateway(trees, args.seconds, args.rounds)
    if args.only != "gateway":
        services(trees, args.seconds / 2, args.rounds)


if __name__ == "__main__":
    main()
