"""kill -9 `lambic local` with SQS batches and async S3 events in flight: nothing is lost.

After a restart on the same state, every message and event has been handled at least
once or sits in its dead-letter queue, as AWS guarantees: SQS messages are deleted
only after their handler succeeded (those in flight reappear after the visibility
timeout) and accepted S3 events are committed to the durable async queue before
PutObject returns (those in flight are run again on start).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import LocalCloudProcess, free_port, recorded, wait_until

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "apps" / "event_cloud"
MESSAGES = [f"job-{i}" for i in range(56)] + [f"poison-{i}" for i in range(4)]
KEYS = [f"file-{i}.txt" for i in range(18)] + ["poison-0.bin", "poison-1.bin"]


def drain(sqs: Any, url: str, into: list[str]) -> None:
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in answer.get("Messages", []):
        into.append(message["Body"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_nothing_is_lost_when_lambic_local_is_killed_with_events_in_flight(
    tmp_path: Path,
) -> None:
    project, out = tmp_path / "project", tmp_path / "out"
    shutil.copytree(APP, project)
    out.mkdir()
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"].update(OUT_DIR=str(out), SLOW_SECONDS="0.3")
    config_path.write_text(json.dumps(config))
    port = free_port()

    first = LocalCloudProcess(project, services_port=port)
    try:
        first.wait_for("Serving eventcloud")
        sqs, s3 = first.client("sqs"), first.client("s3")
        jobs_dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
        uploads_dlq = sqs.create_queue(QueueName="uploads-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=jobs_dlq, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        jobs = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
        sqs.set_queue_attributes(
            QueueUrl=jobs,
            Attributes={
                # Longer than a batch of ten 0.3 s jobs plus a cold start on a loaded
                # machine: a batch still running when its messages reappear would count
                # extra receives and send good jobs to the dead-letter queue, as on AWS.
                "VisibilityTimeout": "6",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
            },
        )
        for start in range(0, len(MESSAGES), 10):
            sqs.send_message_batch(
                QueueUrl=jobs,
                Entries=[
                    {"Id": str(i), "MessageBody": body}
                    for i, body in enumerate(MESSAGES[start : start + 10])
                ],
            )
        for key in KEYS:
            s3.put_object(Bucket="uploads", Key=key, Body=b"data")
        # Kill as soon as both kinds of work are under way.
        wait_until(lambda: recorded(out, "sqs") and recorded(out, "s3"), 30, "the first deliveries")
    finally:
        first.kill_everything()
    done_before = {r["body"] for r in recorded(out, "sqs")}
    keys_before = {r["Records"][0]["s3"]["object"]["key"] for r in recorded(out, "s3")}
    # The crash must have interrupted work, or this test proves nothing.
    assert len(done_before) < len(MESSAGES) or len(keys_before) < len(KEYS)

    second = LocalCloudProcess(project, services_port=port)
    try:
        second.wait_for("Serving eventcloud")
        sqs = second.client("sqs")
        jobs_dlq = sqs.get_queue_url(QueueName="jobs-dlq")["QueueUrl"]
        uploads_dlq = sqs.get_queue_url(QueueName="uploads-dlq")["QueueUrl"]
        dead_jobs: list[str] = []
        dead_uploads: list[str] = []

        def everything_accounted_for() -> bool:
            drain(sqs, jobs_dlq, dead_jobs)
            drain(sqs, uploads_dlq, dead_uploads)
            handled = {r["body"] for r in recorded(out, "sqs")}
            keys = {r["Records"][0]["s3"]["object"]["key"] for r in recorded(out, "s3")}
            return (
                all(m in handled for m in MESSAGES if "poison" not in m)
                and all(k in keys for k in KEYS if "poison" not in k)
                and len(dead_jobs) >= 4
                and len(dead_uploads) >= 2
            )

        try:
            wait_until(everything_accounted_for, 90, "every message and event handled or dead")
        except AssertionError:
            handled = {r["body"] for r in recorded(out, "sqs")}
            keys = {r["Records"][0]["s3"]["object"]["key"] for r in recorded(out, "s3")}
            missing = [m for m in MESSAGES if m not in handled] + [k for k in KEYS if k not in keys]
            raise AssertionError(
                f"missing {missing}; dead {dead_jobs} {len(dead_uploads)}; "
                f"output {second.lines[-40:]}"
            ) from None
        assert sorted(dead_jobs) == [m for m in MESSAGES if "poison" in m]
        dead_keys = sorted(json.loads(b)["Records"][0]["s3"]["object"]["key"] for b in dead_uploads)
        assert dead_keys == ["poison-0.bin", "poison-1.bin"]
        jobs = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
        left = sqs.get_queue_attributes(
            QueueUrl=jobs,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert left == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }
    finally:
        second.close()
