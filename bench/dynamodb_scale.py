"""DynamoDB scale benchmark: load N items with BatchWriteItem, then Query Limit 1.

    .venv/bin/python bench/dynamodb_scale.py [--items 1000000] [--partitions 1000]
                                             [--threads 4] [--queries 1000]

The DynamoDB service runs alone in a subprocess on a free loopback port, persisting
to a temporary state directory, exactly as `lambic local` runs it. Steps:

1. load `--items` items (~120 bytes each, `--partitions` partition keys, numeric
   time-like sort keys) with BatchWriteItem, 25 per call, from `--threads` clients;
2. Query a random partition with `Limit=1, ScanIndexForward=False` (newest first)
   `--queries` times through boto3 and report the median round trip, next to the
   median round trip of a trivial endpoint (the boto3 floor, same run);
3. report the service process's peak resident memory (VmHWM) against the 300 MB
   target;
4. stop the server, open the same state directory in-process and time the Query
   server-side (request parse → SQLite seek → rendered JSON body), against the
   2 ms target.

Figures are medians; each target is printed with its ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

_SERVER = """
import sys
from pathlib import Path
from lambic.services.dynamodb import create_service
from lambic.services.server import serve
serve({"dynamodb": create_service(Path(sys.argv[1]))}, host="127.0.0.1", port=int(sys.argv[2]))
"""

_FLOOR = """
import asyncio, sys
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/x-amz-json-1.0\\r\\n"
                         b"Content-Length: 2\\r\\n\\r\\n{}")
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""

TABLE = "scale"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(url: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 0}, max_pool_connections=16),
    )


def _wait_ready(client: Any, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            client.list_tables()
            return
        except Exception:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.05)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _item(n: int, partitions: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"device-{n % partitions:05d}"},
        "sk": {"N": f"{1_700_000_000 + n // partitions}.{n % 1000:03d}"},
        "reading": {"N": str(n % 997)},
        "status": {"S": "ok" if n % 7 else "late"},
        "note": {"S": "x" * 40},
    }


def load(url: str, items: int, partitions: int, threads: int) -> float:
    local = threading.local()
    batches = [range(start, min(start + 25, items)) for start in range(0, items, 25)]
    done = [0]
    lock = threading.Lock()

    def write(batch: range) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = _client(url)
        requests = [{"PutRequest": {"Item": _item(n, partitions)}} for n in batch]
        result = client.batch_write_item(RequestItems={TABLE: requests})
        if result["UnprocessedItems"]:
            raise RuntimeError("unexpected UnprocessedItems")
        with lock:
            done[0] += len(batch)
            if done[0] % 100_000 < 25:
                print(f"  loaded {done[0]:,} items", flush=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, batches))
    return time.perf_counter() - started


def _query_body(partition: int) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": f"device-{partition:05d}"}},
        "Limit": 1,
        "ScanIndexForward": False,
    }


def round_trips(client: Any, partitions: int, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        body = _query_body(random.randrange(partitions))
        started = time.perf_counter()
        client.query(**body)
        timings.append(time.perf_counter() - started)
    return timings


def floor_round_trips(count: int) -> list[float]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", _FLOOR, str(port)])
    try:
        client = _client(f"http://127.0.0.1:{port}")
        _wait_ready(client, process)
        timings = []
        for n in range(count):
            started = time.perf_counter()
            client.query(**_query_body(n % 10))
            timings.append(time.perf_counter() - started)
        return timings
    finally:
        process.terminate()
        process.wait(timeout=10)


def server_side(state: Path, partitions: int, count: int) -> list[float]:
    from lambic.services.base import Headers, ServiceRequest
    from lambic.services.dynamodb import create_service

    service = create_service(state)
    loop = asyncio.new_event_loop()
    headers = Headers([("X-Amz-Target", "DynamoDB_20120810.Query")])
    timings = []
    try:
        for _ in range(count):
            body = json.dumps(_query_body(random.randrange(partitions))).encode()
            request = ServiceRequest("POST", "/", "", headers, body)
            started = time.perf_counter()
            response = loop.run_until_complete(service.handle(request))
            timings.append(time.perf_counter() - started)
            if response.status != 200 or b'"Count":1' not in response.body:
                raise RuntimeError(f"unexpected Query answer: {response.body[:200]!r}")
    finally:
        loop.close()
        service.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lambic-ddb-scale-") as tmp:
        state = Path(tmp)
        port = _free_port()
        process = subprocess.Popen([sys.executable, "-c", _SERVER, str(state), str(port)])
        try:
            url = f"http://127.0.0.1:{port}"
            client = _client(url)
            _wait_ready(client, process)
            client.create_table(
                TableName=TABLE,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            print(f"loading {args.items:,} items with BatchWriteItem ({args.threads} clients)")
            seconds = load(url, args.items, args.partitions, args.threads)
            print(f"load: {seconds:.1f} s, {args.items / seconds:,.0f} items/s")
            count = client.describe_table(TableName=TABLE)["Table"]["ItemCount"]
            print(f"ItemCount reported: {count:,}")
            trips = round_trips(client, args.partitions, args.queries)
            rss = _peak_rss_mb(process.pid)
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        floor = floor_round_trips(args.queries)
        inside = server_side(state, args.partitions, args.queries)
        db_mb = sum(p.stat().st_size for p in state.iterdir()) / 2**20

    trip_ms = statistics.median(trips) * 1000
    floor_ms = statistics.median(floor) * 1000
    inside_ms = statistics.median(inside) * 1000
    print()
    print(f"Query Limit 1 newest-first, {args.items:,} items, {args.partitions} partitions")
    print(f"  round trip via boto3   median {trip_ms:.3f} ms")
    print(f"  boto3 floor (same run) median {floor_ms:.3f} ms   ratio {trip_ms / floor_ms:.2f}x")
    print(
        f"  server-side            median {inside_ms:.3f} ms   target 2 ms   "
        f"ratio {inside_ms / 2:.2f} of target"
    )
    print(f"service peak RSS {rss:.0f} MB   target 300 MB   ratio {rss / 300:.2f} of target")
    print(f"database on disk {db_mb:.0f} MB")


if __name__ == "__main__":
    main()
