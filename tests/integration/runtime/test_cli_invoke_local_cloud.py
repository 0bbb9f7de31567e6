"""`lambic invoke` reaches the local cloud, never real AWS by accident (issue 17, item 6).

Everything runs as a user runs it: the venv's `lambic` console script in a subprocess
whose environment has no AWS variable, then the stage's state read back through the
local services and boto3.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic._cloud_process import LocalCloudProcess, free_port
from lambic.project.paths import ProjectPaths
from lambic.runtime.endpoint_file import read_endpoint
from lambic.services.factory import create_services
from lambic.services.server import EdgeServer

REPO = Path(__file__).resolve().parents[3]
APPS = REPO / "tests" / "apps"
LAMBIC = Path(sys.executable).parent / "lambic"


def shell_environment(**aws: str) -> dict[str, str]:
    """The test's environment minus every AWS_* variable, plus `aws`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(aws)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def lambic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LAMBIC), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=env or shell_environment(),
        check=False,
    )


@contextlib.contextmanager
def services_over(state_dir: Path) -> Iterator[str]:
    """The local services over a state directory, as `lambic services` would serve them."""
    with EdgeServer(create_services(state_dir).by_name()) as edge:
        yield edge.url


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(APPS / "invoke_local", tmp_path / "invoke_local"))


@pytest.mark.slow
def test_the_readme_invoke_writes_the_item_and_page_into_the_local_state(
    tmp_path: Path, make_client: Any
) -> None:
    project = Path(
        shutil.copytree(
            REPO / "examples" / "trainstatus",
            tmp_path / "trainstatus",
            ignore=shutil.ignore_patterns("__pycache__", "state", "deployed", "logs"),
        )
    )

    result = lambic("invoke", "--project-dir", str(project), "-n", "update_status", "--schedule")

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["updated"] is True, answer
    state = ProjectPaths(project).state_dir("dev")
    with services_over(state) as url:
        items = make_client("dynamodb", url).scan(TableName="trainstatus")["Items"]
        assert [item["date"]["S"] for item in items] == [answer["date"]]
        pages = make_client("s3", url).list_objects_v2(Bucket="trainstatus-site")
        assert "index.html" in [entry["Key"] for entry in pages.get("Contents", [])]
    # The services were this invocation's own: stopped, nothing left claiming the stage.
    assert read_endpoint(ProjectPaths(project).local_endpoint("dev")) is None


def test_the_invocations_log_lines_go_to_stderr_and_only_the_result_to_stdout(
    app_dir: Path,
) -> None:
    result = lambic(
        "invoke", "-n", "put_object", "--payload", '{"key": "a.txt"}', "--project-dir", str(app_dir)
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"written": "a.txt"}
    lines = result.stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("START RequestId: ")]
    assert len(starts) == 1, result.stderr
    assert lines[starts[0] + 1] == "putting a.txt"
    assert lines[-2].startswith("END RequestId: ") and lines[-1].startswith("REPORT RequestId: ")


def test_the_shells_aws_credentials_never_reach_the_function_without_aws(app_dir: Path) -> None:
    shell = shell_environment(
        AWS_ACCESS_KEY_ID="AKIASHELL",
        AWS_SECRET_ACCESS_KEY="shell-secret",
        AWS_SESSION_TOKEN="shell-token",
        AWS_DEFAULT_REGION="eu-west-1",
    )

    local = lambic("invoke", "-n", "aws_environment", "--project-dir", str(app_dir), env=shell)
    remote = lambic(
        "invoke", "-n", "aws_environment", "--aws", "--project-dir", str(app_dir), env=shell
    )

    assert local.returncode == 0 and remote.returncode == 0, local.stderr + remote.stderr
    seen = json.loads(local.stdout)
    assert seen["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert seen["AWS_ACCESS_KEY_ID"] == "lambic-local" and "AWS_SESSION_TOKEN" not in seen
    assert "shell" not in json.dumps(seen)
    # --aws: today's behaviour, the shell's credentials and region, no local endpoint.
    seen = json.loads(remote.stdout)
    assert "AWS_ENDPOINT_URL" not in seen
    assert seen["AWS_ACCESS_KEY_ID"] == "AKIASHELL" and seen["AWS_SESSION_TOKEN"] == "shell-token"
    assert seen["AWS_REGION"] == "eu-west-1"


def test_invoke_help_documents_aws() -> None:
    result = lambic("invoke", "--help")
    assert result.returncode == 0
    assert "--aws" in result.stdout and "real AWS" in result.stdout


@pytest.fixture
def running_local(app_dir: Path) -> Iterator[LocalCloudProcess]:
    """`lambic local --no-reload` of the app, as the README runs it (the console script)."""
    local = LocalCloudProcess(app_dir, env=shell_environment(), command=(str(LAMBIC),))
    local.start()
    try:
        yield local
    finally:
        local.close()


@pytest.mark.slow
def test_with_lambic_local_running_invoke_writes_through_its_services(
    app_dir: Path, running_local: LocalCloudProcess, make_client: Any
) -> None:
    endpoint_file = ProjectPaths(app_dir).local_endpoint("dev")
    endpoint = read_endpoint(endpoint_file)
    assert endpoint is not None and running_local.proc is not None
    assert (endpoint.url, endpoint.pid) == (running_local.services_url, running_local.proc.pid)

    result = lambic(
        "invoke", "-n", "put_object", "--payload", '{"key": "b.txt"}', "--project-dir", str(app_dir)
    )

    assert result.returncode == 0, result.stderr
    s3 = make_client("s3", running_local.services_url)
    body = s3.get_object(Bucket="invoke-local-data", Key="b.txt")["Body"].read()
    assert body == b"written"
    # The running local's services were used: invoke opened none (nothing "Created").
    assert "Created" not in result.stderr
    assert running_local.stop()[0] == 0
    assert not endpoint_file.exists()


@pytest.mark.slow
def test_a_stale_endpoint_file_is_ignored_and_replaced(app_dir: Path, make_client: Any) -> None:
    endpoint_file = ProjectPaths(app_dir).local_endpoint("dev")
    endpoint_file.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    endpoint_file.write_text(
        json.dumps({"url": f"http://127.0.0.1:{free_port()}", "pid": dead.pid})
    )

    result = lambic(
        "invoke", "-n", "put_object", "--payload", '{"key": "c.txt"}', "--project-dir", str(app_dir)
    )

    assert result.returncode == 0, result.stderr
    with services_over(ProjectPaths(app_dir).state_dir("dev")) as url:
        body = make_client("s3", url).get_object(Bucket="invoke-local-data", Key="c.txt")
        assert body["Body"].read() == b"written"
    local = LocalCloudProcess(app_dir, env=shell_environment(), command=(str(LAMBIC),))
    try:
        local.start()
        endpoint = read_endpoint(endpoint_file)
        assert local.proc is not None
        assert endpoint is not None and endpoint.pid == local.proc.pid
    finally:
        assert local.close()[0] == 0


def test_invoke_outside_a_project_says_so_and_starts_no_services(tmp_path: Path) -> None:
    result = lambic("invoke", "-n", "worker", "--project-dir", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: No app.py in {tmp_path}")
    assert list(tmp_path.iterdir()) == []  # no .lambic/state appeared
