"""Authorizer benchmark: a protected route (authorizer result cached) vs an open one.

    .venv/bin/python bench/authorizer.py [--requests 2000] [--rounds 5]

One `lambic local` serves the same view twice: `/open` without an authorizer and
`/protected` behind an `@app.authorizer(ttl_seconds=300)` built-in authorizer. After
one request has filled the authorizer cache, every protected request is API
Gateway's cached path: header lookup, cache hit, policy evaluated against the method
ARN, context added to the event (no authorizer invocation). Sequential requests on
one keep-alive connection, in interleaved rounds (open, protected, open, ...), so
noise on the machine hits both; the median latency of each is quoted, and the median
of the per-round ratios protected / open (target <= 1.2). Also: requests/s of each
with 8 connections (bundled asyncio generator). Loopback only; everything started
here is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from gateway import free_port, server  # bench/gateway.py: the same server helpers

PY = sys.executable
APP = """\
from lambic import AuthResponse, Lambic

app = Lambic(app_name="guarded")


@app.authorizer(ttl_seconds=300)
def gate(auth_request):
    if auth_request.token == "Bearer bench":
        return AuthResponse(routes=["/protected"], principal_id="bench", context={"plan": "pro"})
    raise Exception("Unauthorized")


@app.route("/")
def index():
    return {"hello": "world"}


@app.route("/open")
def open_route():
    return {"hello": "world"}


@app.route("/protected", authorizer=gate)
def protected():
    return {"hello": "world"}
"""


def _request(path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer bench\r\n\r\n"
    ).encode()


def sequential(port: int, path: str, requests: int) -> list[float]:
    """Latencies (ms) of sequential requests on one keep-alive connection."""
    latencies: list[float] = []
    request = _request(path)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        for _ in range(requests):
            start = time.perf_counter()
            s.sendall(request)
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, _, buf = buf.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(buf) < length:
                buf += s.recv(65536)
            buf = buf[length:]
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


async def _connection(port: int, path: str, stop_at: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request, count = _request(path), 0
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            count += 1
    finally:
        writer.close()
    return count


def throughput(port: int, path: str, seconds: float, connections: int = 8) -> float:
    async def main() -> int:
        stop_at = time.monotonic() + seconds
        counts = await asyncio.gather(
            *(_connection(port, path, stop_at) for _ in range(connections))
        )
        return sum(counts)

    start = time.monotonic()
    total = asyncio.run(main())
    return total / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "guarded"
        (project / ".lambic").mkdir(parents=True)
        (project / "app.py").write_text(APP)
        (project / ".lambic" / "config.json").write_text(
            '{"version": "2.0", "app_name": "guarded", "stages": {"dev": {}}}'
        )
        port = free_port()
        cmd = [PY, "-m", "lambic", "local", "--port", str(port), "--no-reload"]
        cmd += ["--services-port", str(free_port())]
        with server(cmd, project, port):
            for path in ("/open", "/protected"):  # warm-up; fills the authorizer cache
                sequential(port, path, 200)
            lat: dict[str, list[float]] = {"/open": [], "/protected": []}
            rps: dict[str, list[float]] = {"/open": [], "/protected": []}
            for _ in range(args.rounds):
                for path in lat:
                    lat[path].append(statistics.median(sequential(port, path, args.requests)))
            for _ in range(args.rounds):
                for path in rps:
                    rps[path].append(throughput(port, path, args.seconds))
    print(
        f"{args.rounds} interleaved rounds of {args.requests} sequential requests "
        "(1 keep-alive connection); medians of the rounds' medians"
    )
    for path in lat:
        each = "/".join(f"{v:.3f}" for v in lat[path])
        print(f"  {path:<11} p50 {statistics.median(lat[path]):.3f} ms   (rounds: {each})")
    # Each round measures both back to back: the median of the per-round ratios is the
    # figure least moved by load elsewhere on the machine.
    ratios = [p / o for p, o in zip(lat["/protected"], lat["/open"], strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"protected (authorizer cached) / open p50 = {ratio:.2f}x, median of per-round ratios "
        f"({'/'.join(f'{r:.2f}' for r in ratios)})   (target <= 1.2x)"
    )
    for path in rps:
        each = "/".join(f"{v:.0f}" for v in rps[path])
        print(f"  {path:<11} {statistics.median(rps[path]):.0f} requests/s, 8 connections ({each})")
    print(
        "open / protected requests/s = "
        f"{statistics.median(rps['/open']) / statistics.median(rps['/protected']):.2f}x"
    )


if __name__ == "__main__":
    main()
