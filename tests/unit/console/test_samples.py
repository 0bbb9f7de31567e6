"""The console's sample event for a Kinesis handler is Lambda's Kinesis event."""

from __future__ import annotations

import base64

from lambic.console.samples import sample_event


def test_a_kinesis_handler_gets_a_kinesis_event_from_its_stream() -> None:
    event = sample_event("kinesis", {"stream": "clicks"}, rule="r", stage="api")
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventSourceARN"].endswith(":stream/clicks")
    assert base64.b64decode(record["kinesis"]["data"]) == b"hello"
    by_arn = sample_event(
        "kinesis", {"stream": "arn:aws:kinesis:us-east-1:1:stream/views"}, rule="r", stage="api"
    )
    assert by_arn["Records"][0]["eventSourceARN"].endswith(":stream/views")
