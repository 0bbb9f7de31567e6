"""Lambda's REST-JSON wire format: the responses and errors `lambda_api` sends.

Pure functions (plus one read of the log store for `LogType=Tail`), so every shape
is testable without a socket. AWS is the reference for each:

- an error is `x-amzn-ErrorType: <Code>` plus a JSON body `{"Type": "User",
  "message": ...}` (the model spells the key `Message` for ResourceNotFoundException
  and ServiceException); botocore reads the code from the header and the message from
  either spelling, so `client.exceptions.ResourceNotFoundException` is raised;
- Invoke answers the function's payload as the body, `X-Amz-Executed-Version:
  $LATEST`, `X-Amz-Function-Error: Unhandled` when the function failed (still 200),
  and with `LogType=Tail` the last 4 KB of the invocation's log (START..REPORT),
  base64-encoded, in `X-Amz-Log-Result`;
- a throttled invocation is 429 `TooManyRequestsException` with Lambda's `Reason`.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from typing import Protocol

from lambic.project.config import API_FUNCTION, FunctionSettings
from lambic.runtime._log_lines import start_line
from lambic.runtime.errors import LambicRuntimeError
from lambic.runtime.results import InvocationResult
from lambic.services.base import ServiceResponse

__all__ = [
    "LambdaApiError",
    "LogSource",
    "function_configuration",
    "get_function_response",
    "invoke_response",
    "list_functions_response",
    "read_log_tail",
    "render_error",
]

# Lambda returns at most the last 4 KB of the execution log with LogType=Tail.
TAIL_BYTES = 4096
# ListFunctions pages hold at most 50 functions, as AWS's do.
MAX_LIST_ITEMS = 50
_JSON = ("Content-Type", "application/json")


class LambdaApiError(LambicRuntimeError):
    """An error the Lambda API answers: its code, message and HTTP status."""

    def __init__(
        self, code: str, message: str, status: int, *, message_key: str = "message"
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.message_key = message_key

    @classmethod
    def from_runtime(cls, error: LambicRuntimeError) -> LambdaApiError:
        """The API's answer to one of the invoker's exceptions (they carry AWS's code)."""
        code = getattr(error, "error_code", "ServiceException")
        status = getattr(error, "status_code", 503)
        key = "Message" if code in ("ResourceNotFoundException", "ServiceException") else "message"
        return cls(str(code), str(error), int(status), message_key=key)


def render_error(error: LambdaApiError, request_id: str) -> ServiceResponse:
    """`x-amzn-ErrorType` + `{"Type": ..., "message": ...}`, as Lambda draws errors."""
    kind = "Service" if error.status >= 500 and error.code != "NotImplemented" else "User"
    body = {"Type": kind, error.message_key: error.message}
    headers = [_JSON, ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", error.code)]
    return ServiceResponse(error.status, headers, json.dumps(body).encode())


def invoke_response(result: InvocationResult, log_tail: str | None = None) -> ServiceResponse:
    """Lambda's answer to Invoke for one invocation's result."""
    headers = [("x-amzn-RequestId", result.request_id)]
    status = result.status_code
    if result.status == "throttled":
        headers += [_JSON, ("x-amzn-ErrorType", "TooManyRequestsException")]
        return ServiceResponse(429, headers, result.payload)
    if status in (202, 204):
        return ServiceResponse(status, headers, b"")
    headers += [_JSON, ("X-Amz-Executed-Version", "$LATEST")]
    if result.function_error is not None:
        headers.append(("X-Amz-Function-Error", result.function_error))
    if log_tail is not None:
        headers.append(("X-Amz-Log-Result", log_tail))
    return ServiceResponse(status, headers, result.payload)


def function_configuration(
    settings: FunctionSettings, arn: str, account_id: str, last_modified: str
) -> dict[str, object]:
    """GetFunctionConfiguration's body for a local function (always `$LATEST`)."""
    configuration: dict[str, object] = {
        "FunctionName": settings.deployed_name,
        "FunctionArn": arn,
        "Runtime": settings.runtime,
        "Role": f"arn:aws:iam::{account_id}:role/{_role_name(settings)}",
        "Handler": settings.handler,
        "CodeSize": 0,
        "Description": "",
        "Timeout": settings.timeout,
        "MemorySize": settings.memory_size,
        "LastModified": last_modified,
        "CodeSha256": "",
        "Version": "$LATEST",
        "TracingConfig": {"Mode": "PassThrough"},
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [settings.architecture],
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": settings.log_group},
    }
    # Lambda leaves Environment out when the function has no variables.
    if settings.environment_variables:
        configuration["Environment"] = {"Variables": dict(settings.environment_variables)}
    return configuration


def _role_name(settings: FunctionSettings) -> str:
    """Chalice's default role, shared by the app's functions: `<app>-<stage>`."""
    if settings.name == API_FUNCTION:
        return settings.deployed_name
    return settings.deployed_name.removesuffix(f"-{settings.name}")


def get_function_response(
    configuration: dict[str, object], settings: FunctionSettings
) -> ServiceResponse:
    body: dict[str, object] = {
        "Configuration": configuration,
        "Code": {"RepositoryType": "S3"},
    }
    if settings.tags:
        body["Tags"] = dict(settings.tags)
    if settings.reserved_concurrency is not None:
        body["Concurrency"] = {"ReservedConcurrentExecutions": settings.reserved_concurrency}
    return ServiceResponse(200, [_JSON], json.dumps(body).encode())


def list_functions_response(
    configurations: Sequence[dict[str, object]], marker: str | None, max_items: str | None
) -> ServiceResponse:
    """One page of ListFunctions; `NextMarker` is the index of the next page's first."""
    try:
        start = int(marker) if marker else 0
        size = min(int(max_items), MAX_LIST_ITEMS) if max_items else MAX_LIST_ITEMS
    except ValueError as exc:
        raise LambdaApiError(
            "InvalidParameterValueException",
            "Marker and MaxItems must be the values ListFunctions returned (whole numbers)",
            400,
        ) from exc
    page = list(configurations[start : start + max(size, 1)])
    body: dict[str, object] = {"Functions": page}
    if start + len(page) < len(configurations):
        body["NextMarker"] = str(start + len(page))
    return ServiceResponse(200, [_JSON], json.dumps(body).encode())


class LogSource(Protocol):
    """The invoker's log store, as far as the tail needs it."""

    @property
    def path(self) -> object: ...

    def flush(self, timeout: float = ...) -> None: ...


def read_log_tail(store: LogSource, log_group: str, request_id: str, since_ms: int) -> str:
    """Base64 of the last 4 KB of one invocation's log lines, START through REPORT.

    `since_ms`: no later than the invocation's START (it bounds the index scan).
    Blocking (it waits for the log writer's commit): run it in a thread.
    """
    store.flush()
    lines = _invocation_lines(str(store.path), log_group, request_id, since_ms)
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return base64.b64encode(text.encode("utf-8")[-TAIL_BYTES:]).decode("ascii")


def _invocation_lines(path: str, log_group: str, request_id: str, since_ms: int) -> list[str]:
    report = f"REPORT RequestId: {request_id}"
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            start = conn.execute(
                "SELECT id, log_stream FROM log_events WHERE log_group = ?"
                " AND timestamp_ms >= ? AND message = ? ORDER BY id DESC LIMIT 1",
                (log_group, since_ms, start_line(request_id)),
            ).fetchone()
            if start is None:
                return []
            lines: list[str] = []
            rows = conn.execute(
                "SELECT message FROM log_events WHERE log_group = ? AND log_stream = ?"
                " AND id >= ? ORDER BY id",
                (log_group, start[1], start[0]),
            )
            for (message,) in rows:
                lines.append(message)
                if message.startswith(report):
                    break
            return lines
    except sqlite3.Error:  # no log store yet, or a locked one: no tail rather than no answer
        return []
