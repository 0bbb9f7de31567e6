import json
import os


def record(kind, value):
    """Append what a handler received to $OUT_DIR/<kind>.jsonl for the test to read."""
    out = os.environ.get("OUT_DIR")
    if out:
        with open(os.path.join(out, f"{kind}.jsonl"), "a") as fh:
            fh.write(json.dumps(value) + "\n")
