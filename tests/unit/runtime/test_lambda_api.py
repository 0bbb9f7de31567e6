"""Lambda's API module: requests parsed as boto3 sends them, answers boto3 reads back.

`LambdaApi.handle` runs against a fake invoker (typed as the API's `FunctionInvoker`)
on the test's own loop; responses are read with botocore's REST-JSON parser and the
Lambda model, as a boto3 client reads them off the socket.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import botocore.parsers
import botocore.session
import pytest
from botocore.awsrequest import HeadersDict

from lambic.project.config import FunctionSettings
from lambic.runtime._lambda_wire import (
    LambdaApiError,
    invoke_response,
    read_log_tail,
    render_error,
)
from lambic.runtime.errors import FunctionNotFoundError, RequestTooLargeError
from lambic.runtime.lambda_api import LambdaApi
from lambic.runtime.logstore import LogEvent, LogStore
from lambic.runtime.results import InvocationResult
from lambic.services.base import Headers, ServiceRequest, ServiceResponse

_MODEL = botocore.session.get_session().get_service_model("lambda")
WORKER = FunctionSettings(
    name="worker",
    deployed_name="app-dev-worker",
    handler="app.worker",
    memory_size=256,
    timeout=10,
    environment_variables={"ROLE": "worker"},
    reserved_concurrency=2,
)
API = FunctionSettings(name="api_handler", deployed_name="app-dev", handler="app.app", kind="api")


def _parse(operation: str, response: ServiceResponse) -> dict[str, Any]:
    parser = botocore.parsers.create_parser("rest-json")
    parsed: dict[str, Any] = parser.parse(
        {
            "status_code": response.status,
            "headers": HeadersDict(dict(response.headers)),
            "body": response.body,
        },
        _MODEL.operation_model(operation).output_shape,
    )
    return parsed


class FakeInvoker:
    """Records invocations; answers with `result` (or raises `error`)."""

    def __init__(self, store: LogStore | None = None) -> None:
        self.functions = {"worker": WORKER, "api_handler": API}
        self.calls: list[tuple[str, bytes, str, Mapping[str, Any] | None]] = []
        self.result = InvocationResult("ok", b'{"ok": true}', None, "req-1")
        self.error: Exception | None = None
        self._store = store

    @property
    def store(self) -> LogStore:
        assert self._store is not None
        return self._store

    def function_names(self) -> list[str]:
        return list(self.functions)

    def settings(self, function_name: str) -> FunctionSettings:
        name = function_name.rsplit(":function:", 1)[-1]
        for settings in self.functions.values():
            if name in (settings.name, settings.deployed_name):
                return settings
        raise FunctionNotFoundError(f"Function not found: {function_name}")

    async def invoke(
        self,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        client_context: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
    ) -> InvocationResult:
        self.calls.append((function_name, payload, invocation_type, client_context))
        if self.error is not None:
            raise self.error
        if invocation_type == "Event":
            return InvocationResult("accepted", b"", None, "req-2")
        if invocation_type == "DryRun":
            return InvocationResult("dry_run", b"", None, "req-3")
        return self.result


class FakeQueue:
    def __init__(self) -> None:
        self.events: list[tuple[str, bytes, str]] = []

    def enqueue(self, function: str, payload: bytes, *, request_id: str, source: str) -> int:
        self.events.append((function, payload, source))
        return len(self.events)


def _request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    query: str = "",
) -> ServiceRequest:
    return ServiceRequest(method, path, query, Headers(headers or []), body)  # fmt: skip


def _handle(
    request: ServiceRequest, invoker: FakeInvoker | None, queue: FakeQueue | None = None
) -> ServiceResponse:
    async def run() -> ServiceResponse:
        api = LambdaApi(lambda: invoker, loop=asyncio.get_running_loop())
        api.use_queue(queue)
        return await api.handle(request)

    return asyncio.run(run())


def _invocations(name: str) -> str:
    return f"/2015-03-31/functions/{name}/invocations"


def test_invoke_answers_the_payload_with_executed_version() -> None:
    invoker = FakeInvoker()
    response = _handle(_request("POST", _invocations("worker"), b'{"a": 1}'), invoker)

    parsed = _parse("Invoke", response)

    assert parsed["StatusCode"] == 200
    assert parsed["ExecutedVersion"] == "$LATEST"
    assert json.loads(parsed["Payload"]) == {"ok": True}
    assert "FunctionError" not in parsed
    assert invoker.calls == [("worker", b'{"a": 1}', "RequestResponse", None)]


def test_a_function_error_is_200_with_unhandled_and_the_error_json() -> None:
    invoker = FakeInvoker()
    error = {"errorMessage": "no", "errorType": "ValueError", "stackTrace": []}
    invoker.result = InvocationResult("error", json.dumps(error).encode(), "ValueError", "r")

    parsed = _parse("Invoke", _handle(_request("POST", _invocations("worker")), invoker))

    assert parsed["StatusCode"] == 200
    assert parsed["FunctionError"] == "Unhandled"
    assert json.loads(parsed["Payload"]) == error


@pytest.mark.parametrize(
    "name",
    [
        "worker",
        "app-dev-worker",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aapp-dev-worker",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aapp-dev-worker%3A%24LATEST",
    ],
)
def test_function_names_resolve_short_deployed_or_arn(name: str) -> None:
    invoker = FakeInvoker()
    response = _handle(_request("POST", _invocations(name), b"{}"), invoker)
    assert response.status == 200
    assert invoker.calls[0][0] == "worker"


def test_an_unknown_function_is_404_with_lambdas_message() -> None:
    response = _handle(_request("POST", _invocations("nope"), b"{}"), FakeInvoker())

    error = _parse("Invoke", response)

    assert response.status == 404
    assert error["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
    }
    assert json.loads(response.body)["Type"] == "User"


def test_a_version_other_than_latest_is_not_found() -> None:
    request = _request("GET", "/2015-03-31/functions/worker/configuration", query="Qualifier=3")
    error = _parse("GetFunctionConfiguration", _handle(request, FakeInvoker()))["Error"]
    assert error["Message"].endswith("function:worker:3")


def test_event_invocations_go_to_the_durable_queue() -> None:
    invoker, queue = FakeInvoker(), FakeQueue()
    headers = [("X-Amz-Invocation-Type", "Event")]

    response = _handle(
        _request("POST", _invocations("worker"), b'{"a": 1}', headers), invoker, queue
    )

    assert response.status == 202
    assert response.body == b""
    assert queue.events == [("worker", b'{"a": 1}', "lambda")]
    assert invoker.calls == []


def test_event_invocations_of_http_functions_or_without_a_queue_use_the_invoker() -> None:
    invoker, queue = FakeInvoker(), FakeQueue()
    headers = [("X-Amz-Invocation-Type", "Event")]

    api = _handle(_request("POST", _invocations("api_handler"), b"{}", headers), invoker, queue)
    plain = _handle(_request("POST", _invocations("worker"), b"{}", headers), invoker)

    assert (api.status, plain.status) == (202, 202)
    assert queue.events == []
    assert [c[2] for c in invoker.calls] == ["Event", "Event"]


def test_event_payload_limits_and_json_are_checked_before_queueing() -> None:
    headers = [("X-Amz-Invocation-Type", "Event")]
    queue = FakeQueue()
    big = b'"' + b"x" * (1024 * 1024) + b'"'

    too_big = _handle(_request("POST", _invocations("worker"), big, headers), FakeInvoker(), queue)
    not_json = _handle(
        _request("POST", _invocations("worker"), b"{", headers), FakeInvoker(), queue
    )

    assert too_big.status == 413
    assert _parse("Invoke", too_big)["Error"]["Code"] == "RequestEntityTooLargeException"
    assert not_json.status == 400
    assert _parse("Invoke", not_json)["Error"]["Code"] == "InvalidRequestContentException"
    assert queue.events == []


def test_the_invokers_errors_keep_their_aws_codes() -> None:
    invoker = FakeInvoker()
    invoker.error = RequestTooLargeError(
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )

    response = _handle(_request("POST", _invocations("worker"), b"{}"), invoker)

    assert response.status == 413
    assert _parse("Invoke", response)["Error"] == {
        "Code": "RequestEntityTooLargeException",
        "Message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    }


def test_dry_run_is_204_and_the_client_context_reaches_the_invoker() -> None:
    invoker = FakeInvoker()
    context = base64.b64encode(b'{"custom": {"k": "v"}}').decode()
    headers = [("X-Amz-Invocation-Type", "DryRun"), ("X-Amz-Client-Context", context)]

    response = _handle(_request("POST", _invocations("worker"), b"", headers), invoker)

    assert response.status == 204
    assert invoker.calls[0][3] == {"custom": {"k": "v"}}


def test_a_malformed_client_context_is_invalid_request_content() -> None:
    headers = [("X-Amz-Client-Context", "not base64!")]
    response = _handle(_request("POST", _invocations("worker"), b"{}", headers), FakeInvoker())
    assert _parse("Invoke", response)["Error"]["Code"] == "InvalidRequestContentException"


def test_before_the_invoker_exists_the_answer_is_a_retryable_service_exception() -> None:
    response = _handle(_request("POST", _invocations("worker"), b"{}"), None)

    assert response.status == 503
    assert _parse("Invoke", response)["Error"]["Code"] == "ServiceException"
    assert "starting" in _parse("Invoke", response)["Error"]["Message"]


def test_get_function_configuration_describes_the_local_function() -> None:
    request = _request("GET", "/2015-03-31/functions/worker/configuration")

    parsed = _parse("GetFunctionConfiguration", _handle(request, FakeInvoker()))

    assert parsed["FunctionName"] == "app-dev-worker"
    assert parsed["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:app-dev-worker"
    assert parsed["Role"] == "arn:aws:iam::000000000000:role/app-dev"
    assert (parsed["Handler"], parsed["MemorySize"], parsed["Timeout"]) == ("app.worker", 256, 10)
    assert parsed["Environment"] == {"Variables": {"ROLE": "worker"}}
    assert parsed["Version"] == "$LATEST"
    assert parsed["LoggingConfig"]["LogGroup"] == "/aws/lambda/app-dev-worker"


def test_get_function_adds_concurrency_and_list_functions_pages() -> None:
    invoker = FakeInvoker()

    function = _parse(
        "GetFunction", _handle(_request("GET", "/2015-03-31/functions/worker"), invoker)
    )
    first = _parse(
        "ListFunctions",
        _handle(_request("GET", "/2015-03-31/functions/", query="MaxItems=1"), invoker),
    )
    second = _parse(
        "ListFunctions",
        _handle(_request("GET", "/2015-03-31/functions", query="Marker=1&MaxItems=1"), invoker),
    )

    assert function["Concurrency"] == {"ReservedConcurrentExecutions": 2}
    assert [f["FunctionName"] for f in first["Functions"]] == ["app-dev"]
    assert first["NextMarker"] == "1"
    assert [f["FunctionName"] for f in second["Functions"]] == ["app-dev-worker"]
    assert "NextMarker" not in second


def test_streaming_and_other_operations_are_not_implemented_in_rest_json() -> None:
    streaming = "/2021-11-15/functions/worker/response-streaming-invocations"

    response = _handle(_request("POST", streaming, b"{}"), FakeInvoker())
    other = _handle(_request("DELETE", "/2015-03-31/functions/worker"), FakeInvoker())

    assert response.status == 501
    error = _parse("InvokeWithResponseStream", response)["Error"]
    assert error["Code"] == "NotImplemented"
    assert "call invoke() instead" in error["Message"]
    assert _parse("DeleteFunction", other)["Error"]["Code"] == "NotImplemented"


def test_throttling_is_429_too_many_requests_with_the_reason() -> None:
    body = b'{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}'  # noqa: E501
    response = invoke_response(InvocationResult("throttled", body, "TooManyRequestsException", "r"))
    error = _parse("Invoke", response)
    assert response.status == 429
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert (
        json.loads(response.body)["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    )


def test_render_error_uses_the_models_message_key() -> None:
    error = LambdaApiError.from_runtime(FunctionNotFoundError("Function not found: x"))
    body = json.loads(render_error(error, "r").body)
    assert body == {"Type": "User", "Message": "Function not found: x"}


def test_the_log_tail_is_the_invocations_lines_base64_last_4_kb(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.sqlite3")
    group, stream = "/aws/lambda/app-dev-worker", "2026/01/01/[$LATEST]abc"
    lines = [
        "START RequestId: other Version: $LATEST",
        "START RequestId: r1 Version: $LATEST",
        "x" * 5000 + "\n",
        "hello\n",
        "END RequestId: r1",
        "REPORT RequestId: r1\tDuration: 1.00 ms",
        "START RequestId: r2 Version: $LATEST",
    ]
    try:
        for line in lines:
            store.append(LogEvent(group, stream, 1000, line))

        tail = base64.b64decode(read_log_tail(store, group, "r1", 0)).decode()
    finally:
        store.close()

    assert len(tail.encode()) == 4096
    assert tail.endswith("hello\nEND RequestId: r1\nREPORT RequestId: r1\tDuration: 1.00 ms\n")
    assert "r2" not in tail
