"""A DynamoDB stream handler that records what it sees and fails once on request."""

import json
import os

from lambic import Lambic

app = Lambic(app_name="streamhandlers")

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2020-01-01T00:00:00.000"


@app.on_dynamodb_record(stream_arn=STREAM, batch_size=10, starting_position="TRIM_HORIZON")
def order_changed(event):
    out = os.environ["OUT_DIR"]
    for record in event:
        raw = record.to_dict() if hasattr(record, "to_dict") else record
        new = raw["dynamodb"].get("NewImage", {})
        marker = os.path.join(out, "failed-once")
        with open(os.path.join(out, "stream.jsonl"), "a", encoding="utf-8") as sink:
            sink.write(json.dumps(raw) + "\n")
        if new.get("fail_once", {}).get("BOOL") and not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("transient failure")
