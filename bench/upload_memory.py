"""How much a large S3 upload raises the services' resident memory.

    .venv/bin/python bench/upload_memory.py [--mib 1024]

Starts `lambic services` in its own process with state in a temporary directory,
streams one PutObject of `--mib` MiB over a raw socket (a Content-Length and the
bytes, as any SDK sends), and prints the services' VmRSS before, at its peak while
the upload streams, and after, with the peak's rise. Issue 18's goal: a 1 GiB upload
raises RSS by less than 64 MB. The anchor in the same run is the RSS before the
upload; the ratio printed is rise / upload size.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MIB = 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def put_head(url: str, port: int, path: str, size: int) -> bytes:
    request = AWSRequest(
        method="PUT",
        url=url + path,
        headers={"Host": f"127.0.0.1:{port}", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    )
    SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    lines = [f"PUT {path} HTTP/1.1", *(f"{k}: {v}" for k, v in request.headers.items())]
    lines += [f"Content-Length: {size}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        process = subprocess.Popen(
            [sys.executable, "-m", "lambic", "services", "--port", "0", "--state", state],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            match = re.search(r"http://127\.0\.0\.1:(\d+)", process.stdout.readline())
            if match is None:
                raise SystemExit("lambic services did not start")
            port = int(match.group(1))
            url = f"http://127.0.0.1:{port}"
            s3 = boto3.client(
                "s3",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            s3.create_bucket(Bucket="bench")
            s3.put_object(Bucket="bench", Key="warm", Body=b"x" * (2 * MIB))
            time.sleep(0.2)
            before = rss(process.pid)
            peak = [before]
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.02):
                    peak[0] = max(peak[0], rss(process.pid))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            chunk = bytes(range(256)) * (MIB // 256)
            started = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
                sock.sendall(put_head(url, port, "/bench/big.bin", args.mib * MIB))
                for _ in range(args.mib):
                    sock.sendall(chunk)
                reply = sock.recv(65536)
            took = time.perf_counter() - started
            done.set()
            sampler.join()
            time.sleep(0.2)
            after = rss(process.pid)
            status = reply.split(b"\r\n", 1)[0].decode()
            rise = peak[0] - before
            print(f"upload: {args.mib} MiB in {took:.1f} s ({args.mib / took:.0f} MiB/s): {status}")
            print(
                f"rss: before {before / 1e6:.0f} MB, peak {peak[0] / 1e6:.0f} MB, "
                f"after {after / 1e6:.0f} MB; rise {rise / 1e6:.0f} MB "
                f"(ratio rise/upload {rise / (args.mib * MIB):.3f}; goal < 64 MB)"
            )
        finally:
            process.terminate()
            process.communicate(timeout=20)


if __name__ == "__main__":
    main()
