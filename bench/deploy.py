"""Benchmark: package + first deploy + no-change redeploy of a 20-route, 5-handler app.

Runs against a moto server on 127.0.0.1 (nothing leaves the machine). Each repetition
starts from a reset moto and a fresh project copy; figures are medians over the
repetitions. The anchor, measured in the same run, is one STS GetCallerIdentity round
trip to the same moto server: the least any deploy can cost.

Targets (issue 7): package <= 3 s (no third-party requirements), first deploy <= 10 s,
no-change redeploy <= 1 s.

    .venv/bin/python bench/deploy.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from lambic.deploy.aws import AWSSession, is_mutating
from lambic.deploy.deployable import load_deployable
from lambic.deploy.deployer import deploy
from lambic.deploy.packager import build_package
from lambic.deploy.sam import build_sam

TARGETS = {"package": 3.0, "first deploy": 10.0, "no-change redeploy": 1.0}


def write_app(root: Path) -> Path:
    """A project with 20 routes and 5 event handlers (schedule, S3, SQS, SNS, EventBridge).

    No CORS: moto 5 cannot import the mock-integrated OPTIONS methods CORS adds (the
    tests patch that moto bug; the benchmark runs moto as shipped).
    """
    project = root / "bench"
    (project / "chalicelib").mkdir(parents=True)
    (project / "chalicelib" / "__init__.py").write_text("")
    (project / "chalicelib" / "store.py").write_text(
        "import boto3\n\ntable = boto3.resource('dynamodb').Table('bench')\n"
    )
    routes = "\n".join(
        f"@app.route('/items{i}/{{item_id}}', methods=['GET', 'PUT'])\n"
        f"def item{i}(item_id):\n    return table.get_item(Key={{'id': item_id}})\n"
        for i in range(20)
    )
    (project / "app.py").write_text(
        "from chalicelib.store import table\n\nfrom lambic import Lambic, Rate\n\n"
        "app = Lambic(app_name='bench')\n\n"
        f"{routes}\n"
        "@app.schedule(Rate(5, unit=Rate.MINUTES))\ndef tick(event):\n    pass\n\n"
        "@app.on_s3_event(bucket='bench-uploads')\ndef upload(event):\n    pass\n\n"
        "@app.on_sqs_message(queue='bench-jobs', batch_size=10)\ndef job(event):\n    pass\n\n"
        "@app.on_sns_message(topic='bench-alerts')\ndef alert(event):\n    pass\n\n"
        "@app.on_cw_event({'source': ['aws.ec2']})\ndef ec2(event):\n    pass\n"
    )
    return project


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def one_run(endpoint: str, workdir: Path) -> tuple[dict[str, float], int, float]:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    boto3.client("s3").create_bucket(Bucket="bench-uploads")
    boto3.client("sqs").create_queue(QueueName="bench-jobs")
    boto3.client("sns").create_topic(Name="bench-alerts")
    project = write_app(workdir)
    figures: dict[str, float] = {}
    started = time.perf_counter()
    # What `lambic package` does: import the app, analyse its policy, zip, write SAM.
    loaded = load_deployable(project, "dev")
    build_package(project, workdir / "out" / "deployment.zip", runtime=loaded.runtime)
    (workdir / "out" / "sam.json").write_text(json.dumps(build_sam(loaded.graph)))
    figures["package"] = time.perf_counter() - started
    started = time.perf_counter()
    deploy(project, "dev")
    figures["first deploy"] = time.perf_counter() - started
    aws = AWSSession()
    calls: list[str] = []
    aws.observe_calls(lambda service, operation: calls.append(operation))
    started = time.perf_counter()
    deploy(project, "dev", aws=aws)
    figures["no-change redeploy"] = time.perf_counter() - started
    sts = boto3.client("sts")
    anchor = []
    for _ in range(20):
        started = time.perf_counter()
        sts.get_caller_identity()
        anchor.append(time.perf_counter() - started)
    return figures, sum(1 for op in calls if is_mutating(op)), statistics.median(anchor)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    args = parser.parse_args()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    results: dict[str, list[float]] = {name: [] for name in TARGETS}
    anchors: list[float] = []
    mutating: list[int] = []
    try:
        for index in range(max(1, args.repeat)):
            with tempfile.TemporaryDirectory() as tmp:
                figures, calls, anchor = one_run(f"http://127.0.0.1:{port}", Path(tmp))
            for name, value in figures.items():
                results[name].append(value)
            anchors.append(anchor)
            mutating.append(calls)
            print(f"run {index + 1}: " + ", ".join(f"{k} {v:.3f} s" for k, v in figures.items()))
    finally:
        server.stop()
    anchor = statistics.median(anchors)
    print(f"\n20 routes + 5 event handlers, against moto on loopback, {len(anchors)} runs")
    print(f"anchor: one STS GetCallerIdentity round trip, median {anchor * 1000:.2f} ms")
    failed = False
    for name, target in TARGETS.items():
        value = statistics.median(results[name])
        ok = value <= target
        failed |= not ok
        print(
            f"{name:>20}: median {value:.3f} s  target {target:.0f} s "
            f"(ratio {value / target:.2f})  = {value / anchor:.0f} anchor round trips"
            f"  {'OK' if ok else 'OVER'}"
        )
    print(f"mutating calls on no-change redeploy: {max(mutating)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
