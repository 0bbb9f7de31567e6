"""SnsEngine semantics in process: persistence, retries, delivery to the SQS engine."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from lambic.project.sqlite import open_database
from lambic.services.sns._delivery import HttpSender
from lambic.services.sns.engine import SnsEngine
from lambic.services.sns.errors import SnsError
from lambic.services.sns.store import SnsStore
from lambic.services.sqs import SqsEngine, SqsStore


class FakePoster:
    """Answers with scripted statuses and records what was posted."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.done = threading.Event()

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.calls.append((url, headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        if not self.statuses:
            self.done.set()
        return status


def _engine(path: Path | None = None, poster: FakePoster | None = None) -> SnsEngine:
    sqs = SqsEngine(SqsStore(open_database(None)))
    http = HttpSender(poster or FakePoster([]), retry_delay=0)
    return SnsEngine(SnsStore(open_database(path)), sqs=sqs, http=http)


def test_topics_and_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sns.sqlite3"
    first = _engine(path)
    topic = first.create_topic("alerts", {"DisplayName": "A"}, {"team": "x"})
    sub = first.subscribe(topic.arn, "sqs", "arn:aws:sqs:us-east-1:000000000000:q")
    first.set_subscription_attribute(sub.arn, "RawMessageDelivery", "true")
    first.close()
    second = _engine(path)
    assert second.get_topic_attributes(topic.arn)["DisplayName"] == "A"
    assert second.list_tags(topic.arn) == {"team": "x"}
    restored = second.get_subscription(sub.arn)
    assert restored.raw
    second.close()


def test_http_delivery_retries_server_errors_then_stops_on_success() -> None:
    poster = FakePoster([500, 503, 200])
    engine = _engine(poster=poster)
    topic = engine.create_topic("hooks")
    engine.subscribe(topic.arn, "http", "http://127.0.0.1:9/hook")
    assert poster.done.wait(5)
    assert len(poster.calls) == 3
    assert poster.calls[0][1]["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    engine.close()


def test_publish_to_fifo_topic_needs_group_and_dedup_source() -> None:
    engine = _engine()
    topic = engine.create_topic("t.fifo", {"FifoTopic": "true"})
    with pytest.raises(SnsError, match="MessageGroupId"):
        engine.publish(topic.arn, "x")
    with pytest.raises(SnsError, match="ContentBasedDeduplication"):
        engine.publish(topic.arn, "x", group_id="g")
    message_id, sequence = engine.publish(topic.arn, "x", group_id="g", deduplication_id="d")
    assert sequence is not None
    assert engine.publish(topic.arn, "y", group_id="g", deduplication_id="d")[0] == message_id
    engine.close()


def test_deliveries_to_a_deleted_queue_are_dropped_quietly() -> None:
    engine = _engine()
    topic = engine.create_topic("t")
    engine.subscribe(topic.arn, "sqs", "arn:aws:sqs:us-east-1:000000000000:gone")
    message_id, _ = engine.publish(topic.arn, json.dumps({"a": 1}))
    assert message_id
    engine.close()


def _with_dlq(poster: FakePoster | None = None) -> tuple[SnsEngine, SqsEngine]:
    sqs = SqsEngine(SqsStore(open_database(None)))
    http = HttpSender(poster or FakePoster([]), retry_delay=0)
    engine = SnsEngine(SnsStore(open_database(None)), sqs=sqs, http=http)
    sqs.create_queue("dlq")
    return engine, sqs


def test_undeliverable_sqs_messages_go_to_the_subscription_dead_letter_queue() -> None:
    engine, sqs = _with_dlq()
    topic = engine.create_topic("t")
    policy = json.dumps({"deadLetterTargetArn": sqs.queue_arn("dlq")})
    engine.subscribe(topic.arn, "sqs", sqs.queue_arn("deleted"), {"RedrivePolicy": policy})
    message_id, _ = engine.publish(topic.arn, "lost")
    [dead] = sqs.receive_now("dlq")
    assert json.loads(dead.body)["MessageId"] == message_id
    assert dead.message_attributes["ErrorCode"].string_value == "404"
    assert set(dead.message_attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
    engine.close()


def test_http_messages_that_exhaust_their_retries_are_dead_lettered() -> None:
    poster = FakePoster([200, 500, 500, 500, 500])
    engine, sqs = _with_dlq(poster)
    topic = engine.create_topic("t")
    policy = json.dumps({"deadLetterTargetArn": sqs.queue_arn("dlq")})
    sub = engine.subscribe(topic.arn, "http", "http://127.0.0.1:9/x", {"RedrivePolicy": policy})
    engine.confirm_subscription(topic.arn, sub.token)
    engine.publish(topic.arn, "unreachable")
    assert poster.done.wait(5)
    deadline = time.monotonic() + 5
    while not (dead := sqs.receive_now("dlq")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert json.loads(dead[0].body)["Message"] == "unreachable"
    assert dead[0].message_attributes["ErrorCode"].string_value == "500"
    engine.close()


def test_redrive_policy_must_name_an_sqs_queue() -> None:
    engine, _ = _with_dlq()
    topic = engine.create_topic("t")
    with pytest.raises(SnsError, match="RedrivePolicy"):
        engine.subscribe(
            topic.arn,
            "sqs",
            "arn:aws:sqs:us-east-1:000000000000:q",
            {"RedrivePolicy": json.dumps({"deadLetterTargetArn": "arn:aws:sns:x"})},
        )
    engine.close()


def test_topic_policy_must_be_json() -> None:
    engine = _engine()
    topic = engine.create_topic("t")
    with pytest.raises(SnsError, match="Policy"):
        engine.set_topic_attribute(topic.arn, "Policy", "{nope")
    engine.close()


def test_delivery_policy_sets_the_http_content_type() -> None:
    poster = FakePoster([200, 200])
    engine = _engine(poster=poster)
    topic = engine.create_topic("hooks")
    policy = json.dumps({"requestPolicy": {"headerContentType": "application/json"}})
    sub = engine.subscribe(topic.arn, "http", "http://127.0.0.1:9/x", {"DeliveryPolicy": policy})
    engine.confirm_subscription(topic.arn, sub.token)
    engine.publish(topic.arn, "x")
    assert poster.done.wait(5)
    assert poster.calls[1][1]["Content-Type"] == "application/json"
    engine.close()


def test_a_failing_lambda_listener_does_not_fail_the_publish() -> None:
    engine = _engine()

    def broken(delivery: object) -> None:
        raise RuntimeError("listener bug")

    engine.add_lambda_listener(broken)
    topic = engine.create_topic("t")
    engine.subscribe(topic.arn, "lambda", "arn:aws:lambda:us-east-1:000000000000:function:f")
    assert engine.publish(topic.arn, "x")[0]
    engine.close()


def test_subscribe_is_idempotent_with_a_filter_policy_spelled_differently() -> None:
    engine = _engine()
    topic = engine.create_topic("t")
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    first = engine.subscribe(topic.arn, "sqs", queue, {"FilterPolicy": '{"a": ["x"]}'})
    again = engine.subscribe(topic.arn, "sqs", queue, {"FilterPolicy": '{"a":["x"]}'})
    assert again.arn == first.arn
    with pytest.raises(SnsError):
        engine.subscribe(topic.arn, "sqs", queue, {"FilterPolicy": '{"a": ["y"]}'})
    engine.close()
