"""SqsEngine semantics with an injected clock: nothing here waits on real time."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lambic.project.sqlite import open_database
from lambic.services.sqs.engine import SqsEngine
from lambic.services.sqs.errors import SqsError
from lambic.services.sqs.store import SqsStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(clock: Clock) -> SqsEngine:
    return SqsEngine(SqsStore(open_database(None)), clock=clock)


def test_messages_expire_after_the_retention_period(engine: SqsEngine, clock: Clock) -> None:
    engine.create_queue("q", {"MessageRetentionPeriod": "60"})
    engine.send_message("q", "old")
    clock.now += 61
    assert engine.receive_now("q") == []
    assert engine.get_queue_attributes("q")["ApproximateNumberOfMessages"] == "0"


def test_a_received_message_reappears_when_its_visibility_timeout_passes(
    engine: SqsEngine, clock: Clock
) -> None:
    engine.create_queue("q", {"VisibilityTimeout": "30"})
    engine.send_message("q", "x")
    first = engine.receive_now("q")
    clock.now += 29
    assert engine.receive_now("q") == []
    clock.now += 2
    again = engine.receive_now("q")
    assert [m.message_id for m in again] == [first[0].message_id]
    assert again[0].system_attributes["ApproximateReceiveCount"] == "2"
    assert (
        again[0].system_attributes["ApproximateFirstReceiveTimestamp"]
        == first[0].system_attributes["ApproximateFirstReceiveTimestamp"]
    )


def test_fifo_deduplication_window_is_five_minutes(engine: SqsEngine, clock: Clock) -> None:
    engine.create_queue("q.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    first = engine.send_message("q.fifo", "same", group_id="g")
    clock.now += 299
    assert engine.send_message("q.fifo", "same", group_id="g").message_id == first.message_id
    clock.now += 2
    assert engine.send_message("q.fifo", "same", group_id="g").message_id != first.message_id
    assert len(engine.receive_now("q.fifo", 10)) == 2


def test_redrive_moves_the_message_on_the_receive_that_would_exceed_the_limit(
    engine: SqsEngine,
) -> None:
    dlq = engine.create_queue("dlq")
    policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
    engine.create_queue("src", {"RedrivePolicy": policy})
    engine.send_message("src", "poison")
    engine.send_message("src", "fine")
    assert len(engine.receive_now("src", 10, visibility_timeout=0)) == 2
    assert engine.receive_now("src", 10) == []
    moved = engine.receive_now("dlq", 10)
    assert sorted(m.body for m in moved) == ["fine", "poison"]


def test_a_stale_receipt_handle_deletes_on_standard_but_not_on_fifo_queues(
    engine: SqsEngine,
) -> None:
    engine.create_queue("std")
    engine.send_message("std", "x")
    old = engine.receive_now("std", visibility_timeout=0)[0].receipt_handle
    engine.receive_now("std", visibility_timeout=0)
    engine.delete_message("std", old)
    assert engine.receive_now("std") == []

    engine.create_queue("f.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    engine.send_message("f.fifo", "x", group_id="g")
    old = engine.receive_now("f.fifo", visibility_timeout=0)[0].receipt_handle
    engine.receive_now("f.fifo", visibility_timeout=0)
    engine.delete_message("f.fifo", old)
    assert len(engine.receive_now("f.fifo")) == 1


def test_receipt_handles_are_bound_to_their_queue(engine: SqsEngine) -> None:
    engine.create_queue("a")
    engine.create_queue("b")
    engine.send_message("a", "x")
    handle = engine.receive_now("a")[0].receipt_handle
    with pytest.raises(SqsError) as caught:
        engine.delete_message("b", handle)
    assert caught.value.shape == "ReceiptHandleIsInvalid"


def test_long_poll_wakes_on_send_from_another_thread(engine: SqsEngine) -> None:
    engine.create_queue("q")

    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        waiting = asyncio.ensure_future(engine.receive_messages("q", wait_seconds=20))
        await asyncio.sleep(0.05)
        await loop.run_in_executor(None, lambda: engine.send_message("q", "hi"))
        messages = await asyncio.wait_for(waiting, 2)
        return [m.body for m in messages]

    assert asyncio.run(scenario()) == ["hi"]


def test_listeners_hear_about_committed_sends(engine: SqsEngine) -> None:
    heard: list[str] = []
    engine.create_queue("q")
    engine.add_listener(heard.append)
    engine.send_message("q", "x")
    with pytest.raises(SqsError):
        engine.send_message("q", "")
    assert heard == ["q"]


def test_queues_and_messages_are_reloaded_from_the_database(clock: Clock, tmp_path: Path) -> None:
    path = tmp_path / "sqs.sqlite3"
    first = SqsEngine(SqsStore(open_database(path)), clock=clock)
    first.create_queue("q", {"DelaySeconds": "5"})
    first.send_message("q", "persisted")
    first.close()
    second = SqsEngine(SqsStore(open_database(path)), clock=clock)
    assert second.get_queue("q").attributes["DelaySeconds"] == "5"
    clock.now += 6
    assert [m.body for m in second.receive_now("q")] == ["persisted"]
    second.close()


def test_deleting_a_fifo_message_wakes_a_long_poll_waiting_on_its_group(
    engine: SqsEngine,
) -> None:
    engine.create_queue("g.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    engine.send_message("g.fifo", "first", group_id="g")
    engine.send_message("g.fifo", "second", group_id="g")
    handle = engine.receive_now("g.fifo")[0].receipt_handle

    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        waiting = asyncio.ensure_future(engine.receive_messages("g.fifo", wait_seconds=20))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await loop.run_in_executor(None, lambda: engine.delete_message("g.fifo", handle))
        return [m.body for m in await asyncio.wait_for(waiting, 2)]

    assert asyncio.run(scenario()) == ["second"]


def test_dead_letter_retention_counts_from_the_original_send(
    engine: SqsEngine, clock: Clock
) -> None:
    dlq = engine.create_queue("dlq", {"MessageRetentionPeriod": "120"})
    policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
    engine.create_queue("src", {"RedrivePolicy": policy})
    engine.send_message("src", "old")
    clock.now += 100
    engine.receive_now("src", visibility_timeout=0)
    assert engine.receive_now("src") == []  # moved to the DLQ
    clock.now += 21  # 121 s after the send: past the DLQ's 120 s retention
    assert engine.receive_now("dlq") == []


def test_deduplication_scope_message_group_deduplicates_per_group(engine: SqsEngine) -> None:
    engine.create_queue(
        "ht.fifo",
        {
            "FifoQueue": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    )
    a = engine.send_message("ht.fifo", "x", group_id="a", deduplication_id="same")
    b = engine.send_message("ht.fifo", "x", group_id="b", deduplication_id="same")
    again = engine.send_message("ht.fifo", "x", group_id="a", deduplication_id="same")
    assert a.message_id != b.message_id
    assert again.message_id == a.message_id


def test_fifo_throughput_attributes_take_only_aws_values(engine: SqsEngine) -> None:
    with pytest.raises(SqsError) as caught:
        engine.create_queue("x.fifo", {"FifoQueue": "true", "DeduplicationScope": "group"})
    assert caught.value.shape == "InvalidAttributeValue"


def test_queue_policy_must_be_json(engine: SqsEngine) -> None:
    engine.create_queue("q")
    with pytest.raises(SqsError) as caught:
        engine.set_queue_attributes("q", {"Policy": "{nope"})
    assert caught.value.shape == "InvalidAttributeValue"


def test_a_cancelled_long_poll_leaves_no_waiter_behind(engine: SqsEngine) -> None:
    engine.create_queue("q")

    async def scenario() -> None:
        waiting = asyncio.ensure_future(engine.receive_messages("q", wait_seconds=20))
        await asyncio.sleep(0.05)
        assert engine.waiting_receives("q") == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(scenario())
    # A client that hangs up mid-poll must not leave its event registered.
    engine.send_message("q", "x")
    assert [m.body for m in engine.receive_now("q")] == ["x"]
    assert engine.waiting_receives("q") == 0


def test_shortening_retention_expires_messages_already_queued(
    engine: SqsEngine, clock: Clock
) -> None:
    # AWS: reducing MessageRetentionPeriod below a message's age deletes the message.
    engine.create_queue("q", {"MessageRetentionPeriod": "3600"})
    engine.send_message("q", "x")
    clock.now += 120
    engine.set_queue_attributes("q", {"MessageRetentionPeriod": "60"})
    assert engine.get_queue_attributes("q")["ApproximateNumberOfMessages"] == "0"
    assert engine.receive_now("q") == []


def test_total_visibility_is_capped_at_twelve_hours_from_the_receive(
    engine: SqsEngine, clock: Clock
) -> None:
    engine.create_queue("q")
    engine.send_message("q", "x")
    handle = engine.receive_now("q", visibility_timeout=43200)[0].receipt_handle
    clock.now += 3600
    engine.change_message_visibility("q", handle, 39600)  # exactly 12 h after the receive
    with pytest.raises(SqsError) as caught:
        engine.change_message_visibility("q", handle, 39601)
    assert caught.value.shape == "InvalidParameterValue"
    assert "43200 seconds" in caught.value.message


def test_redrive_allow_policy_decides_who_may_use_a_dead_letter_queue(engine: SqsEngine) -> None:
    allowed = engine.queue_arn("allowed")
    engine.create_queue(
        "dlq",
        {
            "RedriveAllowPolicy": json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [allowed]}
            )
        },
    )
    policy = json.dumps({"deadLetterTargetArn": engine.queue_arn("dlq"), "maxReceiveCount": 3})
    engine.create_queue("allowed", {"RedrivePolicy": policy})
    with pytest.raises(SqsError) as caught:
        engine.create_queue("other", {"RedrivePolicy": policy})
    assert caught.value.shape == "InvalidParameterValue"
    with pytest.raises(SqsError):
        engine.set_queue_attributes(
            "dlq", {"RedriveAllowPolicy": json.dumps({"redrivePermission": "sometimes"})}
        )


def test_fifo_receive_attempt_id_returns_the_same_messages_on_retry(engine: SqsEngine) -> None:
    engine.create_queue("r.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    engine.send_message("r.fifo", "a", group_id="g1")
    engine.send_message("r.fifo", "b", group_id="g2")

    async def receive(attempt: str) -> list[str]:
        got = await engine.receive_messages("r.fifo", max_messages=1, attempt_id=attempt)
        return [m.receipt_handle for m in got]

    first = asyncio.run(receive("try-1"))
    assert asyncio.run(receive("try-1")) == first  # a retry sees the same receipt handle
    other = asyncio.run(receive("try-2"))
    assert other and other != first
    engine.delete_message("r.fifo", first[0])
    assert asyncio.run(receive("try-1")) != first  # deleted: the attempt is spent


def test_a_failing_listener_does_not_fail_the_send(engine: SqsEngine) -> None:
    def broken(name: str) -> None:
        raise RuntimeError("listener bug")

    engine.create_queue("q")
    engine.add_listener(broken)
    engine.send_message("q", "still sent")
    assert [m.body for m in engine.receive_now("q")] == ["still sent"]


def test_create_queue_is_idempotent_with_json_attributes_spelled_differently(
    engine: SqsEngine,
) -> None:
    dlq = engine.create_queue("dlq")
    policy = {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "3"}
    first = engine.create_queue("src", {"RedrivePolicy": json.dumps(policy)})
    again = engine.create_queue("src", {"RedrivePolicy": json.dumps(policy, indent=2)})
    assert again is first
    with pytest.raises(SqsError) as caught:
        engine.create_queue("src", {"RedrivePolicy": json.dumps({**policy, "maxReceiveCount": 4})})
    assert caught.value.shape == "QueueNameExists"
