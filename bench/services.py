"""Local services benchmark: boto3 calls/s against Lambic, moto server and a floor.

    .venv/bin/python bench/services.py [--seconds 1.5] [--rounds 3] [--skip-scale]
                                       [--metering-only] [--baseline OTHER/src]

One boto3 client per service, one thread, keep-alive, loopback only. Three targets,
each a subprocess on a free port:

- Lambic: `lambic services --state <tmp>` (the real edge, SQLite and blobs on disk);
- moto: `ThreadedMotoServer` (the anchor the issue compares against);
- floor: a trivial asyncio HTTP endpoint answering every request with an empty 200
  (it does answer `Expect: 100-continue`), i.e. the cost of boto3 itself;
- ceiling (`bench/ceiling_server.py`): answers the S3 and DynamoDB calls with
  pre-built copies of Lambic's real responses and does nothing else, so boto3's
  parsing of a real response is counted: the most any server can reach with this
  client. Its ratio to moto shows how far the 3x-moto target is reachable at all.

Metering: a second Lambic (`unmetered`, `LAMBIC_METERING=off`, its own state) runs
interleaved with the first, and the on/off ratio per operation is printed (issue 19:
metering must cost at most 3%); `--metering-only` runs just those two.

With `--baseline OTHER/src` a third Lambic runs from another checkout's `src`
(PYTHONPATH; e.g. a worktree of main) over its own state, in the same turns, and
its calls/s and server CPU per call are printed beside this tree's: a before/after.

Operations: S3 PutObject / GetObject of 1 KB; DynamoDB PutItem / GetItem / Query
(Limit 1, newest first); SQS SendMessage and ReceiveMessage+DeleteMessage (one
operation = the pair). Each is run for `--seconds` per round; the median of
`--rounds` rounds is reported with the ratio to moto and to the floor.

Scale check: a bucket holding 100,000 keys (inserted directly into the state
directory's SQLite before the server starts, to keep the run short) is paged with
ListObjectsV2 (MaxKeys=1000); the median time of the first page and of the last
page are printed side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import os
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
from typing import Any

import boto3
from botocore.config import Config

PY = sys.executable
CEILING_SERVER = Path(__file__).with_name("ceiling_server.py")
CANNED = ("floor", "ceiling")  # targets that hold no data: setup creates nothing there
CEILING_OPERATIONS = ("s3 put 1KB", "s3 get 1KB", "ddb put", "ddb get", "ddb query newest")
BODY_1KB = b"x" * 1024

FLOOR_SERVER = r"""
import asyncio, sys

class Floor(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""
        self.need = None
    def data_received(self, data):
        self.buf += data
        while True:
            if self.need is None:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                self.buf = self.buf[end + 4:]
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"expect" and b"100-continue" in value:
                        self.t.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.need = length
            if len(self.buf) < self.need:
                return
            self.buf = self.buf[self.need:]
            self.need = None
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Floor, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()

asyncio.run(main())
"""

MOTO_SERVER = r"""
import sys, time
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def process(
    args: list[str], ready: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{args[:4]} exited before it was ready")
            if ready in line:
                break
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def clients(url: str) -> dict[str, Any]:
    config = Config(retries={"max_attempts": 0}, max_pool_connections=1)
    kw: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
        "config": config,
    }
    return {name: boto3.client(name, **kw) for name in ("s3", "dynamodb", "sqs")}


Operation = Callable[[int], object]


def setup(c: dict[str, Any], *, canned: bool) -> dict[str, Operation]:
    s3, ddb, sqs = c["s3"], c["dynamodb"], c["sqs"]
    queue_url = "http://127.0.0.1/000000000000/bench"
    if not canned:
        s3.create_bucket(Bucket="bench")
        for i in range(100):
            s3.put_object(Bucket="bench", Key=f"k{i}", Body=BODY_1KB)
        ddb.create_table(
            TableName="bench",
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
        for i in range(100):
            ddb.put_item(TableName="bench", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}})
        queue_url = sqs.create_queue(QueueName="bench")["QueueUrl"]

    def s3_get(i: int) -> object:
        return s3.get_object(Bucket="bench", Key=f"k{i % 100}")["Body"].read()

    def sqs_receive_delete(i: int) -> object:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0)
        handles = [m["ReceiptHandle"] for m in got.get("Messages", [])] or (
            ["floor-handle"] if canned else []
        )
        for handle in handles:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
        return handles

    return {
        "s3 put 1KB": lambda i: s3.put_object(Bucket="bench", Key=f"k{i % 100}", Body=BODY_1KB),
        "s3 get 1KB": s3_get,
        "ddb put": lambda i: ddb.put_item(
            TableName="bench", Item={"pk": {"S": "p"}, "sk": {"N": str(i % 1000)}}
        ),
        "ddb get": lambda i: ddb.get_item(
            TableName="bench", Key={"pk": {"S": "p"}, "sk": {"N": str(i % 100)}}
        ),
        "ddb query newest": lambda i: ddb.query(
            TableName="bench",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Limit=1,
            ScanIndexForward=False,
        ),
        "sqs send": lambda i: sqs.send_message(QueueUrl=queue_url, MessageBody=f"m{i}"),
        "sqs receive+delete": sqs_receive_delete,
    }


def timed(operation: Operation, start: int, calls: int) -> float:
    """Seconds for `calls` consecutive calls."""
    begin = time.perf_counter()
    for i in range(start, start + calls):
        operation(i)
    return time.perf_counter() - begin


def cpu_seconds(pid: int) -> float:
    """CPU time of a process, all its threads (Linux /proc); NaN elsewhere.

    From each thread's schedstat (nanoseconds) when the kernel has it: the stat file's
    user + system times count clock ticks (10 ms), which over the few hundred
    milliseconds of CPU an operation's calls take quantize a per-call figure by
    several percent, as much as the metering cost the on/off ratio looks for.
    """
    if os.path.exists(f"/proc/{pid}/schedstat"):
        total = 0
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return float("nan")
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as schedstat:
                    total += int(schedstat.read().split()[0])
            except FileNotFoundError:
                continue  # a thread that just ended (its CPU leaves the sum with it)
        return total / 1e9
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Results = dict[str, dict[str, tuple[float, float]]]


def measure(
    targets: dict[str, tuple[str, bool, int]], *, seconds: float, rounds: int, batch: int = 25
) -> Results:
    """Median calls/s per target and operation.

    The targets take turns every `batch` calls, so load from elsewhere on the machine
    (this box is shared) lands on all of them alike; each turn is one sample, and the
    median sample is reported. About `seconds` x `rounds` of calls per target and
    operation. Also the server process's CPU time per call, which busy neighbours
    disturb far less than wall-clock rates: (calls/s, server CPU µs per call).
    """
    prepared = {}
    for target, (url, canned, _pid) in targets.items():
        c = clients(url)
        prepared[target] = (c, setup(c, canned=canned))
    names = list(next(iter(prepared.values()))[1])
    samples: dict[str, dict[str, list[float]]] = {
        target: {name: [] for name in names} for target in targets
    }
    cpu: dict[str, dict[str, float]] = {target: {} for target in targets}
    for name in names:
        for _, operations in prepared.values():
            timed(operations[name], 0, 20)  # warm connections and caches
        before = {target: cpu_seconds(targets[target][2]) for target in targets}
        spent = 0.0
        turn = 0
        while spent < seconds * rounds * len(targets):
            for target, (_, operations) in prepared.items():
                elapsed = timed(operations[name], turn * batch, batch)
                spent += elapsed
                samples[target][name].append(batch / elapsed)
            turn += 1
        for target in targets:
            used = cpu_seconds(targets[target][2]) - before[target]
            cpu[target][name] = used / (turn * batch) * 1e6
    for c, _ in prepared.values():
        for client in c.values():
            client.close()
    return {
        target: {
            name: (statistics.median(values), cpu[target][name]) for name, values in per_op.items()
        }
        for target, per_op in samples.items()
    }


def fill_bucket(state: Path, count: int) -> None:
    """Insert `count` keys into bucket "scale" straight through the S3 store."""
    from lambic.services.s3 import create_service
    from lambic.services.s3.store import ObjectAttrs, StoredObject

    service = create_service(state)
    engine = service.engine
    engine.create_bucket("scale")
    blob = engine.blobs.put(b"x")
    attrs = ObjectAttrs({"Content-Type": "binary/octet-stream"})
    now = time.time()
    with engine.store.transaction() as conn:
        for n in range(count):
            # Every row points at one blob: listing never reads object bytes.
            engine.store.put_object(
                conn,
                StoredObject(
                    "scale",
                    f"key/{n:07d}",
                    blob,
                    1,
                    '"9dd4e461268c8034f5c8564e155c67a6"',
                    now,
                    attrs,
                ),
            )
    service.close()


def scale_check(url: str, count: int) -> tuple[float, float]:
    s3 = clients(url)["s3"]
    last_start = f"key/{count - 1000 - 1:07d}"

    def page(start_after: str) -> float:
        begin = time.perf_counter()
        got = s3.list_objects_v2(Bucket="scale", MaxKeys=1000, StartAfter=start_after)
        elapsed = time.perf_counter() - begin
        assert got["KeyCount"] == 1000, got["KeyCount"]
        return elapsed

    page("")
    first = statistics.median(page("") for _ in range(7))
    last = statistics.median(page(last_start) for _ in range(7))
    s3.close()
    return first, last


def print_metering(results: Results) -> None:
    """Metering's cost per operation: the same server, same run, metering on vs off."""
    on, off = results["lambic"], results["unmetered"]
    print(f"{'metering on/off':<20}{'on':>8}{'off':>8}{'ratio':>8}   server CPU us/call on/off")
    ratios, cpu_ratios = [], []
    for name in on:
        ratio = on[name][0] / off[name][0]
        ratios.append(ratio)
        cpu_ratios.append(on[name][1] / off[name][1])
        print(
            f"{name:<20}{on[name][0]:>8.0f}{off[name][0]:>8.0f}{ratio:>7.3f}x"
            f"   {on[name][1]:>6.0f} / {off[name][1]:.0f}"
        )
    print(
        f"metering on / off, median over operations = {statistics.median(ratios):.3f}x"
        "   (target >= 0.97x)"
    )
    print(
        "server CPU per call on / off, median over operations = "
        f"{statistics.median(cpu_ratios):.3f}x   (target <= 1.03x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--baseline", help="another checkout's src directory to compare")
    parser.add_argument("--scale-keys", type=int, default=100_000)
    parser.add_argument(
        "--metering-only",
        action="store_true",
        help="Only Lambic with metering on and off (LAMBIC_METERING=off), no scale check.",
    )
    args = parser.parse_args()
    if args.metering_only:
        args.skip_scale = True

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        state = Path(tmp) / "state"
        if not args.skip_scale:
            fill_bucket(state, args.scale_keys)
        names = ("lambic", "unmetered", "moto", "floor", "ceiling")
        ports = {name: free_port() for name in names}
        commands = {
            "lambic": (
                [
                    PY,
                    "-m",
                    "lambic",
                    "services",
                    "--state",
                    str(state),
                    "--port",
                    str(ports["lambic"]),
                ],
                "Lambic services",
            ),
            # The same server with metering off, over its own state: metering's cost.
            "unmetered": (
                [
                    PY,
                    "-m",
                    "lambic",
                    "services",
                    "--state",
                    str(Path(tmp) / "unmetered"),
                    "--port",
                    str(ports["unmetered"]),
                ],
                "Lambic services",
            ),
            "moto": ([PY, "-c", MOTO_SERVER, str(ports["moto"])], "ready"),
            "floor": ([PY, "-c", FLOOR_SERVER, str(ports["floor"])], "ready"),
            "ceiling": ([PY, str(CEILING_SERVER), str(ports["ceiling"])], "ready"),
        }
        if args.metering_only:
            commands = {k: v for k, v in commands.items() if k in ("lambic", "unmetered")}
        envs = {"unmetered": {**os.environ, "LAMBIC_METERING": "off"}}
        if args.baseline:
            base_state = str(Path(tmp) / "base")
            if not args.skip_scale:
                shutil.copytree(state, base_state)
            base_port = free_port()
            commands["base"] = (
                [PY, "-m", "lambic", "services", "--state", base_state, "--port", str(base_port)],
                "Lambic services",
            )
            ports["base"] = base_port
            envs["base"] = {**os.environ, "PYTHONPATH": str(Path(args.baseline).resolve())}
        pids = {
            name: stack.enter_context(process(command, ready, envs.get(name))).pid
            for name, (command, ready) in commands.items()
        }
        urls = {f"{name}": f"http://127.0.0.1:{ports[name]}" for name in commands}
        results = measure(
            {name: (url, name in CANNED, pids[name]) for name, url in urls.items()},
            seconds=args.seconds,
            rounds=args.rounds,
        )
        scale = None if args.skip_scale else scale_check(urls["lambic"], args.scale_keys)
    print_metering(results)
    if args.metering_only:
        return
    lambic, moto, floor = results["lambic"], results["moto"], results["floor"]
    ceiling = results["ceiling"]

    print(
        "boto3 calls/s, one client, one thread; median of 25-call turns, targets "
        f"interleaved, ~{args.seconds * args.rounds:.1f}s of calls per target and operation"
    )
    print(
        f"{'operation':<20}{'lambic':>8}{'moto':>8}{'floor':>8}{'vs moto':>9}{'vs floor':>9}"
        f"{'ceiling':>9}{'ceiling vs moto':>17}"
        f"   server CPU us/call: {'lambic':>7}{'moto':>7}{'floor':>7}"
    )
    for name in lambic:
        (rate, cpu), (moto_rate, moto_cpu), (floor_rate, floor_cpu) = (
            lambic[name],
            moto[name],
            floor[name],
        )
        best = (
            f"{ceiling[name][0]:>9.0f}{ceiling[name][0] / moto_rate:>16.1f}x"
            if name in CEILING_OPERATIONS
            else f"{'-':>9}{'-':>17}"
        )
        print(
            f"{name:<20}{rate:>8.0f}{moto_rate:>8.0f}{floor_rate:>8.0f}"
            f"{rate / moto_rate:>8.1f}x{rate / floor_rate:>8.2f}x{best}"
            f"{'':>3}{cpu:>22.0f}{moto_cpu:>7.0f}{floor_cpu:>7.0f}"
        )
    print(
        "ceiling: pre-built copies of Lambic's responses, no work per call (S3 and DynamoDB "
        "calls only); 'ceiling vs moto' is the best ratio any server could reach here."
    )
    if "base" in results:
        print(f"against --baseline {args.baseline} (same turns):")
        for name in lambic:
            (rate, cpu), (base_rate, base_cpu) = lambic[name], results["base"][name]
            print(
                f"    {name:<20} calls/s {rate:>6.0f} vs {base_rate:>6.0f} "
                f"({rate / base_rate:.3f}x)   CPU us/call {cpu:>5.0f} vs {base_cpu:>5.0f} "
                f"({cpu / base_cpu:.3f}x)"
            )
    if scale is not None:
        first, last = scale
        print(
            f"ListObjectsV2 over {args.scale_keys:,} keys (MaxKeys=1000): first page "
            f"{first * 1000:.1f} ms, last page {last * 1000:.1f} ms (last/first {last / first:.2f})"
        )


if __name__ == "__main__":
    main()
