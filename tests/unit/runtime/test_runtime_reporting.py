"""Lambda's result shapes and END/REPORT lines, from an environment's outcome."""

from __future__ import annotations

import json
import re

from lambic.project.config import FunctionSettings
from lambic.runtime._log_lines import expand_rows
from lambic.runtime._reporting import finish_report, init_failure_report
from lambic.runtime.environment import InitOutcome, Outcome

SETTINGS = FunctionSettings("f", "app-dev-f", "app.f", "lambda", 256, 3, None, {})
RID = "8f5c2f0e-6d0b-4d7e-9c1a-2b3c4d5e6f70"


def test_warm_report_has_no_init_duration_and_bills_whole_milliseconds_up() -> None:
    report = finish_report(
        SETTINGS, Outcome("ok", b'"hi"', max_memory_mb=41), RID, 1.234, None, 0, 0
    )
    assert report.lines == [
        f"END RequestId: {RID}",
        f"REPORT RequestId: {RID}\tDuration: 1.23 ms\tBilled Duration: 2 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 41 MB",
    ]
    assert report.result.status == "ok" and report.result.billed_ms == 2
    assert not report.result.cold_start and report.usage.cold_start is False


def test_cold_report_adds_init_duration_and_bills_the_init_phase() -> None:
    report = finish_report(SETTINGS, Outcome("ok", b"1"), RID, 0.5, 12.345, 40.2, 0)
    assert report.lines[-1].endswith("\tMax Memory Used: 41 MB\tInit Duration: 12.35 ms")
    assert report.result.billed_ms == 13 and report.result.cold_start


def test_timeout_is_billed_at_the_timeout_and_logged_after_the_report() -> None:
    report = finish_report(SETTINGS, Outcome("timeout"), RID, 3012.7, None, 30, 1_764_000_000.5)
    body = json.loads(report.result.payload)
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {RID} Error: Task timed out after 3.01 seconds",
    }
    assert report.result.billed_ms == 3000
    assert report.lines[0] == f"END RequestId: {RID}"
    assert re.fullmatch(
        rf"2025-11-24T16:00:00\.500Z {RID} Task timed out after 3\.01 seconds", report.lines[-1]
    )


def test_crash_and_oom_use_the_runtime_exit_error_shapes() -> None:
    crash = finish_report(SETTINGS, Outcome("crash", exit="exit status 2"), RID, 5, None, 30, 0)
    assert crash.result.error_type == "Runtime.ExitError"
    assert crash.lines[0] == (
        f"RequestId: {RID} Error: Runtime exited with error: exit status 2\nRuntime.ExitError"
    )
    oom = finish_report(SETTINGS, Outcome("oom"), RID, 5, None, 256.2, 0)
    assert oom.result.error_type == "Runtime.OutOfMemory" and oom.result.max_memory_mb == 257
    assert json.loads(oom.result.payload)["errorMessage"].endswith("signal: killed")


def test_an_oversized_response_becomes_a_function_error() -> None:
    report = finish_report(SETTINGS, Outcome("ok", b"x" * 6291557), RID, 1, None, 0, 0)
    assert report.result.status == "error"
    assert report.result.error_type == "Function.ResponseSizeTooLarge"


def test_init_error_logs_before_start_and_reports_init_duration() -> None:
    error = {
        "errorMessage": "Unable to import module 'app': boom",
        "errorType": "Runtime.ImportModuleError",
        "stackTrace": [],
    }
    init = InitOutcome(7.5, error, "[ERROR] Runtime.ImportModuleError: boom", kind="error")
    report = init_failure_report(SETTINGS, init, RID, 30, 0)
    assert report.lines[0].startswith("[ERROR] Runtime.ImportModuleError")
    assert report.lines[1] == f"START RequestId: {RID} Version: $LATEST"
    assert report.lines[-1].endswith("\tInit Duration: 7.50 ms")
    assert json.loads(report.result.payload)["requestId"] == RID
    assert report.result.status == "error" and report.usage.status == "error"


def test_a_plain_report_stored_as_a_record_expands_to_the_same_lines_and_usage() -> None:
    for init_ms in (None, 12.345):
        report = finish_report(SETTINGS, Outcome("ok", b"1"), RID, 0.5, init_ms, 40.2, 1.5)
        assert report.plain

        events, usage = expand_rows([report.record("/aws/lambda/app-dev-f", "s", 1000)])

        start = ("/aws/lambda/app-dev-f", "s", 1000, f"START RequestId: {RID} Version: $LATEST")
        assert events == [start] + [("/aws/lambda/app-dev-f", "s", 1500, x) for x in report.lines]
        assert usage == [tuple(report.usage)]


def test_a_record_whose_start_was_already_written_adds_only_end_and_report() -> None:
    report = finish_report(SETTINGS, Outcome("ok", b"1"), RID, 0.5, None, 40.2, 0)
    events, _ = expand_rows([("g", "s", 1, "output"), report.record("g", "s", None)])
    assert [e[3] for e in events] == ["output", *report.lines]


def test_failed_invocations_are_not_plain() -> None:
    assert not finish_report(SETTINGS, Outcome("timeout"), RID, 3000, None, 30, 0).plain
    assert not finish_report(SETTINGS, Outcome("crash", exit="x"), RID, 5, None, 30, 0).plain
