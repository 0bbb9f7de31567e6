"""The pytest plugin as a user's project gets it: loaded through its `pytest11` entry
point in a separate pytest run (a subprocess), over test files written the way a user
writes them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_pytest(root: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # what the fixtures must put back
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_importing_the_plugin_loads_neither_boto3_nor_the_services() -> None:
    code = (
        "import sys, lambic.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore') "
        "or m.startswith(('lambic.services', 'lambic.runtime'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_each_test_gets_fresh_services_and_its_environment_back(tmp_path: Path) -> None:
    (tmp_path / "test_buckets.py").write_text(
        textwrap.dedent(
            """
            import os

            import boto3


            def test_first_creates_a_bucket(lambic_services):
                assert os.environ["AWS_ENDPOINT_URL"] == lambic_services.url
                boto3.client("s3").create_bucket(Bucket="photos")
                assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] == [
                    "photos"
                ]


            def test_second_starts_empty(lambic_services):
                assert boto3.client("s3").list_buckets()["Buckets"] == []


            def test_environment_is_restored_after():
                assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
                assert "AWS_ACCESS_KEY_ID" not in os.environ


            def test_module_scope_shares_one_endpoint(lambic_services_module):
                boto3.client("sqs").create_queue(QueueName="jobs")


            def test_module_scope_sees_the_queue(lambic_services_module):
                assert boto3.client("sqs").list_queues()["QueueUrls"][0].endswith("/jobs")
            """
        )
    )
    result = run_pytest(tmp_path, "-p", "no:randomly")
    assert "5 passed" in result.stdout, result.stdout + result.stderr


def test_lambic_local_says_how_to_name_the_project_when_there_is_no_app_py(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_it(lambic_local):\n    pass\n")
    result = run_pytest(tmp_path)
    assert "1 error" in result.stdout, result.stdout
    assert "No app.py in" in result.stdout
    assert "lambic_project" in result.stdout


@pytest.mark.slow
def test_the_flagships_user_style_tests_pass_on_two_xdist_workers() -> None:
    """Each worker runs its own `lambic local` (ports, state) of examples/trainstatus."""
    result = run_pytest(
        REPO, "-n", "2", "-m", "slow", "tests/examples/trainstatus/test_local_cloud.py"
    )
    assert "2 passed" in result.stdout, result.stdout + result.stderr
