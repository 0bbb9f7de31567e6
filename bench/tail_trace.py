"""Where the slowest one-connection requests spend their time: per-hop timestamps.

    .venv/bin/python bench/tail_trace.py [--tree DIR] [--rounds 15] [--requests 1000]
                                         [--alternate] [--shield]

Runs `lambic local` (bench/gateway.py's hello app, from `--tree`'s `src`) with a
`sitecustomize` that timestamps, in both processes and on one clock
(CLOCK_MONOTONIC), every hop of a request:

    client send -> Grecv (gateway reads it) -> Gdisp (INVOKE frame written)
      -> Erecv (environment has it) -> Esend (handler done, RESULT written)
      -> Gres (gateway reads it) -> Gwrite (response written) -> client receive

and, as windows, what might get in the way: garbage collections (each generation, in
either process), the log store's batches (`L`: from the thread's wake to the writer
process's commit), the watchdog's ticks. Sequential requests on one keep-alive
connection, as bench/gateway.py's warm p50/p99. Printed: the median of each hop, for
the slowest 1% which hop took the most time over its median, and for each kind of
window how many slow requests it overlapped against the same windows shifted by a
few ms (the control: a slow request is longer, so it overlaps more of anything).
`--alternate` flips the environment between SCHED_BATCH and SCHED_OTHER every round
and reports each half (the comparison behind `Environment.schedule_for`); `--shield`
(root) raises the client's and the server's autogroup priority (see bench/tail.py).
Diagnostic only: the patching costs a few us per hop. Loopback only; the server is
stopped at the end.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import importlib.util
import os
import signal
import socket
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent

SITECUSTOMIZE = """\
import atexit, gc, os, signal, time

_DIR = os.environ.get("LAMBIC_TAIL_TRACE", "")
_buf = []
_pid = [os.getpid()]
_pc = time.perf_counter
# Opened before an environment's sandbox is entered (its /tmp is private).
_fd = os.open(os.path.join(_DIR, "env.txt"), os.O_WRONLY | os.O_APPEND | os.O_CREAT) if _DIR else -1


def mark(tag):
    if os.getpid() != _pid[0]:  # a fork (an environment): not the zygote's marks
        _buf.clear()
        _pid[0] = os.getpid()
    _buf.append((_pc(), tag))


def dump(path=None):
    text = "".join(f"{t:.7f} {tag}\\n" for t, tag in _buf).encode()
    _buf.clear()
    if path is None:
        os.write(_fd, text)
    else:
        with open(path, "ab") as fh:
            fh.write(text)


def _gc(phase, info):
    mark(f"gc{info['generation']}{'+' if phase == 'start' else '-'}")


def _wrap(owner, name, before=None, after=None):
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if before:
            mark(before)
        result = inner(*args, **kwargs)
        if after:
            mark(after)
        return result

    setattr(owner, name, wrapper)


def _install():
    from lambic import _http_core
    from lambic.runtime import _ipc, environment, logstore

    _wrap(_http_core.HttpConnection, "data_received", before="Grecv")
    _wrap(_http_core.HttpConnection, "write", before="Gwrite")
    _wrap(environment, "encode_frame", before="Gdisp")
    _wrap(environment._EnvProtocol, "data_received", before="Gres")
    _wrap(environment.Environment, "check", before="Wtick")
    _wrap(logstore.LogStore, "_write_batch", before="L+", after="L-")
    _wrap(_ipc.BlockingFrameSocket, "recv", after="Erecv")
    sent = [0]
    send = _ipc.BlockingFrameSocket.send

    def env_send(self, *args, **kwargs):
        mark("Esend")
        send(self, *args, **kwargs)
        sent[0] += 1
        if sent[0] % 1000 == 0:
            dump()

    _ipc.BlockingFrameSocket.send = env_send
    gc.callbacks.append(_gc)
    gateway_file = os.path.join(_DIR, f"gateway-{os.getpid()}.txt")
    signal.signal(signal.SIGUSR1, lambda *_: dump(gateway_file))


if _DIR:
    _install()
"""

SEGMENTS = ("Grecv", "Gdisp", "Erecv", "Esend", "Gres", "Gwrite")
HOPS = (
    "client->Grecv",
    "Grecv->Gdisp",
    "Gdisp->Erecv",
    "Erecv->Esend",
    "Esend->Gres",
    "Gres->Gwrite",
    "Gwrite->client",
)


def _gateway_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gateway", HERE / "gateway.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _environment_pid(gateway_pid: int) -> int:
    """The execution environment: the zygote's child in a PID namespace that has used
    the most CPU (it served the warm-up; spares have not)."""
    best, best_cpu = 0, -1
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/status") as fh:
                nspid = next(ln for ln in fh.read().splitlines() if ln.startswith("NSpid"))
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/comm") as fh:
                comm = fh.read().strip()
        except (OSError, StopIteration):
            continue
        cpu = int(fields[11]) + int(fields[12])
        if (
            int(fields[3]) == gateway_pid  # its session
            # An environment: named (runtime/_process_names), or a fork of a zygote
            # started as a new interpreter before environments were named.
            and (comm == "lambic-env" or b"_zygote_main" in cmdline)
            and len(nspid.split()) > 2
            and cpu > best_cpu
        ):
            best, best_cpu = int(entry), cpu
    if not best:
        raise RuntimeError("no execution environment found")
    return best


def _events(out: Path) -> list[tuple[float, str]]:
    found = []
    for path in out.glob("*.txt"):
        for line in path.read_text().splitlines():
            stamp, tag = line.split()
            found.append((float(stamp), tag))
    found.sort()
    return found


def analyse(label: str, client: list[tuple[float, float]], events: list[tuple[float, str]]) -> None:
    times = [t for t, _ in events]
    latency = [(b - a) * 1000 for a, b in client]
    n = len(latency)
    order = sorted(range(n), key=latency.__getitem__)
    p50, p99 = latency[order[n // 2]], latency[order[int(n * 0.99)]]
    print(f"== {label}: {n} requests, p50 {p50:.3f} ms, p99 {p99:.3f} ms = {p99 / p50:.1f}x")

    def hops(i: int) -> list[float] | None:
        a, b = client[i]
        first: dict[str, float] = {}
        for t, tag in events[bisect.bisect_left(times, a) : bisect.bisect_right(times, b)]:
            first.setdefault(tag, t)
        points = [a, *(first.get(s) for s in SEGMENTS), b]
        if any(p is None for p in points):
            return None
        return [(points[k + 1] - points[k]) * 1000 for k in range(len(HOPS))]  # type: ignore[operator]

    every = [h for h in map(hops, range(n)) if h is not None]
    median = [statistics.median(h[k] for h in every) for k in range(len(HOPS))]
    shown = ", ".join(f"{h} {m:.3f}" for h, m in zip(HOPS, median, strict=True))
    print(f"  hop medians (ms): {shown}")
    slow = order[int(n * 0.99) :]
    largest: Counter[str] = Counter()
    for i in slow:
        h = hops(i)
        if h is None:
            largest["(a hop unrecorded)"] += 1
        else:
            largest[HOPS[max(range(len(h)), key=lambda k: h[k] - median[k])]] += 1
    print(f"  slowest {len(slow)}: hop most over its median: " + str(largest.most_common()))
    windows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    opened: dict[str, float] = {}
    for t, tag in events:
        if tag in SEGMENTS:
            continue
        if tag.endswith("+"):
            opened[tag[:-1]] = t
        elif tag.endswith("-"):
            if tag[:-1] in opened:
                windows[tag[:-1]].append((opened.pop(tag[:-1]), t))
        else:
            windows[tag].append((t, t))
    starts = [a for a, _ in client]
    slow_set = set(slow)

    def slow_overlapping(spans: list[tuple[float, float]], shift: float) -> int:
        hit = set()
        for s, e in spans:
            j = bisect.bisect_right(starts, e + shift) - 1
            while j >= 0 and client[j][1] >= s + shift:
                hit.add(j)
                j -= 1
        return len(hit & slow_set)

    for name, spans in sorted(windows.items()):
        lengths = [(e - s) * 1000 for s, e in spans]
        controls = [slow_overlapping(spans, ms / 1000) for ms in (3, 7, 11, 17)]
        print(
            f"  {name:6} {len(spans):5} windows (median {statistics.median(lengths):.3f} ms): "
            f"overlap {slow_overlapping(spans, 0)} slow requests; shifted +3/7/11/17 ms: "
            f"{controls}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=HERE.parent)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--alternate", action="store_true")
    parser.add_argument("--shield", action="store_true")
    args = parser.parse_args()
    gw = _gateway_bench()
    modes = {"SCHED_BATCH": os.SCHED_BATCH, "SCHED_OTHER": os.SCHED_OTHER}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        site, out = Path(tmp) / "site", Path(tmp) / "trace"
        site.mkdir()
        out.mkdir()
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        project = gw.make_projects(Path(tmp))[0]
        port = gw.free_port()
        cmd = [gw.PY, "-m", "lambic", "local", "--port", str(port), "--no-reload"]
        cmd += ["--services-port", str(gw.free_port())]
        env = {
            **os.environ,
            "PYTHONPATH": f"{site}{os.pathsep}{args.tree / 'src'}",
            "LAMBIC_TAIL_TRACE": str(out),
        }
        proc = stack.enter_context(gw.server(cmd, project, port, env))
        for _ in range(1000):  # warm-up, on connections of its own
            gw.http_get(port)
        if args.shield:
            for pid in (proc.pid, os.getpid()):
                Path(f"/proc/{pid}/autogroup").write_text("-20")
        environment = _environment_pid(proc.pid)
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        runs: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for _ in range(args.rounds):
            for name, policy in modes.items() if args.alternate else [("as is", -1)]:
                if policy >= 0:
                    os.sched_setscheduler(environment, policy, os.sched_param(0))
                for _ in range(args.requests):
                    runs[name].append(_timed_request(sock))
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(1.0)
        events = _events(out)
    print(f"{args.rounds} rounds x {args.requests} sequential requests, 1 connection")
    for name, client in runs.items():
        analyse(name, client, events)


def _timed_request(sock: socket.socket) -> tuple[float, float]:
    """One request on the kept-alive connection: (send, receive) on CLOCK_MONOTONIC."""
    start = time.perf_counter()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += sock.recv(65536)
    return start, time.perf_counter()


if __name__ == "__main__":
    main()
