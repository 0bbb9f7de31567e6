"""Every event source at once, for end-to-end tests against a `lambic local` process.

Each handler appends what it received to `$OUT_DIR/<kind>.jsonl` (one line per call
or record), so a test can see exactly which events arrived and how often. A message,
key or detail containing "poison" fails; `SLOW_SECONDS` makes handlers take a while
so that a crash test finds work in flight.
"""

import json
import os
import time
from typing import Any

from lambic import Lambic

app = Lambic(app_name="eventcloud")

STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2020-01-01T00:00:00.000"


def _record(kind: str, data: Any) -> None:
    path = os.path.join(os.environ["OUT_DIR"], f"{kind}.jsonl")
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(data) + "\n")


def _slow() -> None:
    time.sleep(float(os.environ.get("SLOW_SECONDS", "0")))


@app.schedule("rate(1 day)")
def nightly(event: Any) -> Any:
    return event.to_dict()


@app.on_s3_event(bucket="uploads", events=["s3:ObjectCreated:*"])
def uploaded(event: Any) -> None:
    _slow()
    _record("s3", event.to_dict())
    if "poison" in event.key:
        raise ValueError(f"cannot process {event.key}")


@app.on_sqs_message(queue="jobs", batch_size=10)
def jobs(event: Any) -> dict[str, Any]:
    _slow()
    failures: list[dict[str, str]] = []
    for record in event:
        _record("sqs", record.to_dict())
        if "poison" in record.body:
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}


@app.on_sns_message(topic="alerts")
def alerted(event: Any) -> None:
    _record("sns", event.to_dict())


@app.on_cw_event({"source": ["shop.orders"], "detail": {"total": [{"numeric": [">", 100]}]}})
def big_order(event: Any) -> None:
    _record("events", event.to_dict())


@app.on_dynamodb_record(stream_arn=STREAM, batch_size=10, starting_position="TRIM_HORIZON")
def order_changed(event: Any) -> None:
    for record in event:
        _record("stream", record.to_dict() if hasattr(record, "to_dict") else record)
