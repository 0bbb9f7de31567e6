"""Event-source benchmark: how fast `lambic local` turns an event into a running handler.

One run, loopback only, bounded in time (about a minute). A generated app is served by
a real `lambic local --no-reload` subprocess; unchanged boto3 clients talk to its
services port, and each handler tells the bench when it started with one UDP datagram
(`time.time()` on the same machine). Printed, with medians and ratios:

- S3:  PutObject (client call starts) -> S3 handler starts, p50/p99 over 200 uploads
       made one at a time (async invocation through the durable event queue), and in
       the same uploads the PutObject call's own latency (start -> response parsed) and
       the difference of the two p50s: how long after the caller has its answer the
       handler starts (the target is within 0.5 ms);
- SQS: SendMessage -> SQS handler starts, p50/p99 over 200 messages one at a time
       (batch size 1, batching window 0, so no batching delay is allowed);
- anchor for both: one boto3 call to the same port (`GetQueueUrl`), the client and
       HTTP floor every measured path pays once;
- schedule: the `Scheduler` with an injected clock running 60x fast (so a
       `rate(1 minute)` rule fires every real second), feeding the durable queue and
       real execution environments in process: real delay from each fire's due instant
       (mapped back to real time) to the handler starting, over 10 fires;
- throughput: 5,000 messages preloaded into the queue's SQLite state before
       `lambic local` starts, drained by a no-op handler with batch size 10:
       messages/s from the first batch starting to the last one starting.

    .venv/bin/python bench/events.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

APP = """
import json
import os
import socket
import time

from lambic import Lambic

app = Lambic(app_name="eventbench")
_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# Read at import: app.py is also imported once, without the environment, to list handlers.
_target = ("127.0.0.1", int(os.environ.get("BENCH_PORT", "9")))


def _tell(kind, ident, started):
    _sock.sendto(json.dumps([kind, ident, started]).encode(), _target)


@app.on_s3_event(bucket="bench-uploads")
def uploaded(event):
    _tell("s3", event.key, time.time())


@app.on_sqs_message(queue="bench-latency", batch_size=1)
def latency(event):
    started = time.time()
    for record in event:
        _tell("sqs", record.body, started)


@app.on_sqs_message(queue="bench-bulk", batch_size=10)
def bulk(event):
    started = time.time()
    _tell("bulk", len(event.to_dict()["Records"]), started)


@app.schedule("rate(1 minute)")
def tick(event):
    _tell("schedule", event.to_dict()["time"], time.time())
"""

SAMPLES = 200
WARMUP = 10
BULK_MESSAGES = 5_000
SCHEDULE_FIRES = 10
SPEEDUP = 60.0
TARGETS = {
    "s3": 10.0,
    "s3_after_call": 0.5,
    "sqs": 20.0,
    "schedule": 100.0,
    "throughput": 1_000.0,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def make_project(root: Path, bench_port: int) -> Path:
    project = root / "project"
    (project / ".lambic").mkdir(parents=True)
    (project / "app.py").write_text(APP)
    config = {
        "version": "2.0",
        "app_name": "eventbench",
        "environment_variables": {"BENCH_PORT": str(bench_port)},
        "stages": {"dev": {}},
    }
    (project / ".lambic" / "config.json").write_text(json.dumps(config))
    return project


class Listener:
    """The UDP socket handlers report to."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.port = int(self.sock.getsockname()[1])

    def next(self, timeout: float = 10.0) -> list[Any]:
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(65536)
        report: list[Any] = json.loads(data)
        return report

    def expect(self, kind: str, ident: Any, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got_kind, got_ident, started = self.next(max(0.01, deadline - time.monotonic()))
            if got_kind == kind and got_ident == ident:
                return float(started)
        raise TimeoutError(f"no {kind} report for {ident!r} within {timeout} s")


def client(service: str, port: int) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 0}),
    )


def start_local(project: Path, services_port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lambic",
            "local",
            "--no-reload",
            "--project-dir",
            str(project),
            "--port",
            str(free_port()),
            "--services-port",
            str(services_port),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "Serving eventbench" in log.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_local(proc)
    raise RuntimeError(f"lambic local did not start:\n{log.read_text(errors='replace')}")


def stop_local(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def measure_s3(listener: Listener, port: int) -> tuple[list[float], list[float]]:
    """(PutObject start -> handler start ms, PutObject call ms) for the same uploads."""
    s3 = client("s3", port)
    samples, calls = [], []
    for index in range(WARMUP + SAMPLES):
        key = f"object-{index}"
        sent = time.time()
        s3.put_object(Bucket="bench-uploads", Key=key, Body=b"x")
        answered = time.time()
        started = listener.expect("s3", key)
        if index >= WARMUP:
            samples.append((started - sent) * 1000)
            calls.append((answered - sent) * 1000)
    return samples, calls


def measure_sqs(listener: Listener, port: int) -> list[float]:
    sqs = client("sqs", port)
    url = sqs.get_queue_url(QueueName="bench-latency")["QueueUrl"]
    samples = []
    for index in range(WARMUP + SAMPLES):
        body = f"message-{index}"
        sent = time.time()
        sqs.send_message(QueueUrl=url, MessageBody=body)
        started = listener.expect("sqs", body)
        if index >= WARMUP:
            samples.append((started - sent) * 1000)
    return samples


def measure_anchor(port: int) -> list[float]:
    sqs = client("sqs", port)
    samples = []
    for _ in range(WARMUP + SAMPLES):
        t0 = time.perf_counter()
        sqs.get_queue_url(QueueName="bench-latency")
        samples.append((time.perf_counter() - t0) * 1000)
    return samples[WARMUP:]


def preload_bulk_queue(project: Path) -> None:
    """Fill `bench-bulk` in the project's SQS state before `lambic local` starts.

    Filling it through boto3 while the mapping drains would measure the producer
    (about as fast as the drain on 2 cores), not the drain.
    """
    from lambic.services.factory import create_services

    services = create_services(project / ".lambic" / "state" / "dev", names=["sqs"])
    try:
        if services.sqs is None:
            raise RuntimeError("the SQS service was not built")
        engine = services.sqs.engine
        engine.create_queue("bench-bulk")
        for index in range(BULK_MESSAGES):
            engine.send_message("bench-bulk", f"message-{index:05d}")
    finally:
        services.close()


def measure_throughput(listener: Listener) -> float:
    """Messages/s from the first bulk batch starting to the last one starting."""
    received, first, last, first_batch = 0, None, 0.0, 0
    while received < BULK_MESSAGES:
        kind, count, started = listener.next(timeout=30)
        if kind != "bulk":
            continue
        if first is None:
            first, first_batch = float(started), int(count)
        last = max(last, float(started))
        received += int(count)
    if first is None:
        raise RuntimeError("no bulk batch was reported")
    return (BULK_MESSAGES - first_batch) / max(1e-9, last - first)


async def measure_schedule(
    project_dir: Path, listener: Listener
) -> tuple[list[float], list[float]]:
    """(due -> handler start ms, due -> fire callback ms) for SCHEDULE_FIRES fires."""
    from lambic.runtime import create_invoker, load_project
    from lambic.runtime.async_queue import AsyncEventQueue
    from lambic.runtime.event_sources import (
        Account,
        EventSources,
        ScheduleSource,
        scheduled_event,
    )
    from lambic.runtime.scheduler import Fire, ScheduledRule, Scheduler

    project = load_project(project_dir)
    invoker = create_invoker(project, "dev", extra_env={"BENCH_PORT": str(listener.port)})
    real_start = time.time()
    virtual_start = datetime.now(timezone.utc).timestamp()

    def fast_clock() -> datetime:
        virtual = virtual_start + (time.time() - real_start) * SPEEDUP
        return datetime.fromtimestamp(virtual, timezone.utc)

    def real_time(moment: datetime) -> float:
        return real_start + (moment.timestamp() - virtual_start) / SPEEDUP

    async def fast_sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / SPEEDUP)

    fired: list[float] = []
    dues: list[float] = []

    def factory(rules: list[ScheduledRule], fire: Any, state_path: Path | None) -> Scheduler:
        def timed(item: Fire) -> None:
            dues.append(real_time(item.due))
            fired.append(time.time())
            fire(item)

        return Scheduler(rules, timed, clock=fast_clock, sleep=fast_sleep)

    queue = AsyncEventQueue(
        lambda name, payload, rid: invoker.invoke(name, payload, request_id=rid), path=None
    )
    functions = [f for f in project.manifest.functions if f.kind == "schedule"]
    account = Account("eventbench", "dev")
    sources = EventSources(
        functions, queue, [ScheduleSource(functions, queue, account, scheduler_factory=factory)]
    )
    try:
        # The first environment's cold start is not what this measures: warm it up.
        event = scheduled_event(Account("eventbench", "dev"), "tick")
        warm = await invoker.invoke("tick", json.dumps(event).encode())
        if warm.status != "ok":
            raise RuntimeError(f"tick failed: {warm.payload!r}")
        await asyncio.to_thread(listener.expect, "schedule", event["time"])
        await sources.start()
        starts = []
        for _ in range(SCHEDULE_FIRES):
            kind, _, started = await asyncio.to_thread(listener.next, 5.0)
            if kind == "schedule":
                starts.append(float(started))
    finally:
        await sources.stop()
        await queue.aclose()
        await invoker.aclose()
    handler_ms = [(s - d) * 1000 for s, d in zip(starts, dues, strict=False)]
    fire_ms = [(f - d) * 1000 for f, d in zip(fired, dues, strict=False)]
    return handler_ms, fire_ms


def line(name: str, samples: list[float], target: float, anchor: float) -> str:
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    return (
        f"{name:<34} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  (n={len(samples)})  "
        f"target p50 <= {target:.0f} ms: ratio {p50 / target:.2f}  "
        f"vs anchor p50 {anchor:.2f} ms: x{p50 / anchor:.1f}"
    )


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="lambic-bench-events-"))
    listener = Listener()
    project = make_project(root, listener.port)
    services_port = free_port()
    preload_bulk_queue(project)
    proc = start_local(project, services_port, root / "local.log")
    try:
        drain = measure_throughput(listener)
        anchor = statistics.median(measure_anchor(services_port))
        s3, s3_calls = measure_s3(listener, services_port)
        sqs = measure_sqs(listener, services_port)
    finally:
        stop_local(proc)
    handler_ms, fire_ms = asyncio.run(measure_schedule(project, listener))
    shutil.rmtree(root, ignore_errors=True)

    print(f"anchor: boto3 GetQueueUrl round trip p50 {anchor:.2f} ms")
    print(line("S3 PutObject -> handler start", s3, TARGETS["s3"], anchor))
    call_p50 = statistics.median(s3_calls)
    after = statistics.median(s3) - call_p50
    print(
        f"{'S3 PutObject call itself':<34} p50 {call_p50:7.2f} ms  p99 "
        f"{percentile(s3_calls, 0.99):7.2f} ms  -> handler starts p50 {after:+.2f} ms after "
        f"the call returns (target <= +{TARGETS['s3_after_call']:.1f} ms)"
    )
    print(line("SQS SendMessage -> handler start", sqs, TARGETS["sqs"], anchor))
    worst = max(handler_ms) if handler_ms else float("nan")
    print(
        f"{'schedule due -> handler start':<34} p50 {statistics.median(handler_ms):7.2f} ms  "
        f"max {worst:7.2f} ms  (n={len(handler_ms)}; scheduler fired p50 "
        f"{statistics.median(fire_ms):.2f} ms after due)  target <= 100 ms: ratio "
        f"{worst / TARGETS['schedule']:.2f} (max)"
    )
    print(
        f"{'SQS drain, batch 10, no-op handler':<34} {drain:9.0f} messages/s  "
        f"({BULK_MESSAGES} preloaded)  target >= 1000/s: ratio "
        f"{drain / TARGETS['throughput']:.2f}"
    )


if __name__ == "__main__":
    main()
