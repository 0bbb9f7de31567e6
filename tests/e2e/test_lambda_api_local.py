"""Lambda's API on a real `lambic local`: functions invoking functions with boto3.

One `lambic local --no-reload` subprocess serves tests/apps/lambda_api on free ports.
Function A (the `/call` route, or the plain function `caller`) invokes function B
(`worker`) with an unchanged `boto3.client("lambda").invoke(...)`; B appends what it
got to `$OUT_DIR/worker.jsonl`. The test process also talks to the services port
with boto3's Lambda client, as a script would.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import LocalCloudProcess, wait_until

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "apps" / "lambda_api"
WORKER_ARN = "arn:aws:lambda:us-east-1:000000000000:function:lambdaapi-dev-worker"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloudProcess, Path]]:
    root = tmp_path_factory.mktemp("lambda_api")
    project, out = root / "project", root / "out"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__", ".lambic/state"))
    out.mkdir()
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["environment_variables"]["OUT_DIR"] = str(out)
    config_path.write_text(json.dumps(config))
    local = LocalCloudProcess(project)
    try:
        local.wait_for("Serving lambdaapi")
        yield local, out
    finally:
        local.close()


def worker_events(out: Path) -> list[dict[str, Any]]:
    path = out / "worker.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tagged(out: Path, tag: str) -> list[dict[str, Any]]:
    return [e for e in worker_events(out) if e["event"].get("tag") == tag]


def test_a_route_invokes_another_function_synchronously_with_its_log_tail(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud

    status, answer = local.get_json("/call?tag=sync-1")

    assert status == 200
    assert answer["status"] == 200
    assert answer["function_error"] is None
    assert answer["version"] == "$LATEST"
    assert answer["payload"] == {
        "echo": {"from": "route", "tag": "sync-1", "fail": False},
        "role": "worker",
    }
    request_id = tagged(out, "sync-1")[0]["request_id"]
    log = answer["log"]
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST")
    assert "worker got sync-1" in log
    assert f"REPORT RequestId: {request_id}\tDuration:" in log


def test_a_failing_function_comes_back_as_lambda_reports_it(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, _ = cloud

    status, answer = local.get_json("/call?tag=boom&fail=1")

    assert status == 200
    assert answer["status"] == 200
    assert answer["function_error"] == "Unhandled"
    assert answer["payload"]["errorType"] == "ValueError"
    assert answer["payload"]["errorMessage"] == "worker refused boom"
    assert isinstance(answer["payload"]["stackTrace"], list)


def test_an_event_invocation_is_accepted_then_run_through_the_async_queue(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud

    status, answer = local.get_json("/call?tag=async-1&type=Event")

    assert status == 200
    assert answer["status"] == 202
    assert answer["payload"] is None
    events = wait_until(lambda: tagged(out, "async-1"), what="the Event invocation")
    assert events[0]["event"] == {"from": "route", "tag": "async-1", "fail": False}
    local.wait_for("[event] lambda -> worker")


def test_an_event_invocation_runs_under_the_request_id_it_was_accepted_with(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud

    response = local.client("lambda").invoke(
        FunctionName="worker", InvocationType="Event", Payload=b'{"tag": "accepted-id"}'
    )

    assert response["StatusCode"] == 202
    [event] = wait_until(lambda: tagged(out, "accepted-id"), what="the Event invocation")
    assert event["request_id"] == response["ResponseMetadata"]["RequestId"]


def test_a_plain_function_invokes_by_arn_both_ways(cloud: tuple[LocalCloudProcess, Path]) -> None:
    local, out = cloud
    client = local.client("lambda")

    for invocation_type in ("RequestResponse", "Event"):
        tag = f"caller-{invocation_type}"
        response = client.invoke(
            FunctionName="caller",
            Payload=json.dumps({"type": invocation_type, "target": WORKER_ARN, "tag": tag}),
        )
        answer = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, answer
        assert answer["status"] == (200 if invocation_type == "RequestResponse" else 202)
        wait_until(lambda tag=tag: tagged(out, tag), what=f"worker's {tag}")


def test_boto3_from_outside_invokes_with_a_qualified_arn_and_client_context(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, out = cloud
    client = local.client("lambda")
    context = base64.b64encode(json.dumps({"custom": {"who": "test"}}).encode()).decode()

    response = client.invoke(
        FunctionName=f"{WORKER_ARN}:$LATEST",
        Payload=b'{"tag": "outside"}',
        ClientContext=context,
    )

    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert json.loads(response["Payload"].read())["echo"] == {"tag": "outside"}
    assert tagged(out, "outside")[0]["custom"] == {"who": "test"}
    assert client.invoke(FunctionName="worker", InvocationType="DryRun")["StatusCode"] == 204


def test_functions_are_listed_and_described(cloud: tuple[LocalCloudProcess, Path]) -> None:
    client = cloud[0].client("lambda")

    names = sorted(f["FunctionName"] for f in client.list_functions()["Functions"])
    function = client.get_function(FunctionName="lambdaapi-dev-worker")
    configuration = client.get_function_configuration(FunctionName="worker")
    configuration.pop("ResponseMetadata")

    assert names == ["lambdaapi-dev", "lambdaapi-dev-caller", "lambdaapi-dev-worker"]
    assert function["Configuration"] == configuration
    assert configuration["FunctionArn"] == WORKER_ARN
    assert configuration["Handler"] == "app.worker"
    assert configuration["MemorySize"] == 256
    assert configuration["Timeout"] == 10
    assert configuration["Environment"]["Variables"]["ROLE"] == "worker"
    assert configuration["Version"] == "$LATEST"


def test_an_unknown_function_is_resource_not_found_with_aws_message(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    client = cloud[0].client("lambda")

    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.invoke(FunctionName="nope", Payload=b"{}")

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert caught.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    )
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="nope")


def test_a_seven_megabyte_payload_is_refused_with_413(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    client = cloud[0].client("lambda")
    payload = json.dumps({"blob": "x" * (7 * 1024 * 1024)}).encode()

    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="worker", Payload=payload)

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_a_non_json_payload_is_invalid_request_content(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    client = cloud[0].client("lambda")

    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="worker", Payload=b"not json")

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_an_unserved_service_gets_not_implemented_naming_the_served_ones(
    cloud: tuple[LocalCloudProcess, Path],
) -> None:
    local, _ = cloud
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=f"http://127.0.0.1:{local.services_port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )

    with pytest.raises(ClientError) as caught:
        secrets.get_secret_value(SecretId="db-password")

    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert "does not serve secretsmanager; it serves s3, dynamodb" in str(caught.value)
    assert "lambda" in caught.value.response["Error"]["Message"]
