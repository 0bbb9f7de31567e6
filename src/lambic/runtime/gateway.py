"""The local API Gateway: HTTP request -> REST v1 proxy event -> invoker -> HTTP response.

    socket --HTTP core (httptools)--> GatewayApp (raw ASGI), one step per function:
        _route          RouteMatcher on the raw path, API Gateway's rules
                        (no method there: _unrouted_answer, a CORS preflight or 403)
        _event_headers  the request's headers plus those API Gateway adds
        _authorize      the route's authorizer, if any (`lambic.runtime.authorization`):
                        API Gateway's 401/403/500 refusal, or what the event gets
        _event_payload  create_rest_event(...) -> JSON
        _invoke         invoker.invoke(api function), 504 at the integration timeout
        _answer         proxy response checked as API Gateway checks it -> status,
                        headers, body

The API is served at `/` (as `chalice local` does), not under `/<stage>`; the stage name
still appears where a function sees it (`requestContext.stage`, `requestContext.path`).

API Gateway's own answers, mirrored with its bodies and `x-amzn-ErrorType` header:

- no resource, or the resource lacks the method: 403
  `{"message":"Missing Authentication Token"}`;
- function error, crash, timeout, malformed proxy response: 502
  `{"message": "Internal server error"}` (500 for an undecodable base64 body);
- integration longer than 29 s: 504 `{"message": "Endpoint request timed out"}`;
- request body over 10 MB: 413 `{"message":"Request Too Long"}`, at the headers;
- an event over Lambda's 6 MB invocation payload (a body between about 6 and 10 MB):
  500 `{"message": "Internal server error"}`, as Lambda refuses the invocation;
- function throttled (reserved concurrency): 429 `{"message":"Too Many Requests"}`.

A resource with CORS-enabled routes answers `OPTIONS` itself, as the MOCK integration
Chalice deploys does: 200, empty body, the `Access-Control-*` headers; no function runs.

Every answer carries `x-amzn-RequestId` (the event's `requestContext.requestId`) and
`x-amz-apigw-id` (its `extendedRequestId`); proxied answers also carry the
`X-Amzn-Trace-Id` the function saw. The gateway never blocks: it only awaits the invoker.

With an `access_log`, each request ends with one `AccessRecord` (method, path, status,
duration, cold/warm, function) handed to it: `lambic local` queues it to the log
writer process, which prints the access line, so the gateway formats nothing.

The route table (`ApiDefinition`, `create_api_definition`) lives in `_api_definition`
and the server around it (`GatewayServer`, `bind_socket`) in `_http_server`; both are
re-exported here. Errors: `GatewayError` (a `LambicRuntimeError`) when the gateway
cannot start, e.g. `PortInUseError`.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

import orjson

from lambic.app.proxy_events import LOCAL_API_ID, create_rest_event, is_binary_media_type
from lambic.app.routing import RouteMatch
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.runtime._api_definition import ApiDefinition, HeaderList, create_api_definition
from lambic.runtime._deadlines import Deadlines
from lambic.runtime._http_server import GatewayError, GatewayServer, PortInUseError, bind_socket
from lambic.runtime._log_lines import AccessRecord
from lambic.runtime._proxy_response import MalformedProxyResponseError, parse_proxy_response
from lambic.runtime.errors import RequestTooLargeError

if TYPE_CHECKING:
    from lambic.runtime.authorization import (
        AuthorizerCall,
        AuthorizerGate,
        AuthorizerSpec,
        Grant,
        Refusal,
    )

__all__ = [
    "INTEGRATION_TIMEOUT_SECONDS",
    "LAMBDA_INIT_SECONDS",
    "MAX_REQUEST_BODY_BYTES",
    "ApiDefinition",
    "GatewayApp",
    "GatewayError",
    "GatewayServer",
    "PortInUseError",
    "bind_socket",
    "create_api_definition",
]

#: API Gateway's maximum integration timeout for REST APIs.
INTEGRATION_TIMEOUT_SECONDS = 29.0
# A private generator, seeded from the OS once: ids stay unique whatever user code
# does to the module-level `random` state.
_random_bits = random.Random().getrandbits
#: Lambda's init phase limit: a cold start may take this long before the timeout counts.
LAMBDA_INIT_SECONDS = 10.0
#: API Gateway's maximum request payload.
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
# Where `_serve` leaves whether the function cold-started, for the access line.
_COLD_START_KEY = "lambic.cold_start"

ASGIMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]


class InvocationOutcome(Protocol):
    """What the gateway reads from the invoker's `InvocationResult`."""

    @property
    def status(self) -> str: ...

    @property
    def payload(self) -> bytes: ...


class FunctionInvoker(Protocol):
    """The part of the runtime's `Invoker` the gateway uses (docs/internals.md §3)."""

    def invoke(
        self, function_name: str, payload: bytes, /
    ) -> Coroutine[Any, Any, InvocationOutcome]: ...


def _gateway_body(
    status: int, body: bytes, error_type: str | None
) -> tuple[int, bytes, HeaderList]:
    headers: HeaderList = [(b"content-type", b"application/json")]
    if error_type is not None:
        headers.append((b"x-amzn-ErrorType", error_type.encode()))
    return status, body, headers


# API Gateway's exact bodies: note the spacing differs between responses, as on AWS.
_MISSING_TOKEN = _gateway_body(
    403, b'{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException"
)
_INTERNAL_ERROR = _gateway_body(
    502, b'{"message": "Internal server error"}', "InternalServerErrorException"
)
_CONFIG_ERROR = _gateway_body(
    500, b'{"message": "Internal server error"}', "InternalServerErrorException"
)
_TIMED_OUT = _gateway_body(504, b'{"message": "Endpoint request timed out"}', None)
_TOO_LARGE = _gateway_body(413, b'{"message":"Request Too Long"}', None)
_THROTTLED = _gateway_body(429, b'{"message":"Too Many Requests"}', "TooManyRequestsException")


def _parse_query(raw: bytes) -> list[tuple[str, str]]:
    # API Gateway URL-decodes names and values but leaves '+' alone, unlike form
    # decoding; a name without '=' gets the empty string.
    if not raw:
        return []
    pairs: list[tuple[str, str]] = []
    for part in raw.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def _request_ids() -> tuple[str, str, str]:
    """(requestId, extendedRequestId, trace suffix) for one request.

    requestId is a UUID v4 as API Gateway's; the extended id is 16 base64 characters
    ("Fg4a9HqBoAMFx3w="); the trace id's last part is 24 hex digits. They need to be
    unique, not secret, so the fast Mersenne Twister does instead of the OS RNG.
    """
    h = f"{_random_bits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    request_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"
    extended = base64.b64encode(_random_bits(88).to_bytes(11, "big")).decode("ascii")
    return request_id, extended, f"{_random_bits(96):024x}"


def _route(
    api: ApiDefinition, method: str, scope: MutableMapping[str, Any]
) -> RouteMatch[str] | None:
    """The resource and method a request reaches, by API Gateway's rules."""
    # API Gateway matches the path as sent (percent-escapes intact); ASGI's `path` is
    # already decoded, so the raw one is preferred when the server gives it.
    raw_path = scope.get("raw_path")
    return api.matcher.match(method, raw_path.decode("latin-1") if raw_path else scope["path"])


def _unrouted_answer(
    api: ApiDefinition, method: str, match: RouteMatch[str] | None
) -> tuple[int, bytes, HeaderList]:
    """API Gateway's own answer when no method is there: a CORS preflight, else 403."""
    if method == "OPTIONS" and match is not None:
        preflight = api.preflight.get(match.resource_path)
        if preflight is not None:
            return 200, b"", [(b"content-type", b"application/json"), *preflight]
    return _MISSING_TOKEN


def _event_headers(
    scope: MutableMapping[str, Any], source_ip: str, trace_id: str
) -> tuple[list[tuple[str, str]], int, str | None]:
    """The headers the function sees, with the request's Content-Length and Accept.

    API Gateway appends the peer to X-Forwarded-For and adds X-Forwarded-Port,
    X-Forwarded-Proto and X-Amzn-Trace-Id before the event reaches the function; we
    mirror it.
    """
    headers: list[tuple[str, str]] = []
    length = 0
    accept: str | None = None
    forwarded_for = source_ip
    for name, value in scope["headers"]:
        text_name = name.decode("latin-1")
        text_value = value.decode("utf-8", "replace")
        lowered = text_name.lower()
        if lowered == "content-length":
            length = int(text_value) if text_value.isdigit() else 0
        elif lowered == "accept":
            accept = text_value
        elif lowered == "x-forwarded-for":
            forwarded_for = f"{text_value}, {source_ip}" if text_value else source_ip
            continue
        headers.append((text_name, text_value))
    headers.append(("X-Forwarded-For", forwarded_for))
    headers.append(("X-Forwarded-Port", str((scope.get("server") or ("127.0.0.1", 80))[1])))
    headers.append(("X-Forwarded-Proto", scope.get("scheme", "http")))
    headers.append(("X-Amzn-Trace-Id", trace_id))
    return headers, length, accept


def _event_payload(
    api: ApiDefinition,
    scope: MutableMapping[str, Any],
    match: RouteMatch[str],
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str,
    now: float,
    request_id: str,
    apigw_id: str,
    grant: Grant | None = None,
) -> bytes:
    """The REST v1 proxy event the function receives, as JSON."""
    event = create_rest_event(
        method=scope["method"],
        path=scope["path"],
        resource_path=match.resource_path,
        path_params=match.path_params,
        query=_parse_query(scope.get("query_string", b"")),
        headers=headers,
        body=body,
        binary_types=api.binary_types,
        stage=api.stage,
        source_ip=source_ip,
        request_id=request_id,
        request_time_epoch_ms=int(now * 1000),
        account_id=LOCAL_ACCOUNT_ID,
    )
    event["requestContext"]["extendedRequestId"] = apigw_id
    if grant is not None:
        grant.apply(event)
    return orjson.dumps(event)


def _answer(
    api: ApiDefinition, outcome: InvocationOutcome, accept: str | None, trace_id: str
) -> tuple[int, bytes, HeaderList]:
    """The client's answer for the function's outcome, as API Gateway gives it."""
    if outcome.status != "ok":
        return _THROTTLED if outcome.status == "throttled" else _INTERNAL_ERROR
    # API Gateway decodes a base64 body only for a binary first Accept media type.
    binary = bool(api.binary_types) and is_binary_media_type(
        accept.split(",", 1)[0] if accept else None, api.binary_types
    )
    try:
        response = parse_proxy_response(outcome.payload, decode_base64=binary)
    except MalformedProxyResponseError as exc:
        return _CONFIG_ERROR if exc.status == 500 else _INTERNAL_ERROR
    headers: HeaderList = [
        (n.encode("latin-1", "replace"), v.encode()) for n, v in response.headers
    ]
    if not response.has_content_type:
        # API Gateway REST APIs default a proxy response's Content-Type to JSON.
        headers.append((b"content-type", b"application/json"))
    headers.append((b"X-Amzn-Trace-Id", trace_id.encode()))
    return response.status, response.body, headers


class GatewayApp:
    """The gateway as a raw ASGI application (no framework: every microsecond counts).

    `invoker` runs the API function; `api` is swapped by `update()` on reload; the
    integration timeout and body limit are injectable so tests need not wait 29 s.
    """

    def __init__(
        self,
        invoker: FunctionInvoker,
        api: ApiDefinition,
        *,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        max_body_bytes: int = MAX_REQUEST_BODY_BYTES,
        clock: Callable[[], float] = time.time,
        access_log: Callable[[AccessRecord], None] | None = None,
        create_gate: Callable[[str], AuthorizerGate] | None = None,
        on_request: Callable[[int], None] | None = None,
    ) -> None:
        self.invoker = invoker
        #: Called with the body size of each request sent to the integration: API
        #: Gateway bills those (`usage.api_request_meter`).
        self.on_request = on_request
        self.api = api
        self.access_log = access_log
        # The authorization step (and its result cache) of the routes with authorizers,
        # made by their first request: an app without authorizers never imports the
        # authorizers' code (JWTs, policies, SigV4: ~0.4 MB of the process's memory).
        self._create_gate = create_gate
        self._gate: AuthorizerGate | None = None
        self.integration_timeout = integration_timeout
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        # Requests answered 504 whose invocation still runs, and those 504 answers.
        self._orphans: set[asyncio.Task[Any]] = set()
        self._deadlines: Deadlines | None = None  # made on the loop of the first request

    @property
    def gate(self) -> AuthorizerGate:
        """The authorization step, made on first use (for the stage now served)."""
        gate = self._gate
        if gate is None:
            if self._create_gate is not None:
                gate = self._create_gate(self.api.stage)
            else:
                from lambic.runtime.authorization import AuthorizerGate

                gate = AuthorizerGate(
                    region=LOCAL_REGION,
                    account_id=LOCAL_ACCOUNT_ID,
                    api_id=LOCAL_API_ID,
                    stage=self.api.stage,
                )
            self._gate = gate
        return gate

    def update(self, api: ApiDefinition) -> None:
        """Serve `api` from the next request on; in-flight requests are unaffected."""
        self.api = api
        # New code may authorize differently: cached authorizer results go.
        if self._gate is not None:
            self._gate.stage = api.stage
            self._gate.clear()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        access = self.access_log
        if access is None:
            await self._serve(scope, receive, send)
            return
        started = time.perf_counter()
        status = await self._serve(scope, receive, send)
        query = scope.get("query_string", b"")
        path = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        cold = scope.get(_COLD_START_KEY)
        access(
            (
                int(self._clock() * 1000), scope["method"], path, status,
                (time.perf_counter() - started) * 1000.0,
                self.api.function_name if cold is not None else "",
                -1 if cold is None else int(cold),
            )
        )  # fmt: skip

    async def _serve(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> int:
        # The hot path, as named steps: route -> build the event -> invoke -> answer.
        # Only the body read and the invocation await; every other step is a plain
        # call, so the split costs no extra coroutine per request. Returns the status
        # answered (for the access line).
        api = self.api  # one snapshot per request: a reload meanwhile changes nothing here
        request_id, apigw_id, trace_suffix = _request_ids()
        method: str = scope["method"]
        match = _route(api, method, scope)
        if match is None or match.entry is None:
            return await _send(send, *_unrouted_answer(api, method, match), request_id, apigw_id)
        now = self._clock()
        source_ip = (scope.get("client") or ("127.0.0.1", 0))[0]
        trace_id = f"Root=1-{int(now):08x}-{trace_suffix}"
        headers, length, accept = _event_headers(scope, source_ip, trace_id)
        body = await self._read_body(receive, length)
        if body is None:
            return await _send(send, *_TOO_LARGE, request_id, apigw_id)
        grant: Grant | None = None
        protected = api.authorizers.get(match.resource_path)
        spec = protected.get(match.entry) if protected is not None else None
        if spec is not None:
            # Imported with the gate by the first such request; a dict hit afterwards.
            from lambic.runtime.authorization.gate import AuthorizerCall, Refusal

            decided = self._authorize(spec, scope, headers, body, match, source_ip)
            if isinstance(decided, AuthorizerCall):  # not cached: run the authorizer
                decided = await self._run_authorizer(decided)
            if isinstance(decided, Refusal):
                refusal = _gateway_body(decided.status, decided.body, decided.error_type)
                return await _send(send, *refusal, request_id, apigw_id)
            grant = decided
        if self.on_request is not None:
            self.on_request(len(body))
        payload = _event_payload(
            api,
            scope,
            match,
            headers,
            body,
            source_ip=source_ip,
            now=now,
            request_id=request_id,
            apigw_id=apigw_id,
            grant=grant,
        )
        try:
            outcome = await self._invoke(api, payload, send, request_id, apigw_id)
        except RequestTooLargeError:
            # The event is over Lambda's 6 MB (the body fits API Gateway's 10 MB): Lambda
            # refuses the invocation with 413 and API Gateway answers its 500.
            return await _send(send, *_CONFIG_ERROR, request_id, apigw_id)
        if outcome is None:  # API Gateway already answered 504
            return _TIMED_OUT[0]
        scope[_COLD_START_KEY] = getattr(outcome, "cold_start", False)
        return await _send(send, *_answer(api, outcome, accept, trace_id), request_id, apigw_id)

    def _authorize(
        self,
        spec: AuthorizerSpec,
        scope: MutableMapping[str, Any],
        headers: list[tuple[str, str]],
        body: bytes,
        match: RouteMatch[str],
        source_ip: str,
    ) -> Grant | Refusal | AuthorizerCall:
        """API Gateway's authorization step: a cached or computed decision, or the
        authorizer function to run (a plain call: a cache hit awaits nothing)."""
        from lambic.runtime.authorization.gate import GateRequest

        raw_path = scope.get("raw_path")
        request = GateRequest(
            scope["method"],
            scope["path"],
            headers,
            scope.get("query_string", b"").decode("latin-1"),
            body,
            raw_path.decode("latin-1") if raw_path else scope["path"],
            match.resource_path,
            match.path_params,
            source_ip,
        )
        return self.gate.begin(spec, request)

    async def _run_authorizer(self, call: AuthorizerCall) -> Grant | Refusal:
        """Run the authorizer function in its own execution environment, then decide."""
        started = time.perf_counter()
        try:
            outcome = await self.invoker.invoke(call.function, call.payload)
        except Exception as exc:  # e.g. the function is gone after a reload
            from lambic.runtime.authorization.gate import CONFIGURATION_ERROR

            self.gate.warn(f"authorizer {call.spec.name} could not run: {exc}")
            return CONFIGURATION_ERROR
        latency_ms = int((time.perf_counter() - started) * 1000)
        return self.gate.finish(call, outcome.status, outcome.payload, latency_ms)

    async def _read_body(self, receive: Receive, declared_length: int) -> bytes | None:
        """The whole request body, or None when it is over the limit (answered 413)."""
        max_bytes = self.max_body_bytes
        if declared_length > max_bytes:
            return None
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            return body if len(body) <= max_bytes else None
        chunks = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _invoke(
        self, api: ApiDefinition, payload: bytes, send: Send, request_id: str, apigw_id: str
    ) -> InvocationOutcome | None:
        """The function's outcome, or None when the request was answered 504 meanwhile."""
        bound = api.function_timeout
        if bound is not None and bound + LAMBDA_INIT_SECONDS <= self.integration_timeout:
            # The function is killed at its own timeout (plus at most the init phase)
            # before API Gateway would give up: no timer needed on the hot path.
            return await self.invoker.invoke(api.function_name, payload)
        # AWS stops waiting at the integration timeout but the function runs on to its
        # own timeout. So the invocation goes on in this request's task and the shared
        # deadline timer answers 504 from a task of its own (see `_deadlines`).
        deadlines = self._deadlines
        loop = asyncio.get_running_loop()
        if deadlines is None or deadlines.loop is not loop:  # first request (on this loop)
            deadlines = self._deadlines = Deadlines(loop, self.integration_timeout, self._time_out)
        ticket = deadlines.add((asyncio.current_task(loop), send, request_id, apigw_id))
        outcome: InvocationOutcome | None = None
        try:
            outcome = await self.invoker.invoke(api.function_name, payload)
        except Exception:
            if ticket.context is not None:
                raise
            # Else the client has its 504; the late failure changes nothing.
        finally:
            timed_out = ticket.context is None  # the timer took the ticket: 504 sent
            ticket.context = None
        return None if timed_out else outcome

    def _time_out(self, context: tuple[asyncio.Task[Any] | None, Send, str, str]) -> None:
        request, send, request_id, apigw_id = context
        answer = asyncio.get_running_loop().create_task(
            _send(send, *_TIMED_OUT, request_id, apigw_id)
        )
        for task in (answer, request):
            if task is not None:
                self._orphans.add(task)
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._orphans.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as lost

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for invocations whose requests already got a 504."""
        if self._orphans:
            await asyncio.wait(set(self._orphans), timeout=timeout)


async def _send(
    send: Send,
    status: int,
    body: bytes,
    headers: HeaderList,
    request_id: str,
    apigw_id: str,
) -> int:
    headers = [
        *headers,
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-RequestId", request_id.encode()),
        (b"x-amz-apigw-id", apigw_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status
