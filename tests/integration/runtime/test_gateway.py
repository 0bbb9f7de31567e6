"""The gateway on a real socket in front of real execution environments (LocalCloud)."""

from __future__ import annotations

import base64
import http.client
import json
import runpy
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from lambic.app import route_table
from tests._support.clouds import RunningCloud

pytestmark = pytest.mark.slow

APP = '''
import base64
import json
import os
import time

from lambic import Lambic, Response, CORSConfig



class RawProxy(Lambic):
    """Answers /malformed with a result API Gateway rejects (body is not a string)."""

    def __call__(self, event, context):
        if event.get("path") == "/malformed":
            return {"statusCode": 200, "body": {"json": "not serialised"}}
        if event.get("path") == "/raw-headers":
            return {"statusCode": 200, "body": json.dumps(sorted(event["headers"]))}
        return super().__call__(event, context)


app = RawProxy(app_name="gw")
app.api.binary_types.append("application/octet-stream")


@app.route("/")
def index():
    return {"hello": "world"}


@app.route("/echo/{name}", methods=["GET", "POST"],
           content_types=["application/json", "application/octet-stream"])
def echo(name):
    req = app.current_request
    return {
        "name": name,
        "query": req.query_params and {k: req.query_params.getlist(k) for k in req.query_params},
        "headers": dict(req.headers),
        "raw": base64.b64encode(req.raw_body or b"").decode(),
        "context_stage": req.context["stage"],
        "context_account": req.context["accountId"],
    }


@app.route("/cookies")
def cookies():
    return Response(body="ok", headers={"Set-Cookie": ["a=1", "b=2"], "X-Single": "s"},
                    status_code=200)


@app.route("/blob", methods=["POST"], content_types=["application/octet-stream"])
def blob():
    data = app.current_request.raw_body
    return Response(body=data[::-1], headers={"Content-Type": "application/octet-stream"})


@app.route("/exit")
def hard_exit():
    os._exit(1)


@app.route("/sleep/{seconds}")
def sleep(seconds):
    time.sleep(float(seconds))
    return {"slept": float(seconds)}


@app.route("/cors", methods=["GET", "PUT"], cors=CORSConfig(allow_origin="https://app.test",
                                                            allow_headers=["X-Custom"],
                                                            expose_headers=["X-Total"],
                                                            max_age=600,
                                                            allow_credentials=True))
def with_cors():
    return {"cors": True}


@app.route("/malformed")
def malformed():
    return {"not": "proxy"}


@app.route("/raw-headers")
def raw_headers():
    return {}


@app.route("/raise")
def fail():
    raise ValueError("boom")
'''


def write_project(root: Path, config: dict[str, Any], app: str = APP) -> Path:
    (root / ".lambic").mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(app)
    (root / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "gw", "stages": {"dev": {}}, **config})
    )
    return root


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    project = write_project(tmp_path_factory.mktemp("gw"), {"lambda_timeout": 2})
    with RunningCloud(project, reload=False) as running:
        yield running


def test_serves_a_route_through_an_execution_environment(cloud: RunningCloud) -> None:
    response = cloud.request("GET", "/")

    assert response.status == 200
    assert response.json() == {"hello": "world"}
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("x-amzn-RequestId")
    # One access line per request; START/END/REPORT only with verbose.
    cloud.wait_for_line(r'^\d\d:\d\d:\d\d "GET /" 200 OK \d+\.\d ms (cold|warm) \[gw-dev\]$')
    assert not any("REPORT RequestId" in line for line in cloud.lines)


def test_answers_403_for_an_unknown_route_and_an_unknown_method(cloud: RunningCloud) -> None:
    for method, path in [("GET", "/nope"), ("DELETE", "/"), ("GET", "/echo")]:
        response = cloud.request(method, path)
        assert response.status == 403, (method, path)
        assert response.json() == {"message": "Missing Authentication Token"}
        assert response.getheader("x-amzn-ErrorType") == "MissingAuthenticationTokenException"


def test_passes_path_query_multi_value_and_headers_as_api_gateway(cloud: RunningCloud) -> None:
    response = cloud.request(
        "GET", "/echo/a%20b?tag=x&tag=y&empty", headers={"X-Custom-Header": "v1"}
    )

    got = response.json()
    assert response.status == 200
    assert got["name"] == "a b"
    assert got["query"] == {"tag": ["x", "y"], "empty": [""]}
    assert got["headers"]["x-custom-header"] == "v1"
    assert got["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert got["context_stage"] == "api"
    # The account every local ARN names (queues, topics, functions), not a sample one.
    assert got["context_account"] == "000000000000"


def test_passes_header_names_as_the_client_spelled_them(cloud: RunningCloud) -> None:
    response = cloud.request("GET", "/raw-headers", headers={"X-Custom-Header": "v"})

    names = response.json()
    assert "X-Custom-Header" in names
    assert {"Host", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"} <= set(names)


def test_printed_tracebacks_name_the_users_file_not_the_snapshot(cloud: RunningCloud) -> None:
    assert cloud.request("GET", "/raise").status == 500

    line = cloud.wait_for_line(r'File ".*app\.py", line \d+, in fail')
    assert f'"{cloud.cloud.project_dir / "app.py"}"' in line


def test_maps_multi_value_response_headers(cloud: RunningCloud) -> None:
    response = cloud.request("GET", "/cookies")

    assert response.status == 200
    assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert response.getheader("X-Single") == "s"


def test_round_trips_a_binary_body(cloud: RunningCloud) -> None:
    payload = bytes(range(256)) * 4
    response = cloud.request(
        "POST",
        "/blob",
        body=payload,
        headers={"Content-Type": "application/octet-stream", "Accept": "application/octet-stream"},
    )

    assert response.status == 200
    assert response.body == payload[::-1]


def test_binary_request_body_reaches_the_function_base64_encoded(cloud: RunningCloud) -> None:
    payload = b"\x00\xff\x10binary"
    response = cloud.request(
        "POST", "/echo/b", body=payload, headers={"Content-Type": "application/octet-stream"}
    )

    assert base64.b64decode(response.json()["raw"]) == payload


def test_answers_502_when_the_environment_exits(cloud: RunningCloud) -> None:
    response = cloud.request("GET", "/exit")

    assert response.status == 502
    assert response.json() == {"message": "Internal server error"}
    # The crashed environment is replaced: the next request is served.
    assert cloud.request("GET", "/").status == 200


def test_answers_502_with_the_timeout_log_line_when_the_function_times_out(
    cloud: RunningCloud,
) -> None:
    started = time.monotonic()
    response = cloud.request("GET", "/sleep/5")

    assert response.status == 502
    assert response.json() == {"message": "Internal server error"}
    assert time.monotonic() - started < 4.5
    # Lambda reports the time the function actually ran (2.00 or a few ms past the 2 s
    # timeout, by when the watchdog noticed), as tests/unit/runtime's reporting tests pin.
    cloud.wait_for_line(r"Task timed out after 2\.0\d seconds")


def test_answers_413_for_a_body_over_10_mb(cloud: RunningCloud) -> None:
    response = cloud.request("POST", "/echo/big", body=b"x" * (10 * 1024 * 1024 + 1))

    assert response.status == 413
    assert response.json() == {"message": "Request Too Long"}


def test_answers_cors_preflight_without_invoking(cloud: RunningCloud) -> None:
    before = sum("REPORT" in line for line in cloud.lines)
    response = cloud.request(
        "OPTIONS",
        "/cors",
        headers={"Origin": "https://app.test", "Access-Control-Request-Method": "PUT"},
    )

    assert response.status == 200
    assert response.getheader("Access-Control-Allow-Origin") == "https://app.test"
    assert response.getheader("Access-Control-Allow-Methods") == "GET,PUT,OPTIONS"
    assert "Content-Type" in (response.getheader("Access-Control-Allow-Headers") or "")
    # The custom CORSConfig fields cross the manifest to the gateway's answer.
    assert "X-Custom" in (response.getheader("Access-Control-Allow-Headers") or "")
    assert response.getheader("Access-Control-Max-Age") == "600"
    assert response.getheader("Access-Control-Expose-Headers") == "X-Total"
    assert response.getheader("Access-Control-Allow-Credentials") == "true"
    time.sleep(0.2)
    assert sum("REPORT" in line for line in cloud.lines) == before
    assert cloud.request("GET", "/cors").getheader("Access-Control-Allow-Origin") == (
        "https://app.test"
    )


def test_preflight_answer_is_the_route_tables_for_the_same_app(cloud: RunningCloud) -> None:
    # The registry (read in-process here) and lambic local (through the manifest
    # child) compute preflights with one function, so they agree to the header.
    expected = route_table(runpy.run_path(str(cloud.project / "app.py"))["app"])["preflight"]
    response = cloud.request("OPTIONS", "/cors")

    answered = {k: v for k, v in response.headers.items() if k.startswith("Access-Control-")}
    assert answered == expected["/cors"]


def test_answers_502_for_a_malformed_proxy_response(cloud: RunningCloud) -> None:
    response = cloud.request("GET", "/malformed")

    assert response.status == 502
    assert response.json() == {"message": "Internal server error"}
    assert cloud.request("GET", "/").status == 200


def test_answers_504_only_past_the_integration_timeout(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"lambda_timeout": 10})
    with RunningCloud(project, reload=False, integration_timeout=2.0, verbose=True) as running:
        running.request("GET", "/")  # the cold start is not what this test measures
        assert running.request("GET", "/sleep/0.2").status == 200
        started = time.monotonic()
        response = running.request("GET", "/sleep/4")
        elapsed = time.monotonic() - started
        assert response.status == 504
        assert response.json() == {"message": "Endpoint request timed out"}
        assert 1.9 < elapsed < 3.5
        # As on AWS, the function runs on to completion after the gateway gave up.
        running.wait_for_line(r"REPORT RequestId: .*Duration: 4\d{3}\.", timeout=10)


def test_every_request_is_answered_200_or_429_at_reserved_concurrency_2(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"reserved_concurrency": 2})
    with RunningCloud(project, reload=False) as running:
        running.request("GET", "/sleep/0")

        def one(_: int) -> int:
            return running.request("GET", "/sleep/0.5", timeout=20).status

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(one, range(50), timeout=60))

    assert len(statuses) == 50
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) >= 2
    assert statuses.count(429) >= 1


def reports(running: RunningCloud, count: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in list(running.lines) if "REPORT RequestId" in line]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} REPORT lines: {running.lines}")


def test_scales_to_zero_after_the_idle_time(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"local": {"idle_timeout_seconds": 1}})
    with RunningCloud(project, reload=False, verbose=True) as running:
        running.request("GET", "/")
        running.request("GET", "/")
        first, second = reports(running, 2)
        assert "Init Duration" in first
        assert "Init Duration" not in second
        time.sleep(3)
        running.request("GET", "/")
        third = reports(running, 3)[2]
        assert "Init Duration" in third


def test_keeps_serving_on_one_keep_alive_connection(cloud: RunningCloud) -> None:
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=10)
        conn.sock = sock
        for _ in range(20):
            conn.request("GET", "/")
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read()) == {"hello": "world"}
