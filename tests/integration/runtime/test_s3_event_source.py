"""S3 → Lambda: boto3 uploads through the edge port reach the handler as AWS's record."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from lambic.project.manifest import FunctionEntry
from lambic.runtime.async_queue import AsyncEventQueue
from lambic.runtime.event_sources import (
    Account,
    Engines,
    EventSources,
    S3Notifications,
    UnsupportedEventSourceError,
)
from lambic.services.events import EventBus
from lambic.services.s3 import S3Engine
from lambic.services.s3 import create_service as create_s3
from lambic.services.server import EdgeServer
from lambic.services.sqs import create_service as create_sqs
from tests.integration.runtime.conftest import RunSources

WaitFor = Callable[..., Awaitable[None]]


def s3_only(
    functions: list[FunctionEntry], queue: AsyncEventQueue, engine: S3Engine
) -> EventSources:
    return EventSources(
        functions, queue, [S3Notifications(functions, engine, queue, Account("x", "dev"))]
    )


Recorded = Callable[[Path, str], list[dict[str, Any]]]
AppCopy = Callable[[Path], tuple[Path, Path]]
APP = Path(__file__).resolve().parents[2] / "apps" / "event_handlers"


def test_uploads_and_deletes_invoke_matching_handlers_with_aws_records(
    app_copy: AppCopy,
    start_edge: Callable[..., EdgeServer],
    make_client: Callable[..., Any],
    event_sources: RunSources,
    wait_for: WaitFor,
    recorded: Recorded,
) -> None:
    project_dir, out = app_copy(APP)
    s3_service = create_s3(None)
    edge = start_edge({"s3": s3_service})
    s3 = make_client("s3", edge.url)

    async def scenario() -> None:
        async with event_sources(
            project_dir,
            out,
            "eventhandlers",
            Engines(s3=s3_service.engine, sqs=create_sqs(None).engine, event_bus=EventBus()),
        ) as (_, queue):
            body = b"not really a jpeg"
            await asyncio.to_thread(
                s3.put_object, Bucket="photos", Key="holiday pics/beach day.jpg", Body=body
            )
            await asyncio.to_thread(s3.put_object, Bucket="photos", Key="notes.txt", Body=b"x")
            await wait_for(lambda: len(recorded(out, "photo_uploaded")) == 1)
            await asyncio.to_thread(
                s3.delete_object, Bucket="photos", Key="holiday pics/beach day.jpg"
            )
            await wait_for(lambda: len(recorded(out, "photo_removed")) == 1)
            await wait_for(lambda: queue.pending() == 0)

    asyncio.run(scenario())
    [created] = recorded(out, "photo_uploaded")
    [record] = created["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == "photos"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::photos"
    assert record["s3"]["object"]["key"] == "holiday+pics/beach+day.jpg"
    assert record["s3"]["object"]["size"] == len(b"not really a jpeg")
    assert record["s3"]["object"]["eTag"] == hashlib.md5(b"not really a jpeg").hexdigest()
    assert record["s3"]["configurationId"] == "lambic-photo_uploaded"
    [removed] = recorded(out, "photo_removed")
    assert removed["Records"][0]["eventName"] == "ObjectRemoved:Delete"
    assert "size" not in removed["Records"][0]["s3"]["object"]
    # The sequencer orders events for one key: the delete's is greater.
    assert int(removed["Records"][0]["s3"]["object"]["sequencer"], 16) > int(
        record["s3"]["object"]["sequencer"], 16
    )
    # The rules are real bucket notifications, visible to boto3 as AWS shows them.
    config = s3.get_bucket_notification_configuration(Bucket="photos")
    ids = sorted(c["Id"] for c in config["LambdaFunctionConfigurations"])
    assert ids == ["lambic-photo_removed", "lambic-photo_uploaded"]


def test_overlapping_s3_rules_are_rejected_at_startup_as_aws_rejects_them() -> None:
    service = create_s3(None)
    functions = [
        FunctionEntry(
            "a",
            "app.a",
            "s3",
            {
                "bucket": "bucket-one",
                "events": ["s3:ObjectCreated:*"],
                "prefix": "img/",
                "suffix": None,
            },
        ),
        FunctionEntry(
            "b",
            "app.b",
            "s3",
            {
                "bucket": "bucket-one",
                "events": ["s3:ObjectCreated:Put"],
                "prefix": "img/thumbs/",
                "suffix": None,
            },
        ),
    ]

    async def scenario() -> None:
        queue = AsyncEventQueue(lambda fn, p, rid: asyncio.sleep(0), path=None)  # type: ignore[arg-type]
        sources = s3_only(functions, queue, service.engine)
        with pytest.raises(UnsupportedEventSourceError, match="ambiguously defined"):
            await sources.start()
        await sources.stop()
        await queue.aclose()

    asyncio.run(scenario())


def test_an_invalid_bucket_name_in_a_handler_is_a_startup_error() -> None:
    service = create_s3(None)
    functions = [FunctionEntry("a", "app.a", "s3", {"bucket": "No_Such", "events": None})]

    async def scenario() -> None:
        queue = AsyncEventQueue(lambda fn, p, rid: asyncio.sleep(0), path=None)  # type: ignore[arg-type]
        sources = s3_only(functions, queue, service.engine)
        with pytest.raises(UnsupportedEventSourceError, match="InvalidBucketName"):
            await sources.start()
        await sources.stop()
        await queue.aclose()

    asyncio.run(scenario())


def test_a_handler_moved_to_another_bucket_leaves_no_rule_behind() -> None:
    from lambic.services.s3 import NotificationConfiguration, NotificationRule

    engine = create_s3(None).engine
    engine.create_bucket("old-bucket")
    user_rule = NotificationRule(
        kind="QueueConfiguration",
        id="users-own-rule",
        target_arn="arn:aws:sqs:us-east-1:000000000000:audit",
        events=("s3:ObjectRemoved:*",),
    )
    engine.replace_notification("old-bucket", NotificationConfiguration((user_rule,), False))

    async def never_invoked(function: str, payload: bytes, request_id: str) -> Any:
        raise AssertionError(f"{function} was invoked")

    async def wire(bucket: str) -> None:
        entry = FunctionEntry("a", "app.a", "s3", {"bucket": bucket, "events": None})
        queue = AsyncEventQueue(never_invoked, path=None)
        sources = s3_only([entry], queue, engine)
        await sources.start()
        await sources.stop()
        await queue.aclose()

    asyncio.run(wire("old-bucket"))
    assert [r.id for r in engine.notification_configuration("old-bucket").rules] == [
        "users-own-rule",
        "lambic-a",
    ]

    asyncio.run(wire("new-bucket"))

    assert [r.id for r in engine.notification_configuration("old-bucket").rules] == [
        "users-own-rule"
    ]
    assert [r.id for r in engine.notification_configuration("new-bucket").rules] == ["lambic-a"]
