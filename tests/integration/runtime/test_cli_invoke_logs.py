"""`lambic invoke` and `lambic logs` end to end: real project, environments, log store."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambic.cli.logs import parse_since
from lambic.cli.main import main
from lambic.runtime.logstore import LogEvent, LogStore

APPS = Path(__file__).resolve().parents[2] / "apps"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(APPS / "runtime_lambic", root)
    (root / "event.json").write_text('{"from": "file"}')
    return root


def cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_invoke_prints_the_result_payload(project: Path) -> None:
    code, out, _ = cli(
        "invoke", "-n", "worker", "--payload", '{"a": 1}', "--project-dir", str(project)
    )
    assert code == 0
    assert json.loads(out) == {"worker": {"a": 1}, "memory": "256"}


def test_invoke_reads_a_payload_file_and_accepts_the_deployed_name(project: Path) -> None:
    code, out, _ = cli(
        "invoke",
        "-n",
        "runtime-demo-dev-worker",
        "--payload-file",
        str(project / "event.json"),
        "--project-dir",
        str(project),
    )
    assert code == 0 and json.loads(out)["worker"] == {"from": "file"}


def test_invoke_exits_non_zero_and_prints_the_error_json_on_a_function_error(
    project: Path,
) -> None:
    (project / "app.py").write_text(
        (project / "app.py").read_text()
        + "\n\n@app.lambda_function(name='fails')\ndef fails(event, context):\n"
        "    raise KeyError('missing')\n"
    )
    code, out, err = cli("invoke", "-n", "fails", "--project-dir", str(project))
    assert code == 1
    error = json.loads(out)
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'missing'"
    assert "failed (error: KeyError)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "nope"], "Error: Function not found: nope; the app defines api_handler, worker"),
        (["-n", "worker", "--payload", "{bad"], "Error: --payload is not valid JSON"),
        (
            ["-n", "worker", "--payload", "{}", "--payload-file", "x.json"],
            "Error: Give either --payload or --payload-file, not both",
        ),
    ],
)
def test_invoke_user_errors_are_one_line_with_exit_status_2(
    project: Path, args: list[str], message: str
) -> None:
    code, _, err = cli("invoke", *args, "--project-dir", str(project))
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1


def test_invoke_reports_a_syntax_error_in_app_py_with_file_and_line(project: Path) -> None:
    (project / "app.py").write_text("def broken(:\n    pass\n")
    code, _, err = cli("invoke", "-n", "worker", "--project-dir", str(project))
    assert code == 2 and err.startswith("Error: Syntax error in app.py:1")


def test_logs_prints_a_functions_lines_in_order_and_filters_by_name(project: Path) -> None:
    cli("invoke", "-n", "worker", "--payload", '{"job": 7}', "--project-dir", str(project))
    cli("invoke", "-n", "api_handler", "--payload", "{}", "--project-dir", str(project))
    code, out, _ = cli("logs", "-n", "worker", "--project-dir", str(project))
    assert code == 0
    lines = out.splitlines()
    assert all(" runtime-demo-dev-worker " in line for line in lines)
    kinds = [line.split(" ", 3)[3].split(" ")[0] for line in lines]
    assert all(re.fullmatch(r"[0-9a-f]{6}", line.split(" ")[2]) for line in lines)
    assert kinds[0] == "START" and kinds[-2:] == ["END", "REPORT"]
    assert any("worker saw {'job': 7}" in line for line in lines)
    code, out, _ = cli("logs", "--project-dir", str(project))
    assert " runtime-demo-dev " in out and " runtime-demo-dev-worker " in out
    code, out, _ = cli("logs", "-n", "api_handler", "--since", "10m", "--project-dir", str(project))
    assert code == 0 and out and " runtime-demo-dev-worker " not in out


def test_logs_without_a_log_store_says_what_to_run(project: Path) -> None:
    code, _, err = cli("logs", "--project-dir", str(project))
    assert code == 2 and "run `lambic local` or `lambic invoke` first" in err


def test_since_accepts_durations_and_iso_times() -> None:
    assert parse_since("10m", 1000.0) == 400_000
    assert parse_since("2h", 10_000.0) == 2_800_000
    assert parse_since("1970-01-01T00:00:05Z", 0) == 5000


def test_logs_follow_prints_new_events_as_they_are_stored(project: Path) -> None:
    state = project / ".lambic" / "state" / "dev" / "logs.sqlite3"
    store = LogStore(state)
    store.append(LogEvent("/aws/lambda/runtime-demo-dev", "s", int(time.time() * 1000), "first"))
    store.flush()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambic", "logs", "--follow", "--project-dir", str(project)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )

    def next_line() -> str:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)  # bounded: never hang
        assert ready, "lambic logs --follow printed nothing within 20 s"
        return proc.stdout.readline()

    try:
        assert next_line().endswith("runtime-demo-dev s first\n")
        store.append(
            LogEvent("/aws/lambda/runtime-demo-dev", "s", int(time.time() * 1000), "later")
        )
        store.flush()
        assert next_line().endswith("runtime-demo-dev s later\n")
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
        store.close()


def test_invoke_warns_about_unknown_config_keys_and_still_runs(project: Path) -> None:
    config = project / ".lambic" / "config.json"
    config.write_text(config.read_text().replace('"version"', '"colour": "blue", "version"'))
    code, out, err = cli("invoke", "-n", "worker", "--project-dir", str(project))
    assert code == 0 and json.loads(out)["worker"] == {}
    warning, *log_lines = err.splitlines()
    assert warning == "Warning: .lambic/config.json: unknown key colour is ignored"
    assert log_lines[0].startswith("START RequestId: ")
