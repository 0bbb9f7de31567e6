"""Execution environments through the invoker: real zygote, real forked processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lambic.project.config import parse_config
from lambic.runtime import (
    FunctionEntry,
    FunctionNotFoundError,
    InvalidRequestContentError,
    InvocationResult,
    Invoker,
    LogEvent,
    RequestTooLargeError,
    create_invoker,
    create_project,
    load_project,
)
from lambic.runtime._cpu_hold import HOLD_AFTER
from lambic.runtime.zygote import DEFAULT_PRELOAD, Zygote
from tests._support.logs import make_busy
from tests._support.processes import alive

APPS = Path(__file__).resolve().parents[2] / "apps"
HANDLERS = [
    "hello",
    "environ",
    "describe_context",
    "boom",
    "chatty",
    "sleepy",
    "hog",
    "exit_hard",
    "segfault",
    "not_json",
    "pid",
    "big_response",
    "boto_client",
    "files_a_client_reads",
    "search_path",
    "no_newline",
    "sched_policy",
    "cpus",
]
T = TypeVar("T")
LIGHT_PRELOAD = ("json", "logging", "lambic.app")


def run(coro: Awaitable[T], timeout: float = 30.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def make_project(tmp_path: Path, config: dict[str, Any] | None = None, **extra: str) -> Any:
    root = tmp_path / "fns"
    if not root.exists():
        shutil.copytree(APPS / "runtime_handlers", root)
    entries = [FunctionEntry(name, f"handlers.{name}") for name in HANDLERS]
    entries += [FunctionEntry(name, handler) for name, handler in extra.items()]
    return create_project(root, "demo", entries, config=parse_config(config or {}))


async def with_invoker(project: Any, body: Callable[[Invoker], Awaitable[T]], **kwargs: Any) -> T:
    # The default preload (boto3 and its service models) costs ~0.5 s per zygote; only
    # the tests about boto3 need it.
    kwargs.setdefault("preload", LIGHT_PRELOAD)
    invoker = create_invoker(project, "dev", **kwargs)
    try:
        return await body(invoker)
    finally:
        await invoker.aclose(2.0)


def payload(result: InvocationResult) -> Any:
    return json.loads(result.payload)


def test_first_invocation_is_cold_and_the_next_is_warm_in_the_same_process(
    tmp_path: Path,
) -> None:
    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult]:
        return await inv.invoke("hello", b'{"n": 1}'), await inv.invoke("hello", b'{"n": 2}')

    first, second = run(with_invoker(make_project(tmp_path), body))
    assert first.status == "ok" and first.cold_start and first.init_ms is not None
    assert not second.cold_start and second.init_ms is None
    assert payload(first)["pid"] == payload(second)["pid"] == payload(first)["init_pid"]
    assert payload(second)["event"] == {"n": 2}
    assert first.function_name == "demo-dev-hello"
    assert first.billed_ms >= 1 and first.memory_size_mb == 128 and first.max_memory_mb > 0


def test_environment_has_lambda_variables_then_extra_env_then_config(tmp_path: Path) -> None:
    config = {
        "environment_variables": {"TABLE": "top", "AWS_ENDPOINT_URL": "http://user"},
        "lambda_memory_size": 256,
        "stages": {"dev": {"environment_variables": {"STAGE_ONLY": "yes"}}},
    }
    project = make_project(tmp_path, config)

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("environ", b"{}")

    env = payload(run(with_invoker(project, body, extra_env={"AWS_ENDPOINT_URL": "http://x"})))
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "demo-dev-environ"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/demo-dev-environ"
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert env["_HANDLER"] == "handlers.environ"
    assert env["LAMBDA_TASK_ROOT"] == str(project.project_dir)
    assert env["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert env["TZ"] == ":UTC"
    assert env["TABLE"] == "top" and env["STAGE_ONLY"] == "yes"
    # The user's own config wins over what the platform injects (extra_env).
    assert env["AWS_ENDPOINT_URL"] == "http://user"


def test_context_has_lambda_fields_and_remaining_time_counts_down(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"lambda_timeout": 7})

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("describe_context", b"{}", client_context={"custom": {"k": "v"}})

    result = run(with_invoker(project, body))
    ctx = payload(result)
    assert ctx["aws_request_id"] == result.request_id
    assert ctx["function_name"] == "demo-dev-describe_context"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == (
        "arn:aws:lambda:us-east-1:000000000000:function:demo-dev-describe_context"
    )
    assert ctx["memory_limit_in_mb"] == "128"
    assert ctx["log_group_name"] == "/aws/lambda/demo-dev-describe_context"
    assert 6000 < ctx["remaining_ms"] <= 7000
    assert ctx["identity"] is None
    assert ctx["client_context"] == {"k": "v"}
    assert ctx["cwd"] == str(project.project_dir)


def test_handler_exception_returns_lambda_error_payload_and_logs_it(tmp_path: Path) -> None:
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("boom", b'{"why": "testing"}')

    result = run(with_invoker(make_project(tmp_path), body, log_sink=events.append))
    assert result.status == "error" and result.function_error == "Unhandled"
    error = payload(result)
    assert error["errorType"] == "ValueError" == result.error_type
    assert error["errorMessage"] == "boom: testing"
    assert error["requestId"] == result.request_id
    assert "handlers.py" in error["stackTrace"][0] and "in boom" in error["stackTrace"][0]
    messages = [e.message for e in events]
    assert any(m.startswith("[ERROR] ValueError: boom: testing\nTraceback") for m in messages)


def test_stdout_stderr_logging_and_raw_fd_writes_land_between_start_and_end(
    tmp_path: Path,
) -> None:
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("chatty", b"{}")

    result = run(with_invoker(make_project(tmp_path), body, log_sink=events.append))
    rid = result.request_id
    messages = [e.message for e in events]
    start = messages.index(f"START RequestId: {rid} Version: $LATEST")
    end = messages.index(f"END RequestId: {rid}")
    inside = messages[start + 1 : end]
    assert "to stdout" in inside and "to stderr" in inside and "raw fd write" in inside
    warning = next(m for m in inside if m.startswith("[WARNING]"))
    assert re.fullmatch(
        rf"\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\ta warning\nsecond line",
        warning,
    )
    report = messages[end + 1]
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms",
        report,
    )
    # Output of the init phase comes before START, as Lambda logs it.
    assert messages.index("init: handlers imported") < start


def test_logs_and_usage_are_stored_per_function_in_the_state_database(tmp_path: Path) -> None:
    project = make_project(tmp_path)

    async def body(inv: Invoker) -> list[InvocationResult]:
        return [await inv.invoke("hello", b"{}") for _ in range(2)]

    results = run(with_invoker(project, body))
    db = project.project_dir / ".lambic" / "state" / "dev" / "logs.sqlite3"
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT log_group, log_stream, message FROM log_events ORDER BY id"
    ).fetchall()
    assert {r[0] for r in rows} == {"/aws/lambda/demo-dev-hello"}
    assert len({r[1] for r in rows}) == 1  # one environment, one stream
    warm_report = [
        r[2] for r in rows if r[2].startswith(f"REPORT RequestId: {results[1].request_id}")
    ]
    assert len(warm_report) == 1 and "Init Duration" not in warm_report[0]
    usage = conn.execute(
        "SELECT function_name, request_id, status, cold_start, memory_size_mb FROM usage"
        " ORDER BY id"
    ).fetchall()
    assert usage == [
        ("demo-dev-hello", results[0].request_id, "ok", 1, 128),
        ("demo-dev-hello", results[1].request_id, "ok", 0, 128),
    ]
    conn.close()


def test_timeout_kills_the_environment_and_logs_task_timed_out(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"lambda_timeout": 1})
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult, InvocationResult]:
        first = await inv.invoke("pid", b"{}")
        timed_out = await inv.invoke("pid", b'{"hold": 5}')
        return first, timed_out, await inv.invoke("pid", b"{}")

    started = time.monotonic()
    first, timed_out, after = run(with_invoker(project, body, log_sink=events.append))
    first_pid = payload(first)
    assert time.monotonic() - started < 4.5
    assert after.status == "ok" and after.cold_start and payload(after) != first_pid
    assert timed_out.status == "timeout" and timed_out.error_type == "Sandbox.Timedout"
    assert payload(timed_out)["errorMessage"].startswith(
        f"RequestId: {timed_out.request_id} Error: Task timed out after 1.0"
    )
    assert not alive(first_pid)
    line = re.compile(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {timed_out.request_id} "
        r"Task timed out after 1\.0\d seconds"
    )
    assert any(line.fullmatch(e.message) for e in events)
    assert timed_out.billed_ms == 1000


def test_memory_above_the_limit_kills_with_out_of_memory(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"lambda_memory_size": 128})
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult]:
        return await inv.invoke("hog", b'{"mb": 400}'), await inv.invoke("hello", b"{}")

    oom, after = run(with_invoker(project, body, log_sink=events.append))
    assert oom.status == "oom" and oom.error_type == "Runtime.OutOfMemory"
    assert payload(oom)["errorMessage"] == (
        f"RequestId: {oom.request_id} Error: Runtime exited with error: signal: killed"
    )
    assert oom.max_memory_mb > 128
    assert any(e.message.endswith("\nRuntime.OutOfMemory") for e in events)
    assert after.status == "ok" and after.cold_start


def test_os_exit_is_a_crash_and_the_next_invocation_gets_a_fresh_environment(
    tmp_path: Path,
) -> None:
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult]:
        return await inv.invoke("exit_hard", b'{"code": 3}'), await inv.invoke(
            "exit_hard", b'{"code": 4}'
        )

    crash, again = run(with_invoker(make_project(tmp_path), body, log_sink=events.append))
    assert crash.status == "crash" and crash.error_type == "Runtime.ExitError"
    assert payload(crash)["errorMessage"] == (
        f"RequestId: {crash.request_id} Error: Runtime exited with error: exit status 3"
    )
    assert again.cold_start and "exit status 4" in payload(again)["errorMessage"]
    messages = [e.message for e in events]
    assert "about to exit" in messages
    assert (
        f"RequestId: {crash.request_id} Error: Runtime exited with error: exit status 3"
        "\nRuntime.ExitError"
    ) in messages


def test_segfault_is_a_crash_reported_with_the_signal(tmp_path: Path) -> None:
    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("segfault", b"{}")

    result = run(with_invoker(make_project(tmp_path), body))
    assert result.status == "crash"
    assert payload(result)["errorMessage"].endswith("signal: segmentation fault")


def test_reserved_concurrency_throttles_instead_of_queueing(tmp_path: Path) -> None:
    config = {"lambda_functions": {"pid": {"reserved_concurrency": 2}}}

    async def body(inv: Invoker) -> list[InvocationResult]:
        calls = [inv.invoke("pid", b'{"hold": 0.6}') for _ in range(50)]
        return list(await asyncio.gather(*calls))

    started = time.monotonic()
    results = run(with_invoker(make_project(tmp_path, config), body))
    assert time.monotonic() - started < 5  # every call answered at once, none queued
    statuses = [r.status for r in results]
    assert statuses.count("ok") == 2 and statuses.count("throttled") == 48
    throttled = next(r for r in results if r.status == "throttled")
    assert throttled.error_type == "TooManyRequestsException" and throttled.status_code == 429
    assert payload(throttled) == {
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
        "message": "Rate Exceeded.",
    }
    assert len({payload(r) for r in results if r.status == "ok"}) == 2


def test_a_lone_invocation_may_preempt_and_concurrent_ones_wait_their_turn(
    tmp_path: Path,
) -> None:
    # A lone invocation is latency-bound: its environment runs SCHED_OTHER, so it
    # preempts on wakeup; while others are in flight, SCHED_BATCH (the gateway first).
    async def body(inv: Invoker) -> tuple[list[InvocationResult], InvocationResult]:
        calls = [inv.invoke("sched_policy", b'{"hold": 0.4}') for _ in range(2)]
        together = list(await asyncio.gather(*calls))
        return together, await inv.invoke("sched_policy", b"{}")

    together, alone = run(with_invoker(make_project(tmp_path), body))
    assert [payload(r) for r in together] == [os.SCHED_BATCH, os.SCHED_BATCH]
    assert not alone.cold_start and payload(alone) == os.SCHED_OTHER


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to choose between")
def test_a_lone_invocation_runs_on_the_event_loops_cpu_and_concurrent_ones_on_any(
    tmp_path: Path,
) -> None:
    # After a streak of lone invocations, a short one runs on one CPU, the loop's
    # (`_cpu_hold`); the loop's thread is free again after it. A long one is let go by
    # the watchdog (after 20 ms), and invocations among others run anywhere.
    allowed = sorted(os.sched_getaffinity(0))

    async def body(inv: Invoker) -> tuple[list[Any], list[int], Any, list[Any]]:
        for _ in range(HOLD_AFTER - 1):  # one at a time, as from one connection
            await inv.invoke("cpus", b"{}")
        short = [payload(await inv.invoke("cpus", b"{}")) for _ in range(5)]
        after = sorted(os.sched_getaffinity(0))
        long = payload(await inv.invoke("cpus", b'{"hold": 0.2}'))
        calls = [inv.invoke("cpus", b'{"hold": 0.2}') for _ in range(2)]
        together = [payload(r) for r in await asyncio.gather(*calls)]
        return short, after, long, together

    short, after, long, together = run(with_invoker(make_project(tmp_path), body))
    # (One slowed past 20 ms by a loaded machine may be let go before it reads.)
    assert all(len(cpus) == 1 or cpus == allowed for cpus in short)
    assert sum(len(cpus) == 1 for cpus in short) >= 3
    assert after == allowed
    assert long == allowed
    # One of the two reuses the environment that was held: both run anywhere.
    assert together == [allowed, allowed]


def test_account_concurrency_limits_unreserved_functions(tmp_path: Path) -> None:
    config = {"local": {"account_concurrency": 1}}

    async def body(inv: Invoker) -> list[InvocationResult]:
        return list(
            await asyncio.gather(inv.invoke("pid", b'{"hold": 0.5}'), inv.invoke("hello", b"{}"))
        )

    slow, other = run(with_invoker(make_project(tmp_path, config), body))
    assert slow.status == "ok"
    assert other.status == "throttled"
    assert payload(other)["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_idle_environments_are_reclaimed_after_the_idle_timeout(tmp_path: Path) -> None:
    config = {"local": {"idle_timeout_seconds": 0.3}}

    async def body(inv: Invoker) -> tuple[int, bool, InvocationResult]:
        first = await inv.invoke("pid", b"{}")
        env_pid = payload(first)
        deadline = time.monotonic() + 5
        while alive(env_pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return env_pid, alive(env_pid), await inv.invoke("pid", b"{}")

    env_pid, still_there, after = run(with_invoker(make_project(tmp_path, config), body))
    assert not still_there
    assert after.cold_start and payload(after) != env_pid


def test_aclose_kills_in_flight_work_and_leaves_no_process(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    pids: list[int] = []

    async def scenario() -> InvocationResult:
        invoker = create_invoker(project, "dev", preload=LIGHT_PRELOAD)
        pids.append(invoker._zygote.pid)
        make_busy(invoker.store)  # its writer process started
        assert invoker.store._writer is not None
        pids.append(invoker.store._writer.pid)
        for _ in range(2):
            pids.append(payload(await invoker.invoke("pid", b"{}")))
        slow = asyncio.ensure_future(invoker.invoke("sleepy", b'{"seconds": 30}'))
        await asyncio.sleep(0.5)
        await invoker.aclose(0.5)
        return await slow

    started = time.monotonic()
    slow = run(scenario())
    assert time.monotonic() - started < 10
    assert slow.status == "crash"
    assert pids and not [pid for pid in pids if alive(pid)]


def test_import_errors_come_back_in_lambdas_shapes(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        missing_module="broken_import.handler",
        missing_handler="handlers.no_such_function",
        not_callable="handlers.not_callable",
        syntax="broken_syntax.handler",
        malformed="handlers",
    )
    shutil.copy(project.project_dir / "broken_syntax.txt", project.project_dir / "broken_syntax.py")

    async def body(inv: Invoker) -> dict[str, InvocationResult]:
        names = ["missing_module", "missing_handler", "not_callable", "syntax", "malformed"]
        return {name: await inv.invoke(name, b"{}") for name in names}

    results = run(with_invoker(project, body))
    assert {k: r.status for k, r in results.items()} == dict.fromkeys(results, "error")
    missing = payload(results["missing_module"])
    assert missing["errorType"] == "Runtime.ImportModuleError"
    assert missing["errorMessage"] == (
        "Unable to import module 'broken_import': No module named 'module_that_does_not_exist'"
    )
    assert payload(results["missing_handler"])["errorMessage"] == (
        "Handler 'no_such_function' missing on module 'handlers'"
    )
    assert results["not_callable"].error_type == "Runtime.HandlerNotFound"
    syntax = payload(results["syntax"])
    assert syntax["errorType"] == "Runtime.UserCodeSyntaxError"
    assert "(broken_syntax.py, line 1)" in syntax["errorMessage"]
    assert results["malformed"].error_type == "Runtime.MalformedHandlerName"
    assert all(r.cold_start and r.init_ms is not None for r in results.values())


def test_unserializable_result_is_a_marshal_error(tmp_path: Path) -> None:
    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("not_json", b"{}")

    result = run(with_invoker(make_project(tmp_path), body))
    assert result.error_type == "Runtime.MarshalError"
    assert payload(result)["errorMessage"].startswith("Unable to marshal response: Object of type")


def test_bad_payload_and_unknown_function_raise_lambda_api_errors(tmp_path: Path) -> None:
    async def body(inv: Invoker) -> tuple[str, str, InvocationResult]:
        with pytest.raises(InvalidRequestContentError) as bad:
            await inv.invoke("hello", b"{not json")
        with pytest.raises(FunctionNotFoundError) as missing:
            await inv.invoke("nope", b"{}")
        ok = await inv.invoke("arn:aws:lambda:us-east-1:000000000000:function:demo-dev-hello", b"")
        return str(bad.value), str(missing.value), ok

    bad, missing, ok = run(with_invoker(make_project(tmp_path), body))
    assert "Could not parse request body into json" in bad
    assert missing.startswith("Function not found: nope")
    assert ok.status == "ok" and payload(ok)["event"] == {}


def test_reload_runs_new_code_while_in_flight_work_finishes_on_the_old(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    module = project.project_dir / "handlers.py"

    events: list[LogEvent] = []

    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult, InvocationResult]:
        in_flight = asyncio.ensure_future(inv.invoke("sleepy", b'{"seconds": 0.5}'))
        while "going to sleep" not in [e.message for e in events]:  # old code is running
            await asyncio.sleep(0.01)
        module.write_text(module.read_text().replace('return "woke up"', 'return "new code"'))
        await inv.reload(project)
        fresh = await inv.invoke("sleepy", b'{"seconds": 0}')
        return await in_flight, fresh, await inv.invoke("sleepy", b'{"seconds": 0}')

    old, fresh, warm = run(with_invoker(project, body, log_sink=events.append))
    assert payload(old) == "woke up"
    assert payload(fresh) == "new code" and fresh.cold_start
    assert payload(warm) == "new code" and not warm.cold_start


def test_event_invocation_is_accepted_then_runs_in_the_background(tmp_path: Path) -> None:
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> InvocationResult:
        accepted = await inv.invoke("hello", b'{"async": true}', invocation_type="Event")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            e.message.startswith(f"END RequestId: {accepted.request_id}") for e in events
        ):
            await asyncio.sleep(0.02)
        return accepted

    accepted = run(with_invoker(make_project(tmp_path), body, log_sink=events.append))
    assert accepted.status == "accepted" and accepted.status_code == 202
    assert f"END RequestId: {accepted.request_id}" in [e.message for e in events]


def test_a_lambic_app_serves_routes_and_pure_functions_with_stage_config(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(APPS / "runtime_lambic", root)
    project = load_project(root)
    event = {
        "resource": "/users/{user_id}",
        "path": "/users/42",
        "httpMethod": "GET",
        "headers": {"Host": "localhost"},
        "multiValueHeaders": {"Host": ["localhost"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"user_id": "42"},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/users/{user_id}",
            "httpMethod": "GET",
            "stage": "api",
            "requestId": "r",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult]:
        route = await inv.invoke("api_handler", json.dumps(event).encode())
        worker = await inv.invoke("runtime-demo-dev-worker", b'{"job": 1}')
        return route, worker

    route, worker = run(with_invoker(project, body, log_sink=events.append))
    assert route.status == "ok" and route.function_name == "runtime-demo-dev"
    response = payload(route)
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"user": "42"}
    assert payload(worker) == {"worker": {"job": 1}, "memory": "256"}
    assert worker.memory_size_mb == 256
    assert any("worker saw {'job': 1}" in e.message for e in events)


def test_concurrent_cold_starts_all_answer_under_uvloop(tmp_path: Path) -> None:
    uvloop = pytest.importorskip("uvloop")
    project = make_project(tmp_path)

    async def body(inv: Invoker) -> list[InvocationResult]:
        calls = [inv.invoke("pid", b'{"hold": 0.05}') for _ in range(8)]
        return list(await asyncio.gather(*calls))

    async def bounded() -> list[InvocationResult]:
        return await asyncio.wait_for(with_invoker(project, body), 30)

    results = uvloop.run(bounded())
    assert [r.status for r in results] == ["ok"] * 8
    assert all(r.cold_start for r in results)
    assert len({payload(r) for r in results}) == 8


def test_payload_limits_are_lambdas_six_mb_sync_one_mb_event_and_response(tmp_path: Path) -> None:
    big_event = b'"' + b"x" * (6 * 1024 * 1024) + b'"'

    async def body(inv: Invoker) -> tuple[str, str, InvocationResult]:
        with pytest.raises(RequestTooLargeError) as sync:
            await inv.invoke("hello", big_event)
        with pytest.raises(RequestTooLargeError) as event:
            await inv.invoke("hello", big_event[: 1024 * 1024 + 10], invocation_type="Event")
        return str(sync.value), str(event.value), await inv.invoke("big_response", b"{}")

    sync, event, response = run(with_invoker(make_project(tmp_path), body))
    assert sync == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    assert "1048576 bytes" in event
    assert response.status == "error" and response.error_type == "Function.ResponseSizeTooLarge"
    assert payload(response)["errorMessage"] == (
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    )


def test_reserved_concurrency_is_carved_out_of_the_account_pool(tmp_path: Path) -> None:
    config = {
        "local": {"account_concurrency": 3},
        "lambda_functions": {"pid": {"reserved_concurrency": 2}},
    }

    async def body(inv: Invoker) -> list[InvocationResult]:
        calls = [inv.invoke("sleepy", b'{"seconds": 0.4}') for _ in range(2)]
        return list(await asyncio.gather(*calls))

    results = run(with_invoker(make_project(tmp_path, config), body))
    assert sorted(r.status for r in results) == ["ok", "throttled"]


def test_a_killed_zygote_is_replaced_on_the_next_cold_start(tmp_path: Path) -> None:
    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult]:
        first = await inv.invoke("pid", b"{}")
        os.kill(inv._zygote.pid, 9)
        deadline = time.monotonic() + 5
        while alive(payload(first)) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        return first, await inv.invoke("pid", b"{}")

    first, after = run(with_invoker(make_project(tmp_path), body))
    assert after.status == "ok" and after.cold_start
    assert payload(after) != payload(first)


def test_the_first_environment_shares_the_zygotes_groundwork(tmp_path: Path) -> None:
    # `lambic local`'s zygote builds no client before its first request; an environment
    # forked at once would load endpoints.json and the first listed service's models for
    # its first client and keep those copies (~8 MB of its own memory): the zygote lays
    # that groundwork before the fork.
    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("files_a_client_reads", b'{"services": ["sts", "sqs"]}')

    held = Zygote(("json", "lambic.app", "boto3:sts;sns"), hold_warm=True)
    read = payload(run(with_invoker(make_project(tmp_path), body, zygote=held)))
    assert read["sts"] == []  # the endpoint data and the first service: shared
    assert "service-2" in read["sqs"]  # never warmed: its model is read
    assert "endpoints" not in read["sqs"]


def test_code_that_does_not_import_boto3_does_not_wait_for_its_groundwork(
    tmp_path: Path,
) -> None:
    # The first cold start of such code is forked at once (the groundwork: ~45 ms); the
    # handler looks at the zygote's boto3 without importing it (that would count).
    root = tmp_path / "plain"
    root.mkdir()
    (root / "probe.py").write_text(
        "import sys\n\n"
        "def handler(event, context):\n"
        "    return sys.modules['boto3'].DEFAULT_SESSION is None\n"
    )
    project = create_project(root, "plain", [FunctionEntry("probe", "probe.handler")])

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("probe", b"{}")

    held = Zygote(("json", "lambic.app", "boto3:sts"), hold_warm=True)
    assert payload(run(with_invoker(project, body, zygote=held))) is True


def test_environments_find_lambics_event_half_already_imported(tmp_path: Path) -> None:
    # Any app with a schedule or an event handler imports it; each environment importing
    # it again made ~1 MB of the zygote's pages its own, and took ~1.5 ms of its init.
    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("preloaded", b"{}")

    project = make_project(tmp_path, preloaded="preloaded.handler")
    result = run(with_invoker(project, body, preload=DEFAULT_PRELOAD))
    assert payload(result) == [
        "lambic.app.event_sources",
        "lambic.app.events",
        "lambic.app.schedules",
    ]


def test_boto3_clients_use_the_environments_endpoint_region_and_keys_not_the_preloads(
    tmp_path: Path,
) -> None:
    extra = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_ACCESS_KEY_ID": "local-key",
        "AWS_SECRET_ACCESS_KEY": "local-secret",
    }

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("boto_client", b'{"service": "sqs"}')

    result = run(
        with_invoker(
            make_project(tmp_path),
            body,
            extra_env=extra,
            region="eu-west-1",
            preload=DEFAULT_PRELOAD,
        )
    )
    assert payload(result) == {
        "endpoint": "http://127.0.0.1:4566",
        "region": "eu-west-1",
        "access_key": "local-key",
    }


def test_trace_id_is_set_for_its_invocation_only(tmp_path: Path) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    async def body(inv: Invoker) -> tuple[InvocationResult, InvocationResult]:
        traced = await inv.invoke("describe_context", b"{}", trace_id=trace)
        return traced, await inv.invoke("describe_context", b"{}")

    traced, plain = run(with_invoker(make_project(tmp_path), body))
    assert payload(traced)["trace_id"] == trace
    assert payload(plain)["trace_id"] is None


def test_a_failing_event_invocation_is_retried_twice_with_the_same_request_id(
    tmp_path: Path,
) -> None:
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> InvocationResult:
        accepted = await inv.invoke("boom", b"{}", invocation_type="Event")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(reports(accepted.request_id)) < 3:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # a fourth attempt would show up here
        return accepted

    def reports(request_id: str) -> list[str]:
        return [
            e.message for e in events if e.message.startswith(f"REPORT RequestId: {request_id}")
        ]

    project = make_project(tmp_path)
    accepted = run(
        with_invoker(project, body, log_sink=events.append, async_retry_delays=(0.05, 0.1))
    )
    assert len(reports(accepted.request_id)) == 3


def test_the_task_root_is_first_on_sys_path_and_the_callers_cwd_is_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    project = make_project(tmp_path)

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("search_path", b"{}")

    path = payload(run(with_invoker(project, body)))
    assert path[0] == str(project.project_dir)
    assert str(elsewhere) not in path and "" not in path


def test_a_cancelled_invocation_discards_its_environment(tmp_path: Path) -> None:
    async def body(inv: Invoker) -> tuple[int, InvocationResult]:
        first = payload(await inv.invoke("pid", b"{}"))
        task = asyncio.ensure_future(inv.invoke("pid", b'{"hold": 1}'))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return first, await inv.invoke("pid", b"{}")

    first, after = run(with_invoker(make_project(tmp_path), body))
    assert after.status == "ok" and after.cold_start and payload(after) != first
    assert not alive(first)


def test_output_without_a_final_newline_is_logged_before_end(tmp_path: Path) -> None:
    events: list[LogEvent] = []

    async def body(inv: Invoker) -> InvocationResult:
        return await inv.invoke("no_newline", b"{}")

    result = run(with_invoker(make_project(tmp_path), body, log_sink=events.append))
    messages = [e.message for e in events]
    assert messages.index("no newline at the end") < messages.index(
        f"END RequestId: {result.request_id}"
    )
