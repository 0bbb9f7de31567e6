"""`lambic local` as a user runs it: a subprocess, real port, signals, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambic._cloud_process import LocalCloudProcess, free_port
from tests._support.processes import alive

pytestmark = pytest.mark.slow

APP = """
import time

from lambic import Lambic

app = Lambic(app_name="cli")


@app.route("/")
def index():
    print("hello from the handler")
    return {"hello": "world"}


@app.route("/users/{id}", methods=["GET", "PUT"])
def user(id):
    return {"id": id}


@app.route("/sleep/{seconds}")
def sleep(seconds):
    time.sleep(float(seconds))
    return {"slept": float(seconds)}


@app.route("/fail")
def fail():
    raise ValueError("broken on purpose")
"""


def make_project(root: Path, app: str | None = APP) -> Path:
    (root / ".lambic").mkdir(parents=True)
    (root / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "cli", "stages": {"dev": {}}})
    )
    if app is not None:
        (root / "app.py").write_text(app)
    return root


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> set[int]:
    tree = children_of()
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in tree.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "cli")


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambic", "local", "--services-port", str(free_port()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def running(project: Path) -> Iterator[LocalCloudProcess]:
    local = LocalCloudProcess(project).launch()
    try:
        local.wait_for("Serving cli")
        yield local
    finally:
        local.close()


def test_prints_the_banner_with_url_and_routes_and_live_logs(running: LocalCloudProcess) -> None:
    running.wait_for("/users/{id}")  # the banner's lines arrive one by one
    assert any(f"http://127.0.0.1:{running.port}" in line for line in running.lines)
    assert any("GET,PUT" in line and "/users/{id}" in line for line in running.lines)

    status, _, body = running.get("/")

    assert (status, json.loads(body)) == (200, {"hello": "world"})
    running.wait_for("[cli-dev] hello from the handler")
    access = running.wait_for('"GET /" 200 OK')
    assert access.endswith(" cold [cli-dev]") or access.endswith(" warm [cli-dev]")
    # The handler's output comes first, then the request's access line; Lambda's
    # START/END/REPORT stay in `lambic logs` unless --verbose.
    assert running.lines.index("[cli-dev] hello from the handler") < running.lines.index(access)
    assert not any("REPORT RequestId:" in line for line in running.lines)


def test_a_traceback_in_the_live_logs_names_the_projects_own_file(
    running: LocalCloudProcess, project: Path
) -> None:
    assert running.get("/fail")[0] == 500  # the app answers, as a Chalice app does

    line = running.wait_for("in fail")

    # Environments run a snapshot of the code; the printed path is the user's file.
    assert f'File "{project.resolve() / "app.py"}"' in line
    running.wait_for("[cli-dev] ValueError: broken on purpose")


def test_verbose_also_prints_lambdas_start_end_and_report_lines(project: Path) -> None:
    local = LocalCloudProcess(project, "--verbose").launch()
    try:
        local.wait_for("Serving cli")
        assert local.get("/")[0] == 200

        start = local.wait_for("[cli-dev] START RequestId:")
        output = local.wait_for("[cli-dev] hello from the handler")
        report = local.wait_for("[cli-dev] REPORT RequestId:")
        access = local.wait_for('"GET /" 200 OK')
        order = [local.lines.index(line) for line in (start, output, report, access)]
        assert order == sorted(order)
    finally:
        local.close()


def test_sigterm_finishes_in_flight_work_and_leaves_no_process(running: LocalCloudProcess) -> None:
    assert running.get("/")[0] == 200
    slow: list[tuple[int, dict[str, str], bytes]] = []
    worker = threading.Thread(target=lambda: slow.append(running.get("/sleep/1")))
    worker.start()
    time.sleep(0.3)
    tree = descendants(running.proc.pid)
    assert tree, "environments and the zygote run as child processes"

    running.proc.send_signal(signal.SIGTERM)
    worker.join(timeout=15)

    assert running.proc.wait(timeout=20) == 0
    assert slow and slow[0][0] == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in tree):
        time.sleep(0.05)
    assert [pid for pid in tree if alive(pid)] == []


def test_sigint_stops_like_ctrl_c(running: LocalCloudProcess) -> None:
    assert running.get("/")[0] == 200
    tree = descendants(running.proc.pid)

    running.proc.send_signal(signal.SIGINT)

    assert running.proc.wait(timeout=20) == 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in tree):
        time.sleep(0.05)
    assert [pid for pid in tree if alive(pid)] == []


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_reports_a_missing_app_py_in_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "empty", app=None)

    line = one_error_line(run_cli("--project-dir", str(project), "--port", str(free_port())))

    assert "No app.py" in line


def test_reports_a_missing_app_object_in_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "noapp", app="application = 1\n")

    line = one_error_line(run_cli("--project-dir", str(project), "--port", str(free_port())))

    assert "No app named 'app'" in line


def test_reports_a_syntax_error_with_file_and_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "broken", app="from lambic import Lambic\n\ndef (:\n")

    line = one_error_line(run_cli("--project-dir", str(project), "--port", str(free_port())))

    assert "app.py:3" in line


def test_reports_a_port_in_use_in_one_line(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        line = one_error_line(run_cli("--project-dir", str(project), "--port", str(port)))

    assert f"Port {port}" in line and "in use" in line
    assert line.endswith("pick another with --port")


def test_a_taken_services_port_names_the_flag_that_moves_it(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        cli = [sys.executable, "-m", "lambic", "local", "--project-dir", str(project)]
        result = subprocess.run(
            [*cli, "--port", str(free_port()), "--services-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    line = one_error_line(result)
    assert line.startswith(f"Error: Local services: Port {port} on 127.0.0.1 is in use")
    assert line.endswith("pick another with --services-port")


def test_a_new_project_serves_hello_world(tmp_path: Path) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "lambic", "new-project", "fresh"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert created.returncode == 0, created.stderr
    local = LocalCloudProcess(tmp_path / "fresh").launch()
    try:
        local.wait_for("Serving fresh")

        status, _, body = local.get("/")

        assert (status, json.loads(body)) == (200, {"hello": "world"})
    finally:
        local.close()


MODULE_LEVEL_TABLE = """
import os

import boto3
from lambic import Lambic

app = Lambic("clients")
# Built at import, as most apps do: needs a region and must reach the local services.
TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


@app.route("/items/{item_id}")
def item(item_id):
    TABLE.put_item(Item={"id": item_id, "by": os.environ["AWS_LAMBDA_FUNCTION_NAME"]})
    return TABLE.get_item(Key={"id": item_id}, ConsistentRead=True)["Item"]
"""


def test_module_level_clients_work_from_a_shell_without_any_aws_variables(tmp_path: Path) -> None:
    project = make_project(tmp_path / "clients", app=MODULE_LEVEL_TABLE)
    (project / ".lambic" / "config.json").write_text(
        json.dumps(
            {
                "app_name": "clients",
                "environment_variables": {"TABLE_NAME": "items"},
                "resources": {
                    "dynamodb_tables": [
                        {
                            "TableName": "items",
                            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                            "BillingMode": "PAY_PER_REQUEST",
                        }
                    ]
                },
            }
        )
    )
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    local = LocalCloudProcess(project, env=bare).launch()
    try:
        local.wait_for("Serving clients")
        assert not [line for line in local.lines if "Warning" in line]

        status, _, body = local.get("/items/a1")

        assert status == 200, body
        assert json.loads(body) == {"id": "a1", "by": "clients-dev"}
    finally:
        local.close()


IMPORT_TIME_CALL = """
import boto3
from lambic import Lambic

app = Lambic("calls")
# A call (not just a client) while the module imports: reading the app must already
# reach the local services, as every later import in an execution environment does.
boto3.client("s3").create_bucket(Bucket="made-at-import")


@app.route("/buckets")
def buckets():
    return sorted(b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"])
"""


def test_aws_calls_made_while_app_py_imports_reach_the_local_services(tmp_path: Path) -> None:
    project = make_project(tmp_path / "calls", app=IMPORT_TIME_CALL)
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    local = LocalCloudProcess(project, env=bare).launch()
    try:
        local.wait_for("Serving calls")

        status, _, body = local.get("/buckets")

        assert (status, json.loads(body)) == (200, ["made-at-import"])
    finally:
        local.close()


IMPORT_TIME_READ = """
import boto3
from lambic import Lambic

app = Lambic("declared")
# The declared table is created while app.py is read: a call made at import must find
# it all the same (it waits for the creation), as if the table had been made first.
_table = boto3.resource("dynamodb").Table("orders")
_table.put_item(Item={"id": "at-import"})


@app.route("/orders/{id}")
def order(id):
    return _table.get_item(Key={"id": id}).get("Item")
"""


def test_a_declared_table_exists_for_calls_made_while_app_py_imports(tmp_path: Path) -> None:
    project = make_project(tmp_path / "declared", app=IMPORT_TIME_READ)
    table = {
        "TableName": "orders",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    config = {"version": "2.0", "app_name": "declared", "resources": {"dynamodb_tables": [table]}}
    (project / ".lambic" / "config.json").write_text(json.dumps(config))
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    local = LocalCloudProcess(project, env=bare).launch()
    try:
        local.wait_for("Serving declared")

        status, _, body = local.get("/orders/at-import")

        assert (status, json.loads(body)) == (200, {"id": "at-import"})
        assert "Created table orders" in local.output()
    finally:
        local.close()
