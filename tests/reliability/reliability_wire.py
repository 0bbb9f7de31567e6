"""Raw-wire helpers for the reliability suite: signing, raw requests, reading replies."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lambic._http_limits import SERVICES_LIMITS, EdgeLimits
from lambic.services import create_services
from lambic.services.server import EdgeServer

CREDENTIALS = Credentials("test", "test")


def make_edge(state: Path, limits: EdgeLimits = SERVICES_LIMITS) -> EdgeServer:
    return EdgeServer(create_services(state).by_name(), limits=limits).start()


def client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


def signed_head(
    service: str,
    url: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
) -> dict[str, str]:
    """The headers botocore would send for this request, SigV4-signed for `service`."""
    request = AWSRequest(method=method, url=url + path, data=body, headers=headers)
    SigV4Auth(CREDENTIALS, service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def raw_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(port: int, raw: bytes, *, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send `raw`, read until the server closes (or `timeout`); (reply, seconds taken)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        reply = read_until_closed(sock)
    return reply, time.monotonic() - started


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return data
        if not chunk:
            return data
        data += chunk


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


def body_of(reply: bytes) -> bytes:
    return reply.partition(b"\r\n\r\n")[2]


def json_body(reply: bytes) -> Any:
    return json.loads(body_of(reply))


def rss_bytes(pid: int) -> int:
    """Resident set size of `pid`, from /proc (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


GATEWAY_APP = """
from lambic import Lambic

app = Lambic(app_name="edge")


@app.route("/", methods=["GET", "POST"], content_types=["application/octet-stream"])
def index():
    return {"size": len(app.current_request.raw_body or b"")}
"""


def gateway_project(project: Path) -> Path:
    """A project at `project` whose one route answers the size of the body it got."""
    project.mkdir(parents=True, exist_ok=True)
    (project / ".lambic").mkdir(exist_ok=True)
    (project / "app.py").write_text(GATEWAY_APP)
    (project / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "edge", "stages": {"dev": {}}})
    )
    return project
