"""`@app.on_kinesis_record` under a real `lambic local`, fed by unchanged boto3 puts.

The handler (tests/apps/kinesis_local) appends each record it is given to
`$OUT_DIR/kinesis.jsonl`. The stream (not declared) is created with one shard when
`lambic local` starts, with the warning an undeclared queue gets; records
arrive in order; after a restart on the same state, delivery resumes from the
checkpoint without handing the acknowledged batches to the handler again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import LocalCloudProcess, recorded, wait_until

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "apps" / "kinesis_local"


def test_records_arrive_in_order_and_a_restart_resumes_without_redelivery(
    tmp_path: Path,
) -> None:
    project, out = tmp_path / "project", tmp_path / "out"
    shutil.copytree(APP, project)
    out.mkdir()
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"]["OUT_DIR"] = str(out)
    config_path.write_text(json.dumps(config))

    local = LocalCloudProcess(project)
    try:
        local.wait_for("Serving kinesislocal")
        # Not declared: made at start (one shard), and said so, as for a queue.
        local.wait_for(
            "Warning: @app.on_kinesis_record (on_click) names Kinesis stream 'clicks', which is "
            "not declared under resources.kinesis_streams in .lambic/config.json: `lambic "
            "deploy` needs it to exist in the account already; declare it there to have deploy "
            "create it"
        )
        kinesis = local.client("kinesis")
        assert kinesis.list_streams()["StreamNames"] == ["clicks"]
        puts = [
            kinesis.put_record(StreamName="clicks", Data=f"c{i}".encode(), PartitionKey="user-1")
            for i in range(5)
        ]
        seen = wait_until(
            lambda: (r := recorded(out, "kinesis")) and len(r) >= 5 and r, what="five records"
        )
        assert [r["data"] for r in seen] == ["c0", "c1", "c2", "c3", "c4"]
        assert [r["sequence"] for r in seen] == [p["SequenceNumber"] for p in puts]
        assert {r["key"] for r in seen} == {"user-1"}
        assert {r["source"] for r in seen} == {
            "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
        }
        local.wait_for("[event] kinesis:clicks -> on_click")
    finally:
        code, survivors = local.close()
    assert code == 0, local.output()
    assert not survivors

    restarted = LocalCloudProcess(project)
    try:
        restarted.wait_for("Serving kinesislocal")
        kinesis = restarted.client("kinesis")
        kinesis.put_records(
            StreamName="clicks",
            Records=[
                {"Data": b"c5", "PartitionKey": "user-1"},
                {"Data": b"c6", "PartitionKey": "user-1"},
            ],
        )
        seen = wait_until(
            lambda: (r := recorded(out, "kinesis")) and len(r) >= 7 and r, what="seven records"
        )
        restarted.wait_for("[event] kinesis:clicks -> on_click")
    finally:
        restarted.close()
    # Exactly once each: the batches acknowledged before the restart were not redelivered.
    assert [r["data"] for r in recorded(out, "kinesis")] == [f"c{i}" for i in range(7)]
