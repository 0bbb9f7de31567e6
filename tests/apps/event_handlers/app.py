"""Event handlers that record what they receive, for event-source tests."""

import json
import os

from lambic import Lambic

app = Lambic(app_name="eventhandlers")


def _record(kind, event):
    path = os.path.join(os.environ["OUT_DIR"], f"{kind}.jsonl")
    data = event if isinstance(event, dict) else event.to_dict()
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(data) + "\n")


@app.schedule("rate(1 minute)")
def every_minute(event):
    _record("schedule", event)


@app.on_cw_event({"source": ["shop.orders"], "detail": {"total": [{"numeric": [">", 100]}]}})
def big_order(event):
    _record("big_order", event)
    if event.detail.get("fail"):
        raise ValueError("cannot handle this order")


@app.on_s3_event(bucket="photos", events=["s3:ObjectCreated:*"], suffix=".jpg")
def photo_uploaded(event):
    _record("photo_uploaded", event)


@app.on_s3_event(bucket="photos", events=["s3:ObjectRemoved:*"])
def photo_removed(event):
    _record("photo_removed", event)


@app.on_sqs_message(queue="orders", batch_size=10)
def process_orders(event):
    failures = []
    for record in event:
        _record(
            "orders",
            {
                "body": record.body,
                "id": record.message_id,
                "count": record.to_dict()["attributes"]["ApproximateReceiveCount"],
            },
        )
        if "poison" in record.body:
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}
