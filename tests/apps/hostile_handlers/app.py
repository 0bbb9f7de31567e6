"""Handlers that try what a hostile or careless function would (issue 18, findings 8-9).

Each answers what it managed to do, so a test outside can assert what a user would
notice: files it could open, other processes' environments it could read, children
that outlive it.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
from typing import Any

from lambic.app import CORSConfig, Lambic

app = Lambic("hostile")

# A child's command line carries this token so a test can find it from outside.
_SLEEPER = "import time; time.sleep(600)"


def _attempt(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            fh.read(16)
    except OSError as exc:
        return type(exc).__name__
    return "read"


def _import_probe() -> str:
    """At import: try to open the path in import_probe.txt (the project's config)."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, "import_probe.txt")) as fh:
            target = fh.read().strip()
    except OSError:
        return "none"
    return _attempt(target)


# The outcome reaches the route table read from app.py, so the gateway's CORS preflight
# answer (served without invoking anything) says what the import-time code could open.
IMPORT_PROBE = _import_probe()


@app.route("/import-probe", cors=CORSConfig(allow_origin=f"https://{IMPORT_PROBE.lower()}.invalid"))
def import_probe() -> dict[str, str]:
    return {"import": IMPORT_PROBE}


@app.route("/read", methods=["POST"])
def read() -> dict[str, Any]:
    """Try to open each path; say which opened."""
    paths = app.current_request.json_body["paths"]
    return {path: _attempt(path) for path in paths}


def _readable_environs() -> list[int]:
    return [
        int(path.split("/")[2])
        for path in glob.glob("/proc/[0-9]*/environ")
        if _attempt(path) == "read"
    ]


@app.route("/environ")
def environ() -> dict[str, Any]:
    """Every /proc/<pid>/environ this handler can read, its own secrets, and the other
    function's (it runs in another environment: we invoke it through the Lambda API)."""
    import boto3

    answer = boto3.client("lambda").invoke(FunctionName="other", Payload=b"{}")
    other = json.loads(answer["Payload"].read())
    return {
        "pid": os.getpid(),
        "readable": _readable_environs(),
        "secret": os.environ.get("SECRET"),
        "other_secret": os.environ.get("OTHER_SECRET"),
        "other": other,
        "other_environ": _attempt(f"/proc/{other['pid']}/environ"),
    }


@app.lambda_function(name="other")
def other(event: Any, context: Any) -> dict[str, Any]:
    return {"pid": os.getpid(), "readable": _readable_environs()}


@app.route("/tmp", methods=["POST"])
def tmp() -> dict[str, Any]:
    """Write a file in /tmp, list /tmp, and try to write into the task root."""
    name = app.current_request.json_body["name"]
    with open(os.path.join("/tmp", name), "w") as fh:
        fh.write(name)
    try:
        with open("written-into-task-root", "w") as fh:
            fh.write("x")
        task_root = "written"
    except OSError as exc:
        task_root = type(exc).__name__
    return {
        "tmp": sorted(os.listdir("/tmp")),
        "task_root_write": task_root,
        "config_in_task_root": os.path.exists(".lambic/config.json"),
    }


def _double_fork(token: str) -> None:
    """A classic daemon: fork, setsid, fork again, exec; the middle process exits."""
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", _SLEEPER, token, "double-fork"])
        os._exit(0)
    os.waitpid(middle, 0)


@app.route("/spawn", methods=["POST"])
def spawn() -> dict[str, Any]:
    """Leave two children behind: a new-session Popen and a double-forked daemon."""
    body = app.current_request.json_body
    token = body["token"]
    subprocess.Popen(
        [sys.executable, "-c", _SLEEPER, token, "new-session"],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _double_fork(token)
    then = body.get("then")
    if then == "hang":  # past the function's timeout: the environment is killed
        time.sleep(600)
    if then == "balloon":  # past its memory: the environment is killed (OOM)
        time.sleep(1)  # (long enough for a test to see the children start)
        hog = []
        while True:
            hog.append(bytearray(16 * 1024 * 1024))
    return {"pid": os.getpid()}
