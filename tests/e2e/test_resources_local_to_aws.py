"""Issue 17's done-means: one app, every declared resource, from `lambic local` to AWS and back.

tests/deploy_apps/resources declares a table with a stream, a public website bucket
and a private one, a queue with a dead-letter queue, a topic with an SQS subscription,
an event bus and a two-shard Kinesis stream; its handlers (a route, SQS, SNS, an
EventBridge rule, a stream handler on the table and a Kinesis handler, each resource
named by its name) record what they see in the private bucket. Under a real `lambic
local` every event is delivered; then `lambic deploy` against a moto server creates every
resource and wiring (checked through boto3), `lambic delete` keeps the data, and
`lambic delete --include-data --yes` leaves nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambic._cloud_process import free_port

from .conftest import LAMBIC, LocalCloudProcess, subprocess_environment, wait_until

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "deploy_apps" / "resources"
ACCOUNT = "000000000000"  # the local cloud's
MOTO_ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(APP, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def moto() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto's state is per process: start from an empty account whatever ran before.
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10):
        pass
    try:
        yield endpoint
    finally:
        server.stop()


def _audit(s3: Any, kind: str) -> list[Any]:
    listed = s3.list_objects_v2(Bucket="shop-audit", Prefix=f"{kind}/").get("Contents", [])
    return [
        json.loads(s3.get_object(Bucket="shop-audit", Key=o["Key"])["Body"].read()) for o in listed
    ]


def test_local_delivers_every_event(project: Path) -> None:
    local = LocalCloudProcess(project)
    try:
        local.wait_for("Serving shop")
        # Every resource the handlers name is declared: no warning to act on.
        assert "Warning" not in local.output(), local.output()
        assert "Created table shop-orders, bucket shop-site, bucket shop-audit" in local.output()
        s3, sqs = local.client("s3"), local.client("sqs")

        status, body = local.request("POST", "/orders", {"id": "o-1"})
        assert (status, body) == (200, {"id": "o-1"})
        # The stream handler, named by the table's name, sees the new order's keys.
        changes = wait_until(lambda: _audit(s3, "dynamodb"), what="the stream handler")
        assert changes == [{"id": {"S": "o-1"}}]

        jobs = sqs.get_queue_url(QueueName="shop-jobs")["QueueUrl"]
        sqs.send_message(QueueUrl=jobs, MessageBody="job-1")
        sqs.send_message(QueueUrl=jobs, MessageBody="poison")
        assert wait_until(lambda: _audit(s3, "sqs"), what="the SQS handler") == ["job-1"]
        # maxReceiveCount 1: the failed message moves to the declared dead-letter queue.
        dlq = sqs.get_queue_url(QueueName="shop-jobs-dlq")["QueueUrl"]
        moved = wait_until(
            lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages"),
            timeout=30,
            what="the poison message in the dead-letter queue",
        )
        assert [m["Body"] for m in moved] == ["poison"]

        topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:shop-alerts"
        local.client("sns").publish(TopicArn=topic, Message="low stock")
        assert wait_until(lambda: _audit(s3, "sns"), what="the SNS handler") == ["low stock"]
        copy = sqs.get_queue_url(QueueName="shop-alerts-copy")["QueueUrl"]
        [raw] = sqs.receive_message(QueueUrl=copy, WaitTimeSeconds=5)["Messages"]
        assert raw["Body"] == "low stock"  # RawMessageDelivery, as declared

        events = local.client("events")
        events.put_events(
            Entries=[{"Source": "shop.orders", "DetailType": "Order", "Detail": '{"id": "o-1"}'}]
        )
        assert wait_until(lambda: _audit(s3, "events"), what="the rule") == [{"id": "o-1"}]
        assert "shop-bus" in [b["Name"] for b in events.list_event_buses()["EventBuses"]]

        # The declared stream has its two shards (an undeclared one would get one).
        kinesis = local.client("kinesis")
        clicks = kinesis.describe_stream_summary(StreamName="shop-clicks")
        assert clicks["StreamDescriptionSummary"]["OpenShardCount"] == 2
        kinesis.put_record(StreamName="shop-clicks", Data=b"click-1", PartitionKey="u1")
        assert wait_until(lambda: _audit(s3, "kinesis"), what="the Kinesis handler") == ["click-1"]

        # PublicRead: the site is readable by anyone, the audit bucket by nobody unsigned.
        s3.put_object(Bucket="shop-site", Key="index.html", Body=b"<h1>shop</h1>")
        status, _, page = local.get("/shop-site/", port=local.services_port)
        assert (status, page) == (200, b"<h1>shop</h1>")
        status, _, denied = local.get("/shop-audit/sqs/", port=local.services_port)
        assert status == 403 and b"<Code>AccessDenied</Code>" in denied
    finally:
        local.close()


def _lambic(project: Path, endpoint: str, *args: str) -> str:
    env = subprocess_environment()
    env["AWS_ENDPOINT_URL"] = endpoint
    done = subprocess.run(
        [str(LAMBIC), *args, "--project-dir", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _aws(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",
    )


def _left(endpoint: str) -> dict[str, list[str]]:
    def aws(service: str) -> Any:
        return _aws(endpoint, service)

    return {
        "functions": [f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]],
        "tables": aws("dynamodb").list_tables()["TableNames"],
        "buckets": sorted(b["Name"] for b in aws("s3").list_buckets()["Buckets"]),
        "queues": sorted(
            u.rsplit("/", 1)[-1] for u in aws("sqs").list_queues().get("QueueUrls", [])
        ),
        "topics": [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]],
        "buses": [b["Name"] for b in aws("events").list_event_buses()["EventBuses"]],
        "rules": [r["Name"] for r in aws("events").list_rules()["Rules"]],
        "apis": [a["name"] for a in aws("apigateway").get_rest_apis()["items"]],
        "mappings": [
            m["UUID"] for m in aws("lambda").list_event_source_mappings()["EventSourceMappings"]
        ],
        "streams": aws("kinesis").list_streams()["StreamNames"],
    }


def test_deploy_creates_every_resource_and_wiring_then_delete_keeps_data_until_asked(
    project: Path, moto: str
) -> None:
    out = _lambic(project, moto, "deploy")
    assert "Deployed shop (dev): 22 created" in out
    website = _lambic(project, moto, "url", "--website").strip()
    assert website == "http://shop-site.s3-website-us-east-1.amazonaws.com"

    lam, sqs, sns, s3 = (_aws(moto, s) for s in ("lambda", "sqs", "sns", "s3"))
    table = _aws(moto, "dynamodb").describe_table(TableName="shop-orders")["Table"]
    mappings = {
        m["FunctionArn"].rsplit(":", 1)[-1]: m["EventSourceArn"]
        for m in lam.list_event_source_mappings()["EventSourceMappings"]
    }
    # The stream handler named the table; the deployer wired the table's real stream.
    assert mappings["shop-dev-on_order_change"] == table["LatestStreamArn"]
    assert mappings["shop-dev-on_job"] == f"arn:aws:sqs:us-east-1:{MOTO_ACCOUNT}:shop-jobs"
    jobs = sqs.get_queue_url(QueueName="shop-jobs")["QueueUrl"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["deadLetterTargetArn"] == f"arn:aws:sqs:us-east-1:{MOTO_ACCOUNT}:shop-jobs-dlq"
    subscriptions = {
        (s["Protocol"], s["Endpoint"].rsplit(":", 1)[-1])
        for s in sns.list_subscriptions()["Subscriptions"]
    }
    assert subscriptions == {("lambda", "shop-dev-on_alert"), ("sqs", "shop-alerts-copy")}
    copy = sqs.get_queue_url(QueueName="shop-alerts-copy")["QueueUrl"]
    queue_policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=copy, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert queue_policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        f"arn:aws:sns:us-east-1:{MOTO_ACCOUNT}:shop-alerts"
    ]
    rule = _aws(moto, "events").list_rules()["Rules"][0]
    assert json.loads(rule["EventPattern"]) == {"source": ["shop.orders"]}
    assert "shop-bus" in _left(moto)["buses"]
    clicks = _aws(moto, "kinesis").describe_stream_summary(StreamName="shop-clicks")
    assert clicks["StreamDescriptionSummary"]["OpenShardCount"] == 2
    assert clicks["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
    assert (
        mappings["shop-dev-on_click"]
        == f"arn:aws:kinesis:us-east-1:{MOTO_ACCOUNT}:stream/shop-clicks"
    )
    site_policy = json.loads(s3.get_bucket_policy(Bucket="shop-site")["Policy"])
    assert site_policy["Statement"][0]["Action"] == "s3:GetObject"
    assert (
        s3.get_public_access_block(Bucket="shop-site")["PublicAccessBlockConfiguration"][
            "BlockPublicPolicy"
        ]
        is False
    )
    with pytest.raises(Exception, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="shop-audit")

    # Data the app stores survives a plain delete. (Not an item: moto would run the
    # stream handler for it, which needs docker.)
    s3.put_object(Bucket="shop-site", Key="index.html", Body=b"<h1>shop</h1>")
    dlq = sqs.get_queue_url(QueueName="shop-jobs-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody="poison")
    _lambic(project, moto, "delete")
    assert _left(moto) == {
        "functions": [],
        "tables": ["shop-orders"],
        "buckets": ["shop-audit", "shop-site"],
        "queues": ["shop-alerts-copy", "shop-jobs", "shop-jobs-dlq"],
        "topics": [],
        "buses": ["default"],
        "rules": [],
        "apis": [],
        "mappings": [],
        "streams": ["shop-clicks"],
    }
    assert s3.get_object(Bucket="shop-site", Key="index.html")["Body"].read() == b"<h1>shop</h1>"
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=dlq)["Messages"]] == ["poison"]

    _lambic(project, moto, "delete", "--include-data", "--yes")
    assert _left(moto) == {
        "functions": [],
        "tables": [],
        "buckets": [],
        "queues": [],
        "topics": [],
        "buses": ["default"],
        "rules": [],
        "apis": [],
        "mappings": [],
        "streams": [],
    }
