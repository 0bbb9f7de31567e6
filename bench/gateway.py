"""Gateway benchmark: one hello-world route served three ways, loaded the same way.

    .venv/bin/python bench/gateway.py [--seconds 10] [--connections 8] [--rounds 3]
                                      [--tail-rounds 9] [--metering-only]
                                      [--cold-only [--boto3] [--baseline OTHER/src]]

(a) `lambic local` (gateway + execution environment per request, as on AWS);
(b) `chalice local` (the anchor the issue compares against);
(c) a raw uvicorn ASGI app returning the same JSON (the ceiling for an asyncio server);
(d) `lambic local` again with `LAMBIC_METERING=off`: the on/off ratio is metering's
    cost (issue 19: at most 3%); `--metering-only` runs just (a) and (d).

Each is started as a subprocess on a free loopback port and loaded with `wrk` (8
keep-alive connections, one thread) when installed, else with the bundled asyncio load
generator, in interleaved rounds (each run after a 2 s warm-up); the median requests/s
of the rounds is quoted. Then, for Lambic: warm p50 and p99 latency (sequential
requests on one keep-alive connection, on a fresh `lambic local` and raw uvicorn of
their own once the loaded servers are stopped, after a warm-up, in rotating rounds:
medians of `--tail-rounds`, as bench/tail.py) and cold start (first request on a new
execution environment: the project's idle timeout is 1 s, so after 1.6 s idle the next
request forks a fresh environment; median of 10). `--cold-only` measures just that
cold start, on two servers interleaved: isolated (the default) and
`LAMBIC_ISOLATION=off` (the anchor: isolation's cost is the ratio), or with
`--baseline OTHER/src` this tree's and another checkout's (a before/after in one run).
`--boto3` makes that cold start's app build what a typical handler module builds at
init, a DynamoDB table resource and an S3 client, and call both services (the zygote's
preloaded boto3 at work: `runtime._zygote_process`, `runtime._model_data`).
Everything is bounded in time; all processes started here are stopped, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

PY = sys.executable
HELLO = {"hello": "world"}

LAMBIC_APP = """\
from lambic import Lambic

app = Lambic(app_name="hello")


@app.route("/")
def index():
    return {"hello": "world"}
"""

# The cold-start app of `--cold-only --boto3`: clients built at init, both called.
BOTO3_APP = """\
import boto3
from lambic import Lambic

app = Lambic(app_name="hello")
table = boto3.resource("dynamodb").Table("bench")
s3 = boto3.client("s3")


@app.route("/")
def index():
    return {
        "tables": len(table.meta.client.list_tables()["TableNames"]),
        "buckets": len(s3.list_buckets()["Buckets"]),
    }
"""

CHALICE_APP = LAMBIC_APP.replace("from lambic import Lambic", "from chalice import Chalice")
CHALICE_APP = CHALICE_APP.replace("Lambic(", "Chalice(")

RAW_APP = """\
import uvicorn

BODY = b'{"hello":"world"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning",
            access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, timeout: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_ready(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            if http_get(port).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready within {deadline_s} s")


@contextlib.contextmanager
def server(
    cmd: list[str], cwd: Path, port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(port, proc)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


# -- load generation ---------------------------------------------------------------


def run_wrk(port: int, seconds: float, connections: int) -> tuple[float, float]:
    """(requests/s, p50 ms) from wrk."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--latency",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p50_ms = float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx responses on port {port}")
    return rps, p50_ms


async def _load_connection(port: int, stop_at: float, latencies: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    count = 0
    try:
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1000)
            count += 1
    finally:
        writer.close()
    return count


def run_bundled(port: int, seconds: float, connections: int) -> tuple[float, float]:
    """(requests/s, p50 ms) from the bundled asyncio generator."""
    latencies: list[float] = []

    async def main() -> int:
        stop_at = time.monotonic() + seconds
        counts = await asyncio.wait_for(
            asyncio.gather(
                *(_load_connection(port, stop_at, latencies) for _ in range(connections))
            ),
            seconds + 30,
        )
        return sum(counts)

    start = time.monotonic()
    total = asyncio.run(main())
    return total / (time.monotonic() - start), statistics.median(latencies)


def load(
    port: int, seconds: float, connections: int, measuring: Callable[[], None] = lambda: None
) -> tuple[float, float]:
    """(requests/s, p50 ms) after a 2 s warm-up; `measuring()` is called between the two."""
    run = run_wrk if shutil.which("wrk") else run_bundled
    run(port, 2, connections)  # warm-up, not counted
    measuring()
    return run(port, seconds, connections)


def session_cpu(session: int) -> float:
    """CPU seconds used so far by every live process of a session (a server started
    with `start_new_session`: `lambic local`, its log writer, zygote, environments)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def sequential_latencies(port: int, requests: int = 2000) -> list[float]:
    """Latencies (ms), in order, of sequential requests on one keep-alive connection.

    The client's garbage collector is off while it times, so that none of its
    collections can be billed to the server's tail (none was seen in 2,000 requests
    with it on: the loop keeps no containers alive; this makes sure).
    """
    latencies: list[float] = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        gc.disable()
        try:
            for _ in range(requests):
                start = time.perf_counter()
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                while b"\r\n\r\n" not in buf:
                    buf += s.recv(65536)
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                while len(buf) < length:
                    buf += s.recv(65536)
                buf = buf[length:]
                latencies.append((time.perf_counter() - start) * 1000)
        finally:
            gc.enable()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


def one_connection_tails(
    ports: dict[str, int], rounds: int, requests: int = 2000
) -> dict[str, list[list[float]]]:
    """Each server's latencies per round at one connection (`sequential_latencies`),
    after a 500-request warm-up, the servers' order rotating every round so that a
    burst of other load on the machine hits all alike (bench/tail.py's method too)."""
    names = list(ports)
    runs: dict[str, list[list[float]]] = {name: [] for name in names}
    for name in names:  # warm-up: environments forked, code paths hot
        sequential_latencies(ports[name], 500)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            runs[name].append(sequential_latencies(ports[name], requests))
    return runs


def cold_only(root: Path, runs: int, baseline: Path | None = None, boto3: bool = False) -> None:
    """Cold starts isolated and with LAMBIC_ISOLATION=off, interleaved, same run; with
    `baseline` (another checkout's `src`), this tree's and that one's instead; with
    `boto3`, of `BOTO3_APP`."""
    _, cold_dir, _, _ = make_projects(root)
    if boto3:
        (cold_dir / "app.py").write_text(BOTO3_APP)
    off_dir = root / "lambic-cold-off"
    shutil.copytree(cold_dir, off_dir)
    names = ("isolated", "off") if baseline is None else ("this tree", "baseline")
    found: dict[str, list[float]] = {name: [] for name in names}
    other = (
        {**os.environ, "LAMBIC_ISOLATION": "off"}
        if baseline is None
        else {**os.environ, "PYTHONPATH": str(baseline.resolve())}
    )
    with contextlib.ExitStack() as stack:
        ports = {}
        for name, cwd, env in [(names[0], cold_dir, None), (names[1], off_dir, other)]:
            port = ports[name] = free_port()
            cmd = [PY, "-m", "lambic", "local", "--port", str(port), "--no-reload"]
            cmd += ["--services-port", str(free_port())]
            stack.enter_context(server(cmd, cwd, port, env))
        for _ in range(runs):  # each server idles 2 x 0.8 s >= its 1 s idle timeout
            for name, port in ports.items():
                found[name] += cold_starts(port, 1, idle_s=0.8)
    on, off = statistics.median(found[names[0]]), statistics.median(found[names[1]])
    pairs = statistics.median(a / b for a, b in zip(*found.values(), strict=True))
    anchor = "LAMBIC_ISOLATION=off" if baseline is None else "baseline"
    what = "lambic cold start (boto3 clients at init)" if boto3 else "lambic cold start"
    print(
        f"{what}, median of {runs}: {names[0]} {on:.1f} ms, "
        f"{anchor} {off:.1f} ms, ratio {on / off:.2f}x "
        f"(median of paired ratios {pairs:.2f}x)"
    )


def cold_starts(port: int, runs: int, idle_s: float) -> list[float]:
    """Latency (ms) of the first request after the environment was reclaimed."""
    results = []
    for _ in range(runs):
        time.sleep(idle_s)
        start = time.perf_counter()
        reply = http_get(port, timeout=10)
        results.append((time.perf_counter() - start) * 1000)
        if not reply.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(reply[:200].decode(errors="replace"))
    return results


# -- the three servers -------------------------------------------------------------


def make_projects(root: Path) -> tuple[Path, Path, Path, Path]:
    lambic_dir = root / "lambic-hello"
    (lambic_dir / ".lambic").mkdir(parents=True)
    (lambic_dir / "app.py").write_text(LAMBIC_APP)
    (lambic_dir / ".lambic" / "config.json").write_text(
        '{"version": "2.0", "app_name": "hello", "stages": {"dev": {}}}'
    )
    # The same app, reclaimed after 1 s idle: every spaced request is a cold start.
    cold_dir = root / "lambic-cold"
    (cold_dir / ".lambic").mkdir(parents=True)
    (cold_dir / "app.py").write_text(LAMBIC_APP)
    (cold_dir / ".lambic" / "config.json").write_text(
        '{"version": "2.0", "app_name": "hello", "stages": {"dev": {}},'
        ' "local": {"idle_timeout_seconds": 1}}'
    )
    chalice_dir = root / "chalice-hello"
    (chalice_dir / ".chalice").mkdir(parents=True)
    (chalice_dir / "app.py").write_text(CHALICE_APP)
    (chalice_dir / ".chalice" / "config.json").write_text(
        '{"version": "2.0", "app_name": "hello", "stages": {"dev": {"api_gateway_stage": "api"}}}'
    )
    raw_dir = root / "raw"
    raw_dir.mkdir()
    (raw_dir / "raw_app.py").write_text(RAW_APP)
    return lambic_dir, cold_dir, chalice_dir, raw_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--tail-rounds", type=int, default=9)
    parser.add_argument(
        "--metering-only",
        action="store_true",
        help="Only lambic local with metering on and off (LAMBIC_METERING=off).",
    )
    parser.add_argument(
        "--cold-only",
        action="store_true",
        help="Only cold starts, isolated and with LAMBIC_ISOLATION=off (interleaved).",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="With --cold-only: another checkout's src, whose cold starts (isolated) are "
        "interleaved with this tree's instead of LAMBIC_ISOLATION=off.",
    )
    parser.add_argument(
        "--boto3",
        action="store_true",
        help="With --cold-only: an app that builds a DynamoDB resource and an S3 client "
        "at init and calls both.",
    )
    args = parser.parse_args()
    if args.cold_only:
        with tempfile.TemporaryDirectory() as tmp:
            cold_only(Path(tmp), args.cold_runs, args.baseline, args.boto3)
        return
    tool = "wrk -t1" if shutil.which("wrk") else "bundled asyncio generator"
    print(
        f"load: {tool}, {args.connections} keep-alive connections, {args.seconds:.0f} s per "
        f"run, {args.rounds} interleaved rounds (medians quoted)"
    )
    bin_dir = Path(PY).parent
    names: tuple[str, ...] = ("lambic local", "unmetered", "chalice local", "raw uvicorn")
    if args.metering_only:
        names = ("lambic local", "unmetered")
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    # The server's CPU per request (its whole process tree): far less disturbed by a
    # busy machine than requests/s, so metering's cost shows in it most clearly.
    cpu: dict[str, list[float]] = {name: [] for name in names}
    pids: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        lambic_dir, cold_dir, chalice_dir, raw_dir = make_projects(Path(tmp))
        every = ("lambic local", "unmetered", "chalice local", "raw uvicorn")
        ports = {name: free_port() for name in every}
        lambic_cmd = [PY, "-m", "lambic", "local", "--port", str(ports["lambic local"])]
        lambic_cmd += ["--no-reload", "--services-port", str(free_port())]
        # The same app with metering switched off, in its own copy (its own state).
        unmetered_dir = Path(tmp) / "lambic-unmetered"
        shutil.copytree(lambic_dir, unmetered_dir)
        unmetered_cmd = [PY, "-m", "lambic", "local", "--port", str(ports["unmetered"])]
        unmetered_cmd += ["--no-reload", "--services-port", str(free_port())]
        unmetered_env = {**os.environ, "LAMBIC_METERING": "off"}
        chalice_cmd = [str(bin_dir / "chalice"), "local", "--port", str(ports["chalice local"])]
        chalice_cmd += ["--no-autoreload"]
        raw_cmd = [PY, "raw_app.py", str(ports["raw uvicorn"])]
        for name, cmd, cwd, env in [
            ("lambic local", lambic_cmd, lambic_dir, None),
            ("unmetered", unmetered_cmd, unmetered_dir, unmetered_env),
            ("chalice local", chalice_cmd, chalice_dir, None),
            ("raw uvicorn", raw_cmd, raw_dir, None),
        ]:
            if name in names:
                pids[name] = stack.enter_context(server(cmd, cwd, ports[name], env)).pid
        # Interleaved rounds, so a burst of other load on the machine hits all three.
        for _ in range(args.rounds):
            for name in names:
                before = [0.0]

                def start_cpu(name: str = name, before: list[float] = before) -> None:
                    before[0] = session_cpu(pids[name])

                rate, p50 = load(ports[name], args.seconds, args.connections, start_cpu)
                runs[name].append((rate, p50))
                cpu[name].append((session_cpu(pids[name]) - before[0]) / (rate * args.seconds))
        stack.close()
        if args.metering_only:
            _print_metering(runs, cpu)
            return
        # One connection, sequential, against raw uvicorn (the anchor: a tail both show
        # is the machine's), on fresh servers of their own once the others are gone:
        # idle servers still wake (timers, log threads), and a server just out of the
        # load above still has its backlog (log batches, a pool of 8 environments).
        tail_dir = Path(tmp) / "lambic-tail"
        shutil.copytree(lambic_dir, tail_dir)
        tail_ports = {"lambic local": free_port(), "raw uvicorn": free_port()}
        tail_cmd = [PY, "-m", "lambic", "local", "--port", str(tail_ports["lambic local"])]
        tail_cmd += ["--no-reload", "--services-port", str(free_port())]
        with (
            server(tail_cmd, tail_dir, tail_ports["lambic local"]),
            server(
                [PY, "raw_app.py", str(tail_ports["raw uvicorn"])],
                raw_dir,
                tail_ports["raw uvicorn"],
            ),
        ):
            tails = one_connection_tails(tail_ports, args.tail_rounds)
        warm_p50, warm_p99, ratio = _tail_medians(tails["lambic local"])
        raw_p50, raw_p99, raw_ratio = _tail_medians(tails["raw uvicorn"])

        port = free_port()
        cmd = [PY, "-m", "lambic", "local", "--port", str(port), "--no-reload"]
        cmd += ["--services-port", str(free_port())]
        with server(cmd, cold_dir, port):
            cold = cold_starts(port, args.cold_runs, idle_s=1.6)

    med = {name: statistics.median(r for r, _ in runs[name]) for name in names}
    print(f"{'server':<15} {'requests/s (median)':>20} {'runs':>24} {'p50 under load (ms)':>20}")
    for name in names:
        each = "/".join(f"{r:.0f}" for r, _ in runs[name])
        p50 = statistics.median(p for _, p in runs[name])
        print(f"{name:<15} {med[name]:>20.0f} {each:>24} {p50:>20.2f}")
    _print_metering(runs, cpu)
    lam, cha, raw = (med[name] for name in ("lambic local", "chalice local", "raw uvicorn"))
    print(f"lambic / raw uvicorn   = {lam / raw:.2f}x   (target >= 0.25x)")
    print(f"lambic / chalice local = {lam / cha:.1f}x   (target >= 30x)")
    print(f"lambic warm p50 (sequential, 1 connection) = {warm_p50:.3f} ms   (target <= 1 ms)")
    print(
        f"lambic warm p99 (sequential, 1 connection) = {warm_p99:.3f} ms = "
        f"{ratio:.1f}x p50   (target <= 3x; raw uvicorn in the same run: "
        f"p50 {raw_p50:.3f} ms, p99 {raw_p99:.3f} ms = {raw_ratio:.1f}x; medians of "
        f"{args.tail_rounds} rounds of 2,000)"
    )
    print(
        f"lambic cold start, median of {len(cold)} = {statistics.median(cold):.1f} ms "
        f"(min {min(cold):.1f}, max {max(cold):.1f})   (target <= 30 ms)"
    )


def _tail_medians(rounds: list[list[float]]) -> tuple[float, float, float]:
    """Medians over rounds of p50, p99 and each round's p99/p50."""
    p50s = [percentile(r, 0.5) for r in rounds]
    p99s = [percentile(r, 0.99) for r in rounds]
    ratios = [b / a for a, b in zip(p50s, p99s, strict=True)]
    return statistics.median(p50s), statistics.median(p99s), statistics.median(ratios)


def _print_metering(
    runs: dict[str, list[tuple[float, float]]], cpu: dict[str, list[float]]
) -> None:
    """Metering's cost: the same app, same run, metering on vs off (round by round)."""
    on = [r for r, _ in runs["lambic local"]]
    off = [r for r, _ in runs["unmetered"]]
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    print(
        f"metering on / off = {statistics.median(on) / statistics.median(off):.3f}x "
        f"(medians {statistics.median(on):.0f} / {statistics.median(off):.0f} requests/s; "
        f"per round {'/'.join(f'{r:.3f}' for r in ratios)})   (target >= 0.97x)"
    )
    cpu_on, cpu_off = (statistics.median(cpu[name]) for name in ("lambic local", "unmetered"))
    print(
        f"server CPU per request (process tree), metering on / off = {cpu_on * 1e6:.0f} / "
        f"{cpu_off * 1e6:.0f} us = {cpu_on / cpu_off:.3f}x   (target <= 1.03x)"
    )


if __name__ == "__main__":
    main()
