"""SQS → Lambda through real environments: partial failures, retries, DLQ, no loss."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lambic.runtime.event_sources import Engines
from lambic.runtime.sqs_poller import BatchOutcome
from lambic.services.events import EventBus
from lambic.services.s3 import create_service as create_s3
from lambic.services.server import EdgeServer
from lambic.services.sqs import create_service as create_sqs
from tests.integration.runtime.conftest import RunSources

WaitFor = Callable[..., Awaitable[None]]
Recorded = Callable[[Path, str], list[dict[str, Any]]]
AppCopy = Callable[[Path], tuple[Path, Path]]
APP = Path(__file__).resolve().parents[2] / "apps" / "event_handlers"


def test_successes_are_deleted_and_failures_retried_then_dead_lettered(
    app_copy: AppCopy,
    start_edge: Callable[..., EdgeServer],
    make_client: Callable[..., Any],
    event_sources: RunSources,
    wait_for: WaitFor,
    recorded: Recorded,
) -> None:
    project_dir, out = app_copy(APP)
    sqs_service = create_sqs(None)
    edge = start_edge({"sqs": sqs_service})
    sqs = make_client("sqs", edge.url)
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="orders",
        Attributes={
            # Longer than a cold start on a loaded machine: a batch still being
            # handled when its messages reappear would run twice, as on AWS.
            "VisibilityTimeout": "6",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    outcomes: list[BatchOutcome] = []

    async def scenario() -> None:
        async with event_sources(
            project_dir,
            out,
            "eventhandlers",
            Engines(s3=create_s3(None).engine, sqs=sqs_service.engine, event_bus=EventBus()),
            batch_report=outcomes.append,
        ):
            bodies = [f"order-{i}" for i in range(8)] + ["poison-1", "poison-2"]
            await asyncio.to_thread(
                sqs.send_message_batch,
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)],
            )

            def dead_lettered() -> int:
                attrs = sqs_service.engine.get_queue_attributes("orders-dlq")
                return int(attrs["ApproximateNumberOfMessages"])

            await wait_for(lambda: dead_lettered() == 2)

    asyncio.run(scenario())
    seen = recorded(out, "orders")
    good = [r for r in seen if r["body"].startswith("order-")]
    poison = [r for r in seen if r["body"].startswith("poison")]
    # Every good order handled exactly once, then deleted.
    assert sorted(r["body"] for r in good) == [f"order-{i}" for i in range(8)]
    # Each poison message: received twice (maxReceiveCount 2), then moved to the DLQ.
    assert sorted((r["body"], r["count"]) for r in poison) == [
        ("poison-1", "1"),
        ("poison-1", "2"),
        ("poison-2", "1"),
        ("poison-2", "2"),
    ]
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in dead) == ["poison-1", "poison-2"]
    assert sum(o.deleted for o in outcomes) == 8
