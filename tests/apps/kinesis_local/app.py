"""A Kinesis handler under `lambic local`: records each record it is given, in order."""

import json
import os

from lambic import Lambic
from lambic.app import KinesisEvent

app = Lambic(app_name="kinesislocal")


@app.on_kinesis_record(stream="clicks", batch_size=2, starting_position="TRIM_HORIZON")
def on_click(event: KinesisEvent) -> None:
    with open(os.path.join(os.environ["OUT_DIR"], "kinesis.jsonl"), "a", encoding="utf-8") as sink:
        for record in event:
            sink.write(
                json.dumps(
                    {
                        "data": record.data.decode(),
                        "sequence": record.sequence_number,
                        "key": record.partition_key,
                        "source": record.to_dict()["eventSourceARN"],
                    }
                )
                + "\n"
            )
