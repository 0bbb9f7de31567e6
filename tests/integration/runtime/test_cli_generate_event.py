"""`lambic generate-event ... | lambic invoke`: a generated event drives a real handler."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "apps" / "event_handlers"


def test_a_generated_s3_event_piped_into_invoke_reaches_the_s3_handler(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(APP, project)
    out = tmp_path / "out"
    out.mkdir()
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"] = {"OUT_DIR": str(out)}
    config_path.write_text(json.dumps(config))
    lambic = f"{shlex.quote(sys.executable)} -m lambic"
    pipeline = (
        f"{lambic} generate-event s3 --bucket photos --key 'holiday/my cat.jpg' --size 7"
        f" | {lambic} invoke -n photo_uploaded --project-dir {shlex.quote(str(project))}"
    )

    result = subprocess.run(
        ["sh", "-c", pipeline], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    (line,) = (out / "photo_uploaded.jsonl").read_text().splitlines()
    record = json.loads(line)["Records"][0]
    assert record["s3"]["bucket"]["name"] == "photos"
    assert record["s3"]["object"]["key"] == "holiday/my+cat.jpg"
    assert record["s3"]["object"]["size"] == 7
    assert record["awsRegion"] == "us-east-1"
