"""Inside an execution environment: the Lambda runtime loop of one forked process.

The zygote forks, and the child calls `run_environment(spec, sock, log_fd)`:

1. die with the zygote (PR_SET_PDEATHSIG), send fds 1 and 2 to the log pipe,
   wall the process in (`_isolation.enter`: namespaces, private /tmp, Landlock),
   replace the environment with the function's, chdir to the task root; under
   `lambic local` with a WebSocket API, keep @connections calls for it local
   (`_management_redirect`);
2. init: import the handler module and resolve the handler (timed: Init Duration),
   report READY (with Lambda's Runtime.* error payload if init failed);
3. loop: read INVOKE, call `handler(event, context)`, write RESULT. One at a time.

It never returns: the process ends with `os._exit`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import resource
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from lambic._start_trace import stamp
from lambic.runtime import _isolation, _management_redirect
from lambic.runtime._ipc import (
    INVOKE,
    INVOKE_FAST,
    READY,
    RESULT,
    RESULT_OK,
    BlockingFrameSocket,
)
from lambic.runtime._namespaces import set_parent_death_signal
from lambic.runtime.context import LambdaContext

__all__ = ["run_environment", "set_parent_death_signal"]


Handler = Callable[[Any, Any], Any]


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class _LambdaLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The Lambda Python runtime's root handler: one log event per record.

    AWS writes `[LEVEL]\\t<time>Z\\t<request id>\\t<message>` and turns newlines inside a
    record into carriage returns so a traceback stays one event; we mirror both.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record).replace("\n", "\r")
            self.stream.write(text + "\n")
            self.flush()
        except Exception:  # pragma: no cover - logging must never break the handler
            self.handleError(record)


def _configure_logging(request_filter: _RequestIdFilter) -> None:
    handler = _LambdaLogHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(request_filter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # the Lambda runtime's default


def _error(error_type: str, message: str, stack: list[str]) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack}


def _resolve_handler(handler_string: str) -> tuple[Handler | None, dict[str, Any] | None]:
    module_name, _, attr = handler_string.rpartition(".")
    if not module_name or not attr:
        return None, _error(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler_string}': not enough values to unpack (expected 2, got 1)",
            [],
        )
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        where = f'  File "{exc.filename}" Line {exc.lineno}\n        {(exc.text or "").strip()}\n'
        return None, _error(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc.msg} "
            f"({os.path.basename(exc.filename or '')}, line {exc.lineno})",
            [where],
        )
    except ImportError as exc:
        return None, _error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", []
        )
    except Exception as exc:
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        return None, _error(type(exc).__name__, str(exc), stack)
    handler = getattr(module, attr, None)
    if handler is None or not callable(handler):
        return None, _error(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'", []
        )
    return handler, None


def _error_log(request_id: str, error: dict[str, Any]) -> str:
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines += [frame.rstrip("\n") for frame in error["stackTrace"]]
    return "\n".join(lines)


def _invoke(
    handler: Handler,
    spec: dict[str, Any],
    meta: dict[str, Any],
    body: bytes,
    request_filter: _RequestIdFilter,
) -> tuple[dict[str, Any], bytes]:
    request_id = meta["request_id"]
    try:
        event = json.loads(body) if body else {}
    except ValueError:
        return {"unmarshal": True}, b""
    context = LambdaContext(
        aws_request_id=request_id,
        function_name=spec["function_name"],
        invoked_function_arn=spec["function_arn"],
        memory_limit_in_mb=spec["memory_size"],
        log_group_name=spec["log_group"],
        log_stream_name=spec["log_stream"],
        deadline_ms=meta["deadline_ms"],
        client_context=meta.get("client_context"),
    )
    request_filter.request_id = request_id
    # Lambda sets the caller's trace header for each invocation, and only for it.
    if "trace_id" in meta:
        os.environ["_X_AMZN_TRACE_ID"] = meta["trace_id"]
    elif "_X_AMZN_TRACE_ID" in os.environ:
        del os.environ["_X_AMZN_TRACE_ID"]
    try:
        result = handler(event, context)
    except Exception as exc:
        # Drop our own frame: Lambda's stackTrace starts in the user's handler.
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        error = _error(type(exc).__name__, str(exc), stack)
        error["requestId"] = request_id
        return {"error_type": error["errorType"], "log": _error_log(request_id, error)}, (
            json.dumps(error).encode("utf-8")
        )
    try:
        payload = json.dumps(result).encode("utf-8")
    except (TypeError, ValueError) as exc:
        error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", [])
        error["requestId"] = request_id
        return {"error_type": error["errorType"], "log": _error_log(request_id, error)}, (
            json.dumps(error).encode("utf-8")
        )
    return {}, payload


def _prepare_process(spec: dict[str, Any], log_fd: int) -> None:
    set_parent_death_signal(spec["zygote_pid"])
    os.setpgid(0, 0)  # its own group, so a kill reaches what the handler spawns too
    # SCHED_BATCH only stops a waking environment from preempting the gateway at once
    # (it still runs on any idle core): through the gateway on this 2-core machine it
    # measured ~9% more requests/s (mean of 5 noisy runs). A lone invocation's
    # latency suffers from it, so the invoker lifts it then (`Environment.schedule_for`).
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    # Lambda's stdout reaches the log line by line; a block buffer would hold
    # prints back until exit, and a crash would lose them.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True, write_through=True)
    _isolation.enter(spec["task_root"], spec.get("protect", ()))
    os.environ.clear()
    os.environ.update(spec["env"])
    if _management_redirect.API_ID_VARIABLE in os.environ:
        _management_redirect.install(os.environ)
    time.tzset()
    os.chdir(spec["task_root"])
    sys.path.insert(0, spec["task_root"])


def run_environment(
    spec: dict[str, Any],
    sock: socket.socket,
    log_fd: int,
    initialised: socket.socket | None = None,
) -> None:
    """Run one execution environment until the invoker closes our socket.

    `initialised` (a spare's socket to the zygote) is closed once READY is sent: the
    zygote forks its next spare then, not during this environment's init.
    """
    code = 0
    try:
        _prepare_process(spec, log_fd)
        stamp("env: prepared")
        request_filter = _RequestIdFilter()
        _configure_logging(request_filter)
        started = time.perf_counter()
        handler, error = _resolve_handler(spec["handler"])
        init_ms = (time.perf_counter() - started) * 1000.0
        stamp("env: handler imported")
        sys.stdout.flush()
        sys.stderr.flush()
        ready: dict[str, Any] = {"init_ms": init_ms}
        if error is not None:
            ready["error"] = error
            ready["log"] = _error_log("", error)
        channel = BlockingFrameSocket(sock)
        channel.send(READY, ready)
        if initialised is not None:
            initialised.close()
        if handler is None:
            return
        while True:
            frame = channel.recv()
            if frame is None:
                return
            kind, meta, body = frame
            if kind != INVOKE_FAST and kind != INVOKE:
                continue
            stamp("env: invoke received")
            result_meta, payload = _invoke(handler, spec, meta, body, request_filter)
            stamp("env: handler returned")
            result_meta["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            sys.stdout.flush()
            sys.stderr.flush()
            channel.send(RESULT_OK if len(result_meta) == 1 else RESULT, result_meta, payload)
    except SystemExit as exc:  # sys.exit() in user code: the runtime process ends
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
