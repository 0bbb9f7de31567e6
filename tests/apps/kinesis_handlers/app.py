"""A Kinesis handler that records what it sees and fails once on request."""

import json
import os

from lambic import Lambic

app = Lambic(app_name="kinesishandlers")


@app.on_kinesis_record(stream="clicks", batch_size=3, starting_position="TRIM_HORIZON")
def on_click(event):
    out = os.environ["OUT_DIR"]
    marker = os.path.join(out, "failed-once")
    for record in event:
        raw = record.to_dict()
        with open(os.path.join(out, "kinesis.jsonl"), "a", encoding="utf-8") as sink:
            sink.write(json.dumps(raw) + "\n")
        if record.data == b"fail-once" and not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("transient failure")
