"""WebSocket benchmark: a message's round trip through `lambic local`, against HTTP.

    .venv/bin/python bench/websocket.py [--messages 2000] [--rounds 3]

One app serves both: a trivial HTTP route (`GET /` -> {"hello": "world"}) and an echo
WebSocket handler that answers each message with `app.websocket_api.send` (boto3's
apigatewaymanagementapi PostToConnection to the local @connections API). `lambic
local` runs as a subprocess on free loopback ports; then, in interleaved rounds on
one warm connection each (after a warm-up):

  WebSocket round trip  client frame -> $default invocation in an execution
                        environment -> PostToConnection -> frame back to the client
  HTTP round trip       GET / -> API function in an execution environment -> answer

Medians are quoted, the ratio WS/HTTP is the anchor, and the goal (issue 15) is a
warm WebSocket p50 of at most 2 ms. The clients are plain sockets (a masked-frame
writer and a frame reader in this file) so neither side pays a client library's cost.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import re
import secrets
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

GOAL_MS = 2.0

APP = """\
import boto3

from lambic import Lambic

app = Lambic(app_name="wsbench")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.session.Session()


@app.route("/")
def index():
    return {"hello": "world"}


@app.on_ws_message()
def echo(event):
    app.websocket_api.send(event.connection_id, event.body)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_http(sock: socket.socket, buf: bytes) -> tuple[bytes, bytes]:
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    length = int(match.group(1)) if match else 0
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def http_p50(port: int, requests: int) -> float:
    latencies: list[float] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        for _ in range(requests):
            start = time.perf_counter()
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            reply, buf = _read_http(s, buf)
            latencies.append((time.perf_counter() - start) * 1000)
            if not reply.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(reply[:200].decode(errors="replace"))
    return statistics.median(latencies)


class RawWebSocket:
    """The least a client needs: the handshake, masked text frames out, frames in."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.sock.sendall(
            (
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head, self.buf = _read_http(self.sock, b"")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(head.decode(errors="replace"))

    def send(self, text: bytes) -> None:
        mask = secrets.token_bytes(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
        self.sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(text)) + mask + body)

    def recv(self) -> bytes:
        while len(self.buf) < 2:
            self.buf += self.sock.recv(65536)
        n = self.buf[1] & 0x7F
        offset = 2
        if n == 126:
            while len(self.buf) < 4:
                self.buf += self.sock.recv(65536)
            (n,) = struct.unpack("!H", self.buf[2:4])
            offset = 4
        while len(self.buf) < offset + n:
            self.buf += self.sock.recv(65536)
        payload, self.buf = self.buf[offset : offset + n], self.buf[offset + n :]
        return payload

    def close(self) -> None:
        self.sock.close()


def ws_p50(port: int, messages: int) -> float:
    ws = RawWebSocket(port)
    latencies: list[float] = []
    try:
        for i in range(messages):
            text = b"m%d" % i
            start = time.perf_counter()
            ws.send(text)
            reply = ws.recv()
            latencies.append((time.perf_counter() - start) * 1000)
            if reply != text:
                raise RuntimeError(f"expected {text!r}, got {reply!r}")
    finally:
        ws.close()
    return statistics.median(latencies)


@contextlib.contextmanager
def lambic_local(project: Path, port: int, ws_port: int) -> Iterator[None]:
    cmd = [
        sys.executable,
        "-m",
        "lambic",
        "local",
        "--project-dir",
        str(project),
        "--port",
        str(port),
        "--ws-port",
        str(ws_port),
        "--services-port",
        str(free_port()),
        "--no-reload",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"lambic local exited with {proc.returncode}")
            with contextlib.suppress(OSError, RuntimeError, ConnectionError):
                http_p50(port, 1)
                RawWebSocket(ws_port).close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError("lambic local not ready within 60 s")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "wsbench"
        (project / ".lambic").mkdir(parents=True)
        (project / "app.py").write_text(APP)
        (project / ".lambic" / "config.json").write_text(
            '{"version": "2.0", "app_name": "wsbench", "stages": {"dev": {}}}'
        )
        port, ws_port = free_port(), free_port()
        ws_runs: list[float] = []
        http_runs: list[float] = []
        with lambic_local(project, port, ws_port):
            ws_p50(ws_port, 200)  # warm-up: environments started, clients built
            http_p50(port, 200)
            for _ in range(args.rounds):
                ws_runs.append(ws_p50(ws_port, args.messages))
                http_runs.append(http_p50(port, args.messages))
    ws_ms = statistics.median(ws_runs)
    http_ms = statistics.median(http_runs)
    print(
        f"WebSocket round trip p50 (warm): {ws_ms:.3f} ms  rounds {[round(x, 3) for x in ws_runs]}"
    )
    http_rounds = [round(x, 3) for x in http_runs]
    print(f"HTTP round trip p50 (warm):      {http_ms:.3f} ms  rounds {http_rounds}")
    print(f"ratio WebSocket / HTTP: {ws_ms / http_ms:.2f}x")
    verdict = "meets" if ws_ms <= GOAL_MS else "misses"
    print(f"goal: WebSocket p50 <= {GOAL_MS} ms: {verdict} ({ws_ms:.3f} ms)")


if __name__ == "__main__":
    main()
