"""SNS -> Lambda in process: the subscription `@app.on_sns_message` makes, and its upkeep."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from lambic.project.manifest import FunctionEntry
from lambic.project.project import load_project
from lambic.runtime.async_queue import AsyncEventQueue, Delivery
from lambic.runtime.event_sources import (
    Account,
    Engines,
    EventSources,
    SnsSubscriptions,
    UnsupportedEventSourceError,
    create_event_sources,
)
from lambic.runtime.invoker import create_invoker
from lambic.services.sns import MessageAttribute
from lambic.services.sns import create_service as create_sns
from lambic.services.sqs import create_service as create_sqs

WaitFor = Callable[..., Awaitable[None]]
Recorded = Callable[[Path, str], list[dict[str, Any]]]
AppCopy = Callable[[Path], tuple[Path, Path]]
APP = Path(__file__).resolve().parents[2] / "apps" / "event_cloud"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:eventcloud-dev-{}"


async def never_invoked(function: str, payload: bytes, request_id: str) -> Any:
    raise AssertionError(f"{function} was invoked")


def sns_only(functions: Iterable[FunctionEntry]) -> list[FunctionEntry]:
    return [f for f in functions if f.kind == "sns"]


def test_publish_reaches_the_handler_through_the_durable_queue_and_filters_apply(
    app_copy: AppCopy,
    wait_for: WaitFor,
    recorded: Recorded,
) -> None:
    project_dir, out = app_copy(APP)
    config_path = project_dir / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"]["OUT_DIR"] = str(out)
    config_path.write_text(json.dumps(config))
    sns = create_sns(None, sqs=create_sqs(None)).engine
    # A stale subscription of this app (a handler since removed) and another app's one.
    stale_topic = sns.create_topic("old-alerts").arn
    stale = sns.subscribe(stale_topic, "lambda", ARN.format("removed"))
    other = sns.subscribe(
        stale_topic, "lambda", "arn:aws:lambda:us-east-1:000000000000:function:other-dev-x"
    )
    deliveries: list[Delivery] = []

    async def scenario() -> None:
        project = load_project(project_dir)
        invoker = create_invoker(project, "dev")
        queue = AsyncEventQueue(
            lambda fn, p, rid: invoker.invoke(fn, p, request_id=rid),
            path=None,
            report=deliveries.append,
        )
        functions = sns_only(project.manifest.functions)
        sources = EventSources(
            functions,
            queue,
            [SnsSubscriptions(functions, sns, queue, Account("eventcloud", "dev"))],
        )
        await sources.start()
        try:
            topic = sns.topic_arn("alerts")
            [subscription] = sns.list_subscriptions(topic)
            assert (subscription.protocol, subscription.endpoint) == (
                "lambda",
                ARN.format("alerted"),
            )
            remaining = {s.arn for s in sns.list_subscriptions(stale_topic)}
            assert remaining == {other.arn}
            assert stale.arn not in remaining

            sns.set_subscription_attribute(
                subscription.arn, "FilterPolicy", json.dumps({"tier": ["gold"]})
            )
            for tier in ("silver", "gold"):
                sns.publish(
                    topic,
                    f"{tier} customer",
                    attributes={"tier": MessageAttribute("String", tier, None)},
                )
            await wait_for(lambda: len(recorded(out, "sns")) == 1)
            await wait_for(lambda: queue.pending() == 0)
        finally:
            await sources.stop()
            await queue.aclose()
            await invoker.aclose()

    asyncio.run(scenario())

    [event] = recorded(out, "sns")
    assert event["Records"][0]["Sns"]["Message"] == "gold customer"
    assert event["Records"][0]["Sns"]["MessageAttributes"] == {
        "tier": {"Type": "String", "Value": "gold"}
    }
    assert [(d.source, d.function, d.outcome) for d in deliveries] == [("sns", "alerted", "ok")]


def test_a_topic_given_by_arn_is_created_by_its_name() -> None:
    sns = create_sns(None, sqs=create_sqs(None)).engine
    entry = FunctionEntry(
        name="alerted",
        handler="app.alerted",
        kind="sns",
        event_source={"topic": "arn:aws:sns:us-east-1:123456789012:billing"},
    )

    async def scenario() -> None:
        queue = AsyncEventQueue(never_invoked, path=None)
        sources = EventSources(
            [entry], queue, [SnsSubscriptions([entry], sns, queue, Account("eventcloud", "dev"))]
        )
        await sources.start()
        try:
            [subscription] = sns.list_subscriptions(sns.topic_arn("billing"))
            assert subscription.endpoint == ARN.format("alerted")
        finally:
            await sources.stop()
            await queue.aclose()

    asyncio.run(scenario())


def test_sns_handlers_without_the_local_services_are_a_startup_error() -> None:
    entry = FunctionEntry(name="alerted", handler="app.alerted", kind="sns", event_source={})
    queue = AsyncEventQueue(never_invoked, path=None)
    try:
        with pytest.raises(UnsupportedEventSourceError, match="on_sns_message"):
            create_event_sources([entry], queue, Account("eventcloud", "dev"), Engines())
    finally:
        asyncio.run(queue.aclose())
