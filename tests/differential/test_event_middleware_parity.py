"""Event-handler middleware behaves as in Chalice, for every event type.

`tests/apps/event_middleware/app.py` registers middleware per event type ("all",
"sqs", "s3", "scheduled", "sns", "pure_lambda") and a ConvertToMiddleware; the same
AWS-shaped events go to the Chalice and the Lambic build of the app, and every
handler's result must be identical.
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lambic.app.event_payloads import (
    create_s3_event,
    create_s3_record,
    create_scheduled_event,
    create_sns_event,
    create_sns_record,
    create_sqs_event,
    create_sqs_record,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "event_middleware" / "app.py"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"


def _load(framework: str) -> Any:
    source = APP.read_text(encoding="utf-8")
    if framework == "chalice":
        source = source.replace("from lambic import", "from chalice.app import").replace(
            "Lambic", "Chalice"
        )
    module = ModuleType(f"_event_middleware_{framework}")
    exec(compile(source, str(APP), "exec"), module.__dict__)
    return module


@pytest.fixture(autouse=True)
def _drop_log_handlers() -> Iterator[None]:
    yield
    logger = logging.getLogger("event-middleware")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


EVENTS: dict[str, dict[str, Any]] = {
    "jobs": create_sqs_event(
        [
            create_sqs_record(body="one", queue_arn=QUEUE_ARN, message_id="m1"),
            create_sqs_record(body="two", queue_arn=QUEUE_ARN, message_id="m2"),
        ]
    ),
    "photos": create_s3_event([create_s3_record(bucket="photos", key="my cat.jpg", size=3)]),
    "every_five": create_scheduled_event(
        rule_arn="arn:aws:events:us-east-1:123456789012:rule/every-five"
    ),
    "alerts": create_sns_event(
        create_sns_record(topic_arn=TOPIC_ARN, message="disk full", subject="ops")
    ),
    "raw": {"anything": [1, 2, 3]},
}


@pytest.mark.parametrize("handler", sorted(EVENTS))
def test_event_handler_with_middleware_returns_what_chalice_returns(handler: str) -> None:
    chalice_module = _load("chalice")
    lambic_module = _load("lambic")
    assert type(chalice_module.app).__module__ == "chalice.app"
    event = EVENTS[handler]
    expected = getattr(chalice_module, handler)(copy.deepcopy(event), None)
    actual = getattr(lambic_module, handler)(copy.deepcopy(event), None)
    assert actual == expected
    assert "all" in actual
    assert lambic_module.app.handler_map[handler] is getattr(lambic_module, handler)


def test_sqs_handler_sees_both_sqs_middleware_and_converted_wrapper() -> None:
    module = _load("lambic")
    result = module.jobs(copy.deepcopy(EVENTS["jobs"]), None)
    assert result["sqs_middleware"] == ["one", "two"]
    assert result["converted_keys"] == ["Records"]
    assert result["all"] == "SQSEvent"
    assert "s3_middleware" not in result
    assert sys.modules.get("_event_middleware_lambic") is None
