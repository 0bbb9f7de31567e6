"""What `lambic local`'s own process loads before it is needed: code for a kind of
request the app has not received (authorizers) or cannot receive (WebSocket, SQS and
stream pollers, S3 for an app without buckets) stays unimported, and the first request
of that kind still answers as before. Each module left out is memory every idle
`lambic local` keeps otherwise.

The probe runs the real CLI (`lambic local`) in a fresh interpreter's main thread; a
helper thread makes the requests and reads that process's `sys.modules`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lambic._cloud_process import free_port

pytestmark = pytest.mark.slow

PLAIN_APP = """
from lambic import Lambic

app = Lambic(app_name="deferred")


@app.route("/plain")
def plain():
    return {"plain": True}
"""

GUARDED_APP = (
    PLAIN_APP
    + """
from lambic import AuthResponse


@app.authorizer()
def token_auth(auth_request):
    if auth_request.token == "allow":
        return AuthResponse(routes=["/guarded"], principal_id="user-1")
    raise Exception("Unauthorized")


@app.route("/guarded", authorizer=token_auth)
def guarded():
    return {"who": app.current_request.context["authorizer"]["principalId"]}
"""
)

# Runs `lambic local` in the main thread; the helper thread asks, records, then stops it.
PROBE = textwrap.dedent(
    """
    import json, os, signal, sys, threading, time, urllib.error, urllib.request

    port = int(sys.argv[1])
    watched = sys.argv[2].split(",")
    requests = json.loads(sys.argv[3])

    def get(path, token=None):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
        if token is not None:
            request.add_header("Authorization", token)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def loaded():
        return sorted(name for name in watched if name in sys.modules)

    def drive():
        report = []
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    get("/plain")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            for path, token in requests:
                report.append([*get(path, token), loaded()])
        finally:
            print("REPORT " + json.dumps(report), flush=True)
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=drive, daemon=True).start()
    sys.argv = ["lambic", *sys.argv[4:]]
    from lambic.__main__ import main
    main()
    """
)

AUTHORIZATION = [
    "lambic.runtime.authorization.gate",
    "lambic.runtime.authorization.cognito",
    "lambic.runtime.authorization.tokens",
    "lambic.runtime.authorization.sigv4",
]
NOT_USED = [
    "lambic.runtime.websocket_server",
    "lambic.runtime.connections_api",
    "lambic.runtime.sqs_poller",
    "lambic.runtime.stream_poller",
    "lambic.services.s3.service",
]


def run_local(tmp_path: Path, app: str, requests: list[tuple[str, str | None]]) -> list[Any]:
    """Serve `app` with `lambic local`; per request: status, JSON body, watched modules
    loaded in the process by then."""
    project = tmp_path / "project"
    (project / ".lambic").mkdir(parents=True)
    (project / "app.py").write_text(app)
    (project / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "deferred"})
    )
    port, services_port, ws_port = free_port(), free_port(), free_port()
    command = [sys.executable, "-c", PROBE, str(port), ",".join(AUTHORIZATION + NOT_USED)]
    command += [json.dumps(requests), "local", "--project-dir", str(project)]
    command += ["--port", str(port), "--no-reload"]
    command += ["--services-port", str(services_port), "--ws-port", str(ws_port)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, done.stdout + done.stderr
    report: list[Any] = json.loads(lines[-1].removeprefix("REPORT "))
    assert len(report) == len(requests), done.stdout + done.stderr
    return report


def test_an_app_without_authorizers_or_websockets_never_loads_their_code(
    tmp_path: Path,
) -> None:
    report = run_local(tmp_path, PLAIN_APP, [("/plain", None), ("/missing", None)])
    assert report == [
        [200, {"plain": True}, []],
        [403, {"message": "Missing Authentication Token"}, []],
    ]


def test_an_app_with_an_authorizer_is_guarded_as_before(tmp_path: Path) -> None:
    report = run_local(tmp_path, GUARDED_APP, [("/guarded", None), ("/guarded", "allow")])
    # 401 without a token (no call), then the authorizer's grant reaches the function;
    # the authorizers' code is loaded (at start: the routes name an authorizer), the
    # WebSocket server and the pollers still are not.
    assert report == [
        [401, {"message": "Unauthorized"}, sorted(AUTHORIZATION)],
        [200, {"who": "user-1"}, sorted(AUTHORIZATION)],
    ]
