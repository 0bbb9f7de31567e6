"""Lambda's API on the local services' edge: boto3's `lambda` client, unchanged.

Under `lambic local`, `boto3.client("lambda").invoke(FunctionName="worker", ...)` in a
function (or in a script pointed at the services port) reaches this module. It is a
`Service` named "lambda" that `LocalServices` registers into the edge's table; the
edge sends it every request signed for `lambda` and unsigned ones under
`/2015-03-31/functions`.

Data flow: the edge's thread -> `LambdaApi.handle` -> parse (REST-JSON: the function
name in the path, the invocation type, log type and client context in headers, the
payload as the body) -> the invoker, on the runtime's own loop (the edge has its own
loop and thread; `asyncio.run_coroutine_threadsafe` hops, `wrap_future` waits) ->
`InvocationResult` -> the response Lambda sends (`_lambda_wire`).

    Invoke  RequestResponse  200, payload; a function error adds X-Amz-Function-Error
            Event            202: through the durable `AsyncEventQueue` (retries, DLQ,
                             destinations) when the event sources run, else the
                             invoker's own Event path
            DryRun           204 once the function is known
    ListFunctions, GetFunction, GetFunctionConfiguration   the app's functions
    InvokeWithResponseStream and the rest                  NotImplemented (501)

The invoker is created after the services start and stays the same object across
hot reloads, so `LambdaApi` asks for it on every request (`invoker()`); before it
exists, or after it closed, the answer is a retryable 503 `ServiceException`.

Function names resolve as Lambda resolves them: the short name (`worker`), the
deployed name (`app-dev-worker`) or the ARN, optionally qualified with `$LATEST`
(the only version a local function has).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION, function_arn
from lambic.project.config import FunctionSettings
from lambic.runtime._lambda_wire import (
    LambdaApiError,
    LogSource,
    function_configuration,
    get_function_response,
    invoke_response,
    list_functions_response,
    read_log_tail,
    render_error,
)
from lambic.runtime.errors import (
    FunctionNotFoundError,
    InvalidRequestContentError,
    InvokerClosedError,
    RequestTooLargeError,
)
from lambic.runtime.event_sources.base import SYNC_KINDS, EventQueue
from lambic.runtime.invoker import MAX_EVENT_PAYLOAD
from lambic.runtime.results import InvocationResult
from lambic.services.base import ServiceRequest, ServiceResponse

__all__ = ["FunctionInvoker", "LambdaApi"]

_T = TypeVar("_T")
_PREFIX = "/2015-03-31/functions"
_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


class FunctionInvoker(Protocol):
    """What the API needs of `runtime.invoker.Invoker`."""

    @property
    def store(self) -> LogSource: ...

    def function_names(self) -> list[str]: ...

    def settings(self, function_name: str) -> FunctionSettings: ...

    def invoke(
        self,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = ...,
        client_context: Mapping[str, Any] | None = ...,
        trace_id: str | None = ...,
    ) -> Awaitable[InvocationResult]: ...


class LambdaApi:
    """The "lambda" service of the edge, backed by the runtime's invoker.

    >>> api = LambdaApi(lambda: cloud.invoker, loop=asyncio.get_running_loop())
    >>> EdgeServer({**services.by_name(), api.name: api}).start()
    """

    name = "lambda"

    def __init__(
        self,
        invoker: Callable[[], FunctionInvoker | None],
        *,
        loop: asyncio.AbstractEventLoop,
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
    ) -> None:
        self._invoker = invoker
        self._loop = loop
        self.region = region
        self.account_id = account_id
        self._queue: EventQueue | None = None
        self._modified: dict[str, tuple[FunctionSettings, str]] = {}

    def use_queue(self, queue: EventQueue | None) -> None:
        """Event invocations go to `queue` (the event sources' durable queue) from now on."""
        self._queue = queue

    def close(self) -> None:
        self._queue = None

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        request_id = str(uuid.uuid4())
        try:
            return await self._dispatch(request, request_id)
        except LambdaApiError as error:
            return render_error(error, request_id)

    # ------------------------------------------------------------------ routing

    async def _dispatch(self, request: ServiceRequest, request_id: str) -> ServiceResponse:
        method, path = request.method, request.path
        if path.startswith(_PREFIX):
            rest = path[len(_PREFIX) :].strip("/")
            parts = [unquote(part) for part in rest.split("/")] if rest else []
            if method == "GET" and not parts:
                return self._list_functions(request)
            if method == "GET" and len(parts) == 1:
                return self._get_function(parts[0], request)
            if method == "GET" and parts[1:] == ["configuration"]:
                return self._get_configuration(parts[0], request)
            if method == "POST" and parts[1:] == ["invocations"]:
                return await self._invoke(parts[0], request, request_id)
        if "/response-streaming-invocations" in path:
            raise _not_implemented(
                "InvokeWithResponseStream is not served locally yet; call invoke() instead "
                "(the same function, the whole response at once)"
            )
        raise _not_implemented(
            f"{method} {path} is not one of the Lambda operations Lambic serves locally "
            "(Invoke, ListFunctions, GetFunction, GetFunctionConfiguration)"
        )

    # ------------------------------------------------------------------ operations

    def _list_functions(self, request: ServiceRequest) -> ServiceResponse:
        invoker = self._require_invoker()
        configurations = []
        for name in invoker.function_names():
            try:
                configurations.append(self._configuration(invoker.settings(name)))
            except FunctionNotFoundError:  # removed by a hot reload while we listed
                continue
        configurations.sort(key=lambda c: str(c["FunctionName"]))
        return list_functions_response(
            configurations, request.query.get("Marker"), request.query.get("MaxItems")
        )

    def _get_function(self, name: str, request: ServiceRequest) -> ServiceResponse:
        settings = self._resolve(name, request.query.get("Qualifier"))
        return get_function_response(self._configuration(settings), settings)

    def _get_configuration(self, name: str, request: ServiceRequest) -> ServiceResponse:
        settings = self._resolve(name, request.query.get("Qualifier"))
        body = json.dumps(self._configuration(settings)).encode()
        return ServiceResponse(200, [("Content-Type", "application/json")], body)

    async def _invoke(self, name: str, request: ServiceRequest, request_id: str) -> ServiceResponse:
        headers = request.headers
        invocation_type = headers.get("x-amz-invocation-type") or "RequestResponse"
        if invocation_type not in _INVOCATION_TYPES:
            raise LambdaApiError(
                "InvalidParameterValueException",
                f"Invalid InvocationType {invocation_type!r}; use one of "
                + ", ".join(_INVOCATION_TYPES),
                400,
            )
        settings = self._resolve(name, request.query.get("Qualifier"))
        client_context = _client_context(headers.get("x-amz-client-context"))
        payload = request.body
        if invocation_type == "Event" and self._enqueue(settings, payload, request_id):
            return ServiceResponse(202, [("x-amzn-RequestId", request_id)], b"")
        invoker = self._require_invoker()
        started_ms = int(time.time() * 1000) - 1000  # START is logged after this
        result = await self._on_runtime_loop(
            invoker.invoke(
                settings.name,
                payload,
                invocation_type=invocation_type,
                client_context=client_context,
                trace_id=headers.get("x-amzn-trace-id"),
            )
        )
        tail = None
        wants_tail = headers.get("x-amz-log-type") == "Tail"
        if wants_tail and invocation_type == "RequestResponse" and result.status != "throttled":
            # About 0.1 s more: the tail is read once the log writer has committed it.
            tail = await asyncio.to_thread(
                read_log_tail, invoker.store, settings.log_group, result.request_id, started_ms
            )
        return invoke_response(result, tail)

    def _enqueue(self, settings: FunctionSettings, payload: bytes, request_id: str) -> bool:
        """Accept an Event invocation into the durable queue; False: no queue serves it.

        The queue runs workers only for event handlers and plain functions, not for
        the HTTP-only kinds; those take the invoker's own Event path.
        """
        queue = self._queue
        if queue is None or settings.kind in SYNC_KINDS:
            return False
        if len(payload) > MAX_EVENT_PAYLOAD:
            raise LambdaApiError.from_runtime(
                RequestTooLargeError(
                    f"Request must be smaller than {MAX_EVENT_PAYLOAD} bytes for the "
                    "InvokeAsync operation"
                )
            )
        if payload:
            try:
                json.loads(payload)
            except ValueError as exc:
                raise LambdaApiError.from_runtime(
                    InvalidRequestContentError(f"Could not parse request body into json: {exc}")
                ) from exc
        # Committed before this returns (as S3's events are before PutObject answers).
        queue.enqueue(settings.name, payload or b"{}", request_id=request_id, source="lambda")
        return True

    # ------------------------------------------------------------------ helpers

    def _require_invoker(self) -> FunctionInvoker:
        invoker = self._invoker()
        if invoker is None:
            raise LambdaApiError(
                "ServiceException",
                "The local cloud is starting (or stopping); its functions are not ready. "
                "Retry in a moment.",
                503,
                message_key="Message",
            )
        return invoker

    def _resolve(self, name: str, qualifier: str | None) -> FunctionSettings:
        """The function `name` means (short, deployed or ARN; `$LATEST` only)."""
        function, _, qualified = _split_qualifier(name)
        qualifier = qualifier or qualified or None
        invoker = self._require_invoker()
        try:
            if qualifier not in (None, "$LATEST"):
                raise FunctionNotFoundError(name)
            return invoker.settings(function)
        except FunctionNotFoundError as exc:
            arn = function if function.startswith("arn:") else self._arn(function)
            suffix = f":{qualifier}" if qualifier else ""
            raise LambdaApiError(
                "ResourceNotFoundException",
                f"Function not found: {arn}{suffix}",
                404,
                message_key="Message",
            ) from exc

    def _arn(self, deployed_name: str) -> str:
        return function_arn(deployed_name, region=self.region, account_id=self.account_id)

    def _configuration(self, settings: FunctionSettings) -> dict[str, object]:
        # LastModified changes when a hot reload brings new settings, as an update would.
        known = self._modified.get(settings.name)
        if known is None or known[0] is not settings:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
            self._modified[settings.name] = known = (settings, stamp)
        return function_configuration(
            settings, self._arn(settings.deployed_name), self.account_id, known[1]
        )

    async def _on_runtime_loop(self, call: Awaitable[_T]) -> _T:
        """Await `call` on the runtime's loop (the invoker's), from the edge's loop.

        Shielded: a client that hangs up does not cancel the invocation, as Lambda
        keeps running a function whose caller went away.
        """
        try:
            future = asyncio.run_coroutine_threadsafe(_as_coroutine(call), self._loop)
        except RuntimeError as exc:  # the runtime's loop is closed: shutting down
            raise LambdaApiError.from_runtime(InvokerClosedError(str(exc))) from exc
        try:
            return await asyncio.shield(asyncio.wrap_future(future))
        except (
            FunctionNotFoundError,
            InvalidRequestContentError,
            RequestTooLargeError,
            InvokerClosedError,
        ) as exc:
            raise LambdaApiError.from_runtime(exc) from exc


async def _as_coroutine(call: Awaitable[_T]) -> _T:
    return await call


def _split_qualifier(name: str) -> tuple[str, str, str]:
    """`name`, `name:q`, `arn:...:function:name[:q]` -> (name or ARN, ":", qualifier)."""
    if name.startswith("arn:"):
        parts = name.split(":")
        if len(parts) > 7:
            return ":".join(parts[:7]), ":", parts[7]
        return name, "", ""
    return name.partition(":")


def _client_context(header: str | None) -> dict[str, Any] | None:
    """X-Amz-Client-Context: base64 of a JSON object, as the mobile SDKs send it."""
    if not header:
        return None
    try:
        value = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise LambdaApiError(
            "InvalidRequestContentException",
            "Client context must be a valid Base64-encoded JSON object.",
            400,
        ) from exc
    if not isinstance(value, dict):
        raise LambdaApiError(
            "InvalidRequestContentException",
            "Client context must be a valid Base64-encoded JSON object.",
            400,
        )
    return value


def _not_implemented(message: str) -> LambdaApiError:
    return LambdaApiError("NotImplemented", message, 501)
