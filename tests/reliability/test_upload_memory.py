"""Issue 18, finding 2: large S3 uploads stream to a file, never into memory.

`lambic services` runs as its own process so its resident memory (VmRSS, from /proc)
is the services' alone. A 256 MiB PutObject may raise it by less than 64 MB (the
issue's goal for 1 GiB; `bench/upload_memory.py` measures 1 GiB), and an upload
abandoned half-way leaves no temporary file and no memory behind.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_wire import client, raw_request, read_until_closed, rss_bytes, signed_head

from tests._support.services_process import ServicesProcess

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
SIZE = 256 * MIB
RSS_BUDGET = 64 * 1000 * 1000


@pytest.fixture
def services(tmp_path: Path) -> Iterator[ServicesProcess]:
    (tmp_path / "state").mkdir()
    running = ServicesProcess(tmp_path / "state")
    yield running
    running.stop()


class PeakRss:
    """Samples a process's RSS every 20 ms on a thread; `peak` is the highest seen."""

    def __init__(self, services: ServicesProcess) -> None:
        self._services = services
        self.peak = rss_bytes(services.process.pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes(self._services.process.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _put_head(services: ServicesProcess, key: str, size: int) -> bytes:
    path = f"/bucket/{key}"
    headers = signed_head(
        "s3",
        services.url,
        "PUT",
        path,
        {"Host": f"127.0.0.1:{services.port}", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    )
    headers["Content-Length"] = str(size)
    headers["Connection"] = "close"
    return raw_request("PUT", path, headers)


def _chunk(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * (MIB // 32)


def _warm(services: ServicesProcess) -> int:
    s3 = client("s3", services.url)
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="warm", Body=b"x" * (2 * MIB))
    time.sleep(0.2)
    return rss_bytes(services.process.pid)


def test_a_256_mib_put_raises_rss_by_less_than_64_mb(services: ServicesProcess) -> None:
    before = _warm(services)
    peak = PeakRss(services)
    digest = hashlib.md5()
    with socket.create_connection(("127.0.0.1", services.port), timeout=60) as sock:
        sock.sendall(_put_head(services, "big.bin", SIZE))
        for i in range(SIZE // MIB):
            chunk = _chunk(i)
            digest.update(chunk)
            sock.sendall(chunk)
        reply = read_until_closed(sock)
    highest = peak.stop()

    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    assert highest - before < RSS_BUDGET, f"RSS rose by {(highest - before) / 1e6:.0f} MB"
    head = client("s3", services.url).head_object(Bucket="bucket", Key="big.bin")
    assert head["ContentLength"] == SIZE
    assert head["ETag"] == f'"{digest.hexdigest()}"'
    assert list((services.state / "s3-blobs" / "tmp").iterdir()) == []


def test_an_abandoned_upload_leaves_no_file_and_no_memory(services: ServicesProcess) -> None:
    before = _warm(services)
    tmp = services.state / "s3-blobs" / "tmp"
    with socket.create_connection(("127.0.0.1", services.port), timeout=60) as sock:
        sock.sendall(_put_head(services, "gone.bin", SIZE))
        for i in range(64):
            sock.sendall(_chunk(i))
        time.sleep(0.3)
        assert len(list(tmp.iterdir())) == 1  # being spooled to a file, not to memory
    deadline = time.monotonic() + 10
    while list(tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert list(tmp.iterdir()) == []
    assert rss_bytes(services.process.pid) - before < RSS_BUDGET
    objects = client("s3", services.url).list_objects_v2(Bucket="bucket")["Contents"]
    assert [obj["Key"] for obj in objects] == ["warm"]


def test_a_64_mib_form_upload_is_spooled_and_stored_whole(services: ServicesProcess) -> None:
    before = _warm(services)
    s3 = client("s3", services.url)
    post = s3.generate_presigned_post("bucket", "form.bin")
    boundary = "lambic-reliability-boundary"
    fields = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in post["fields"].items()
    )
    file_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = 64 * MIB
    head = raw_request(
        "POST",
        "/bucket",
        {
            "Host": f"127.0.0.1:{services.port}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(fields) + len(file_head) + size + len(tail)),
            "Connection": "close",
        },
    )
    peak = PeakRss(services)
    digest = hashlib.md5()
    with socket.create_connection(("127.0.0.1", services.port), timeout=60) as sock:
        sock.sendall(head + fields + file_head)
        for i in range(size // MIB):
            chunk = _chunk(i)
            digest.update(chunk)
            sock.sendall(chunk)
        sock.sendall(tail)
        reply = read_until_closed(sock)
    highest = peak.stop()

    assert reply.startswith(b"HTTP/1.1 204"), reply[:300]
    assert highest - before < RSS_BUDGET, f"RSS rose by {(highest - before) / 1e6:.0f} MB"
    head_object = s3.head_object(Bucket="bucket", Key="form.bin")
    assert head_object["ContentLength"] == size
    assert head_object["ETag"] == f'"{digest.hexdigest()}"'
    assert list((services.state / "s3-blobs" / "tmp").iterdir()) == []
