"""Turning an environment's outcome into Lambda's result, log lines and usage record.

Pure functions, no I/O: the invoker writes the lines (in order, after the
invocation's own output) and the usage record. END and REPORT are formatted by
`_log_lines`; around them a failed invocation adds Lambda's own lines:

    <error log line>                                                 (before END)
    RequestId: <id> Error: Runtime exited with error: exit status 1\nRuntime.ExitError
    <ts> <id> Task timed out after 3.00 seconds                      (after REPORT)

A `Report` formats its lines only when asked: for a plain success the invoker hands
the figures to the log writer process instead (see `_log_lines.InvocationRecord`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from lambic.project.config import FunctionSettings
from lambic.runtime._log_lines import InvocationRecord, end_and_report, start_line
from lambic.runtime.environment import InitOutcome, Outcome
from lambic.runtime.results import InvocationResult
from lambic.runtime.usage import UsageRecord

__all__ = ["MAX_RESPONSE_PAYLOAD", "Report", "finish_report", "init_failure_report"]

# Lambda's own number for the largest synchronous response payload.
MAX_RESPONSE_PAYLOAD = 6291556


@dataclass(slots=True)
class Report:
    result: InvocationResult
    timestamp_ms: int
    before: list[str] = field(default_factory=list)  # lines before END
    after: list[str] = field(default_factory=list)  # lines after REPORT

    @property
    def plain(self) -> bool:
        """Only END and REPORT: a record the log writer can expand by itself."""
        return not self.before and not self.after

    def record(self, log_group: str, log_stream: str, start_ms: int | None) -> InvocationRecord:
        """This report for the log writer to expand (only when `plain`); `start_ms` is
        the START line's time if it is not written yet."""
        r = self.result
        return (
            log_group, log_stream, start_ms, self.timestamp_ms, r.request_id, r.duration_ms,
            r.billed_ms, r.memory_size_mb, r.max_memory_mb, r.init_ms, r.function_name, r.status,
        )  # fmt: skip

    @property
    def lines(self) -> list[str]:
        r = self.result
        trailer = end_and_report(
            r.request_id, r.duration_ms, r.billed_ms, r.memory_size_mb, r.max_memory_mb, r.init_ms
        )
        return [*self.before, *trailer, *self.after]

    @property
    def usage(self) -> UsageRecord:
        r = self.result
        return UsageRecord(
            r.function_name, r.request_id, self.timestamp_ms, r.status, r.duration_ms,
            r.billed_ms, r.memory_size_mb, r.max_memory_mb, r.init_ms, r.cold_start,
        )  # fmt: skip


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode("utf-8")


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
    return Report(
        InvocationResult(
            status, payload, error_type, request_id, duration_ms, billed, init_ms, max_mb,
            settings.memory_size, init_ms is not None, settings.deployed_name,
        ),
        int(now * 1000),
        lines,
        [trailer] if trailer is not None else [],
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
    lines.append(start_line(request_id))
    max_mb = math.ceil(peak_rss_mb)
    billed = math.ceil(init.init_ms)
    return Report(
        InvocationResult(
            status, payload, error_type, request_id, 0.0, billed, init.init_ms, max_mb,
            settings.memory_size, True, settings.deployed_name,
        ),
        int(now * 1000),
        lines,
    )  # fmt: skip
