"""Turning an environment's outcome into Lambda's result, log lines and usage record.

Pure functions, no I/O: the invoker writes the lines (in order, after the
invocation's own output) and the usage record. The shapes are Lambda's:

    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB
           \tMax Memory Used: 40 MB[\tInit Duration: 12.34 ms]      (one line, tabs)
    <ts> <id> Task timed out after 3.00 seconds                      (after a timeout)
    RequestId: <id> Error: Runtime exited with error: exit status 1\nRuntime.ExitError
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from lambic.runtime.environment import InitOutcome, Outcome
from lambic.runtime.project import FunctionSettings
from lambic.runtime.results import InvocationResult
from lambic.runtime.usage import UsageRecord

__all__ = ["MAX_RESPONSE_PAYLOAD", "Report", "finish_report", "init_failure_report"]

# Lambda's own number for the largest synchronous response payload.
MAX_RESPONSE_PAYLOAD = 6291556


@dataclass(slots=True)
class Report:
    result: InvocationResult
    usage: UsageRecord
    lines: list[str] = field(default_factory=list)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode("utf-8")


def _end_and_report(
    settings: FunctionSettings,
    request_id: str,
    duration_ms: float,
    billed: int,
    max_mb: int,
    init_ms: float | None,
) -> list[str]:
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {settings.memory_size} MB\t"
        f"Max Memory Used: {max_mb} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    return [f"END RequestId: {request_id}", report]


def finish_report(
    settings: FunctionSettings,
    outcome: Outcome,
    request_id: str,
    duration_ms: float,
    init_ms: float | None,
    peak_rss_mb: float,
    now: float,
) -> Report:
    """The result and trailing log lines of an invocation that reached the handler."""
    status, payload, error_type = outcome.kind, outcome.payload, outcome.error_type
    timeout_ms = settings.timeout * 1000.0
    lines: list[str] = []
    trailer: str | None = None
    if status == "ok" and len(payload) > MAX_RESPONSE_PAYLOAD:
        status, error_type = "error", "Function.ResponseSizeTooLarge"
        payload = _error_payload(
            error_type,
            "Response payload size exceeded maximum allowed payload size "
            f"({MAX_RESPONSE_PAYLOAD} bytes).",
        )
    if status == "error" and outcome.log:
        lines.append(outcome.log)
    elif status == "timeout":
        duration_ms = max(duration_ms, timeout_ms)
        error_type = "Sandbox.Timedout"
        secs = f"{duration_ms / 1000:.2f}"
        payload = _error_payload(
            error_type, f"RequestId: {request_id} Error: Task timed out after {secs} seconds"
        )
        trailer = f"{_iso(now)} {request_id} Task timed out after {secs} seconds"
    elif status in ("oom", "crash"):
        error_type = "Runtime.OutOfMemory" if status == "oom" else "Runtime.ExitError"
        exit_text = "signal: killed" if status == "oom" else outcome.exit
        message = f"RequestId: {request_id} Error: Runtime exited with error: {exit_text}"
        payload = _error_payload(error_type, message)
        lines.append(f"{message}\n{error_type}")
    max_mb = max(outcome.max_memory_mb, math.ceil(peak_rss_mb))
    # Lambda bills the invocation rounded up to the ms, never past the timeout, and
    # (since August 2025) the init phase of a cold start as well.
    billed = math.ceil(min(duration_ms, timeout_ms) + (init_ms or 0.0))
    lines += _end_and_report(settings, request_id, duration_ms, billed, max_mb, init_ms)
    if trailer is not None:
        lines.append(trailer)
    cold = init_ms is not None
    return Report(
        InvocationResult(
            status, payload, error_type, request_id, duration_ms, billed, init_ms, max_mb,
            settings.memory_size, cold, settings.deployed_name,
        ),
        UsageRecord(
            settings.deployed_name, request_id, int(now * 1000), status, duration_ms, billed,
            settings.memory_size, max_mb, init_ms, cold,
        ),
        lines,
    )  # fmt: skip


def init_failure_report(
    settings: FunctionSettings,
    init: InitOutcome,
    request_id: str,
    peak_rss_mb: float,
    now: float,
) -> Report:
    """The result and log lines when init failed: the handler never ran."""
    lines: list[str] = []
    if init.kind == "error" and init.error is not None:
        error = {**init.error, "requestId": request_id}
        error_type = str(error["errorType"])
        payload = json.dumps(error).encode("utf-8")
        if init.log:
            lines.append(init.log)  # the init phase logs before START, as on Lambda
    elif init.kind == "timeout":
        error_type = "Sandbox.Timedout"
        secs = f"{init.init_ms / 1000:.2f}"
        payload = _error_payload(
            error_type, f"RequestId: {request_id} Error: Task timed out after {secs} seconds"
        )
    else:
        error_type = "Runtime.ExitError"
        message = f"RequestId: {request_id} Error: Runtime exited with error: {init.exit}"
        payload = _error_payload(error_type, message)
        lines.append(f"{message}\n{error_type}")
    status = {"error": "error", "timeout": "timeout"}.get(init.kind, "crash")
    lines.append(f"START RequestId: {request_id} Version: $LATEST")
    max_mb = math.ceil(peak_rss_mb)
    billed = math.ceil(init.init_ms)
    lines += _end_and_report(settings, request_id, 0.0, billed, max_mb, init.init_ms)
    return Report(
        InvocationResult(
            status, payload, error_type, request_id, 0.0, billed, init.init_ms, max_mb,
            settings.memory_size, True, settings.deployed_name,
        ),
        UsageRecord(
            settings.deployed_name, request_id, int(now * 1000), status, 0.0, billed,
            settings.memory_size, max_mb, init.init_ms, True,
        ),
        lines,
    )  # fmt: skip
