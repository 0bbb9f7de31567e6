"""Functions that call other functions through boto3's Lambda client, unchanged.

`GET /call` (function A as a route) and `caller` (A as a plain function) invoke
`worker` (B) with `boto3.client("lambda").invoke(...)`, which `lambic local` points at
its own Lambda API. `worker` appends every event it gets to `$OUT_DIR/worker.jsonl`
and fails when the event says `"fail": true`.
"""

import base64
import json
import os
from typing import Any

import boto3

from lambic import Lambic

app = Lambic(app_name="lambdaapi")


def _invoke(function: str, event: dict[str, Any], invocation_type: str) -> dict[str, Any]:
    response = boto3.client("lambda").invoke(
        FunctionName=function,
        InvocationType=invocation_type,
        LogType="Tail" if invocation_type == "RequestResponse" else "None",
        Payload=json.dumps(event).encode(),
    )
    body = response["Payload"].read()
    return {
        "status": response["StatusCode"],
        "function_error": response.get("FunctionError"),
        "version": response.get("ExecutedVersion"),
        "payload": json.loads(body) if body else None,
        "log": base64.b64decode(response.get("LogResult", "")).decode(),
    }


@app.route("/call")
def call() -> dict[str, Any]:
    params = app.current_request.query_params or {}
    event = {"from": "route", "tag": params.get("tag", ""), "fail": params.get("fail") == "1"}
    return _invoke("worker", event, params.get("type", "RequestResponse"))


@app.lambda_function(name="caller")
def caller(event: dict[str, Any], context: Any) -> dict[str, Any]:
    target = event.get("target", "worker")
    return _invoke(target, {"from": "caller", "tag": event.get("tag", "")}, event["type"])


@app.lambda_function(name="worker")
def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = os.path.join(os.environ["OUT_DIR"], "worker.jsonl")
    with open(path, "a", encoding="utf-8") as out:
        client = context.client_context
        custom = client.custom if client is not None else None
        line = {"event": event, "request_id": context.aws_request_id, "custom": custom}
        out.write(json.dumps(line) + "\n")
    print(f"worker got {event.get('tag')}")
    if event.get("fail"):
        raise ValueError(f"worker refused {event.get('tag')}")
    return {"echo": event, "role": os.environ.get("ROLE")}
