"""Server CPU per request of `lambic local`, by process, for several source trees at once.

    .venv/bin/python bench/gateway_cpu.py NAME=TREE [NAME=TREE ...] [--rounds 14]
                                         [--seconds 3] [--connections 8]

Each TREE is a checkout (a worktree, `git worktree add --detach DIR COMMIT`); its
`src` is put first on PYTHONPATH, so one venv serves every tree. Every tree gets its
own `lambic local` of `bench/gateway.py`'s hello app; they are loaded in shuffled order
each round (a burst of load from elsewhere on the machine then hits each tree alike),
and the CPU each process of the server used per request is read from /proc: the
gateway's process, the log writer, the execution environments (with the idle zygote).
CPU per request is far steadier than requests/s on a busy machine; the per-round ratio
to the first tree is the figure to quote. Loopback only; every server is stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import gateway as bench  # the sibling bench: its app, server() and load()


def role_cpu(session: int) -> dict[str, float]:
    """CPU seconds so far of each process role in a server's session."""
    found: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                command = fh.read().replace(b"\0", b" ")
        except OSError:
            continue
        if int(fields[3]) != session:
            continue
        if int(entry) == session:
            role = "gateway"
        elif b"_log_writer" in command:
            role = "writer"
        else:
            role = "environments"  # the zygote and what it forked
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        found[role] = found.get(role, 0.0) + used
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", metavar="NAME=TREE")
    parser.add_argument("--rounds", type=int, default=14)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    trees = dict(spec.split("=", 1) for spec in args.trees)
    totals: dict[str, list[float]] = {name: [] for name in trees}
    roles: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        hello, *_ = bench.make_projects(Path(tmp))
        sessions: dict[str, int] = {}
        ports: dict[str, int] = {}
        for name, tree in trees.items():
            project = Path(tmp) / f"tree-{name}"
            shutil.copytree(hello, project)
            ports[name] = bench.free_port()
            command = [bench.PY, "-m", "lambic", "local", "--port", str(ports[name])]
            command += ["--no-reload", "--services-port", str(bench.free_port())]
            env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve() / "src")}
            sessions[name] = stack.enter_context(
                bench.server(command, project, ports[name], env)
            ).pid
        for _ in range(args.rounds):
            order = list(trees)
            random.shuffle(order)
            for name in order:
                before: dict[str, float] = {}

                def start(name: str = name, before: dict[str, float] = before) -> None:
                    before.update(role_cpu(sessions[name]))

                rate, _ = bench.load(ports[name], args.seconds, args.connections, start)
                requests = rate * args.seconds
                after = role_cpu(sessions[name])
                used = {k: (v - before.get(k, 0.0)) / requests * 1e6 for k, v in after.items()}
                roles[name].append(used)
                totals[name].append(sum(used.values()))
    first = next(iter(trees))
    print(f"CPU us per request (medians of {args.rounds} rounds, {args.connections} connections)")
    for name in trees:
        parts = "  ".join(
            f"{role} {statistics.median(r.get(role, 0.0) for r in roles[name]):.0f}"
            for role in ("gateway", "writer", "environments")
        )
        line = f"{name:>12}: {statistics.median(totals[name]):5.0f}  [{parts}]"
        if name != first:
            ratios = [a / b for a, b in zip(totals[name], totals[first], strict=True)]
            line += f"  / {first}: {statistics.median(ratios):.3f}x (median of per-round ratios)"
        print(line)


if __name__ == "__main__":
    main()
