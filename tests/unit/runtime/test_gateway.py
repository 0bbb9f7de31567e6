from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lambic.app import CORSConfig, Lambic, route_table
from lambic.project.manifest import RouteInfo
from lambic.runtime._proxy_response import MalformedProxyResponseError, parse_proxy_response
from lambic.runtime.gateway import ApiDefinition, GatewayApp, create_api_definition


@dataclass(frozen=True)
class Outcome:
    status: str
    payload: bytes


class RecordingInvoker:
    """Stands in for the runtime's Invoker: records events, answers with `respond`."""

    def __init__(self, respond: Callable[[dict[str, Any]], Outcome]) -> None:
        self.respond = respond
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def invoke(self, function_name: str, payload: bytes, /) -> Outcome:
        event = json.loads(payload)
        self.calls.append((function_name, event))
        return self.respond(event)


def ok(response: dict[str, Any]) -> Callable[[dict[str, Any]], Outcome]:
    return lambda event: Outcome("ok", json.dumps(response).encode())


ROUTES: dict[str, dict[str, Any]] = {
    "/": {"GET": {}},
    "/users/{id}": {"GET": {}, "PUT": {"cors": {"allow_origin": "https://x.test"}}},
    "/files/{proxy+}": {"POST": {}},
}


def api(**kwargs: Any) -> ApiDefinition:
    return create_api_definition(
        ROUTES, function_name="demo-dev", stage="api", binary_types=["image/png"], **kwargs
    )


@dataclass
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v.decode() for k, v in self.headers if k.decode().lower() == name.lower()]
        return values[-1] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: GatewayApp,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: list[bytes] | None = None,
) -> Reply:
    chunks = chunks or [b""]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers or [(b"Host", b"localhost:8000")],
        "client": ("10.1.2.3", 5555),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
    }
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    return Reply(sent[0]["status"], sent[0]["headers"], sent[1]["body"])


def test_answers_403_missing_authentication_token_for_an_unknown_path() -> None:
    invoker = RecordingInvoker(ok({"statusCode": 200, "body": ""}))
    reply = call(GatewayApp(invoker, api()), "GET", "/nope")

    assert reply.status == 403
    assert reply.body == b'{"message":"Missing Authentication Token"}'
    assert reply.header("x-amzn-ErrorType") == "MissingAuthenticationTokenException"
    assert reply.header("x-amzn-RequestId")
    assert len(reply.header("x-amz-apigw-id") or "") == 16
    assert invoker.calls == []


def test_answers_403_for_a_known_path_with_an_unsupported_method() -> None:
    invoker = RecordingInvoker(ok({"statusCode": 200, "body": ""}))
    reply = call(GatewayApp(invoker, api()), "DELETE", "/users/7")

    assert reply.status == 403
    assert invoker.calls == []


def test_builds_the_rest_event_and_maps_the_proxy_response_back() -> None:
    invoker = RecordingInvoker(
        ok({"statusCode": 201, "headers": {"X-One": "1"}, "body": '{"made": true}'})
    )
    reply = call(
        GatewayApp(invoker, api()),
        "GET",
        "/users/a%20b",
        query=b"q=1&q=2&plus=a+b&flag",
        headers=[(b"Accept", b"application/json"), (b"X-Custom", b"v")],
    )

    assert reply.status == 201
    assert reply.json() == {"made": True}
    assert reply.header("X-One") == "1"
    assert reply.header("content-type") == "application/json"
    function_name, event = invoker.calls[0]
    assert function_name == "demo-dev"
    assert event["resource"] == "/users/{id}"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["multiValueQueryStringParameters"] == {
        "q": ["1", "2"],
        "plus": ["a+b"],
        "flag": [""],
    }
    assert event["queryStringParameters"]["q"] == "2"
    assert event["headers"]["X-Custom"] == "v"
    assert event["headers"]["X-Forwarded-For"] == "10.1.2.3"
    ctx = event["requestContext"]
    assert ctx["stage"] == "api"
    assert ctx["identity"]["sourceIp"] == "10.1.2.3"
    assert ctx["requestId"] == reply.header("x-amzn-RequestId")
    assert ctx["extendedRequestId"] == reply.header("x-amz-apigw-id")
    assert event["headers"]["X-Amzn-Trace-Id"] == reply.header("X-Amzn-Trace-Id")


def test_merges_headers_and_multi_value_headers_as_api_gateway() -> None:
    invoker = RecordingInvoker(
        ok(
            {
                "statusCode": 200,
                "headers": {"Set-Cookie": "ignored", "X-A": "a"},
                "multiValueHeaders": {"Set-Cookie": ["c=1", "d=2"]},
                "body": "",
            }
        )
    )
    reply = call(GatewayApp(invoker, api()), "GET", "/")

    cookies = [v for k, v in reply.headers if k.lower() == b"set-cookie"]
    assert cookies == [b"c=1", b"d=2"]
    assert reply.header("X-A") == "a"


@pytest.mark.parametrize(
    "response",
    [
        {"statusCode": 200, "body": {"not": "a string"}},
        {"body": "no status"},
        {"statusCode": "abc", "body": ""},
        {"statusCode": 200, "headers": ["x"], "body": ""},
        ["not", "an", "object"],
        None,
    ],
)
def test_answers_502_for_a_malformed_proxy_response(response: Any) -> None:
    reply = call(GatewayApp(RecordingInvoker(ok(response)), api()), "GET", "/")

    assert reply.status == 502
    assert reply.body == b'{"message": "Internal server error"}'
    assert reply.header("x-amzn-ErrorType") == "InternalServerErrorException"


def test_accepts_a_numeric_string_status_code() -> None:
    reply = call(GatewayApp(RecordingInvoker(ok({"statusCode": "202"})), api()), "GET", "/")

    assert reply.status == 202
    assert reply.body == b""


@pytest.mark.parametrize("status", ["error", "crash", "timeout", "oom"])
def test_answers_502_when_the_function_fails(status: str) -> None:
    invoker = RecordingInvoker(lambda e: Outcome(status, b'{"errorType": "X"}'))
    reply = call(GatewayApp(invoker, api()), "GET", "/")

    assert reply.status == 502
    assert reply.json() == {"message": "Internal server error"}


def test_answers_429_when_the_function_is_throttled() -> None:
    invoker = RecordingInvoker(lambda e: Outcome("throttled", b"{}"))
    reply = call(GatewayApp(invoker, api()), "GET", "/")

    assert reply.status == 429
    assert reply.body == b'{"message":"Too Many Requests"}'


def test_answers_504_past_the_integration_timeout() -> None:
    class SlowInvoker:
        async def invoke(self, function_name: str, payload: bytes, /) -> Outcome:
            await asyncio.sleep(0.3)
            return Outcome("ok", b'{"statusCode": 200}')

    reply = call(GatewayApp(SlowInvoker(), api(), integration_timeout=0.05), "GET", "/")

    assert reply.status == 504
    assert reply.body == b'{"message": "Endpoint request timed out"}'


def test_answers_413_for_a_declared_body_over_the_limit_without_invoking() -> None:
    invoker = RecordingInvoker(ok({"statusCode": 200}))
    app = GatewayApp(invoker, api(), max_body_bytes=10)
    reply = call(app, "POST", "/files/a", headers=[(b"Content-Length", b"11")], chunks=[b"x" * 11])

    assert reply.status == 413
    assert reply.body == b'{"message":"Request Too Long"}'
    assert invoker.calls == []


def test_answers_413_for_a_streamed_body_over_the_limit() -> None:
    invoker = RecordingInvoker(ok({"statusCode": 200}))
    app = GatewayApp(invoker, api(), max_body_bytes=10)
    reply = call(app, "POST", "/files/a", chunks=[b"x" * 6, b"x" * 6])

    assert reply.status == 413
    assert invoker.calls == []


def test_base64_encodes_binary_request_bodies_and_decodes_binary_responses() -> None:
    png = bytes(range(256))
    invoker = RecordingInvoker(
        ok(
            {
                "statusCode": 200,
                "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(png[::-1]).decode(),
                "isBase64Encoded": True,
            }
        )
    )
    reply = call(
        GatewayApp(invoker, api()),
        "POST",
        "/files/x/y.png",
        headers=[(b"Content-Type", b"image/png"), (b"Accept", b"image/png")],
        chunks=[png[:100], png[100:]],
    )

    event = invoker.calls[0][1]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    assert event["pathParameters"] == {"proxy": "x/y.png"}
    assert reply.body == png[::-1]
    assert reply.header("content-type") == "image/png"


def test_passes_base64_text_through_when_accept_is_not_binary() -> None:
    invoker = RecordingInvoker(
        ok(
            {
                "statusCode": 200,
                "body": base64.b64encode(b"\x00\x01").decode(),
                "isBase64Encoded": True,
            }
        )
    )
    reply = call(GatewayApp(invoker, api()), "GET", "/", headers=[(b"Accept", b"*/*")])

    assert reply.body == base64.b64encode(b"\x00\x01")


def test_answers_cors_preflight_from_the_gateway_without_invoking() -> None:
    invoker = RecordingInvoker(ok({"statusCode": 200}))
    reply = call(GatewayApp(invoker, api()), "OPTIONS", "/users/9")

    assert reply.status == 200
    assert reply.body == b""
    assert reply.header("Access-Control-Allow-Origin") == "https://x.test"
    assert reply.header("Access-Control-Allow-Methods") == "PUT,OPTIONS"
    assert "Content-Type" in (reply.header("Access-Control-Allow-Headers") or "")
    assert invoker.calls == []


def test_custom_cors_reaches_the_preflight_answer_as_the_route_table_computes_it() -> None:
    app = Lambic("cors", configure_logs=False)
    cors = CORSConfig(allow_origin="https://x.test", allow_headers=["X-Custom"], max_age=600)
    app.route("/items", methods=["GET", "POST"], cors=cors)(lambda: {})
    # What the manifest carries for each method: its ready `Access-Control-*` headers.
    routes = {
        path: {
            method: RouteInfo(path, method, "view", cors=cors.get_access_control_headers())
            for method in methods
        }
        for path, methods in app.routes.items()
    }
    gateway = GatewayApp(
        RecordingInvoker(ok({})),
        create_api_definition(routes, function_name="cors-dev", stage="api"),
    )

    reply = call(gateway, "OPTIONS", "/items")

    answered = {k.decode(): v.decode() for k, v in reply.headers if k.startswith(b"Access-")}
    assert answered == route_table(app)["preflight"]["/items"]
    assert answered["Access-Control-Max-Age"] == "600"
    assert "X-Custom" in answered["Access-Control-Allow-Headers"].split(",")
    assert answered["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"


def test_options_on_a_resource_without_cors_is_missing_authentication_token() -> None:
    reply = call(GatewayApp(RecordingInvoker(ok({})), api()), "OPTIONS", "/")

    assert reply.status == 403


def test_update_swaps_the_route_table_for_the_next_request() -> None:
    app = GatewayApp(RecordingInvoker(ok({"statusCode": 200, "body": "hi"})), api())
    assert call(app, "GET", "/new").status == 403

    app.update(create_api_definition({"/new": {"GET": {}}}, function_name="demo-dev", stage="api"))

    assert call(app, "GET", "/new").status == 200


def test_remaps_framing_headers_returned_by_the_function() -> None:
    result = parse_proxy_response(
        json.dumps({"statusCode": 200, "headers": {"Content-Length": "99", "X": 1}}).encode(),
        decode_base64=False,
    )

    assert ("x-amzn-Remapped-Content-Length", "99") in result.headers
    assert ("X", "1") in result.headers


def test_an_undecodable_base64_body_is_a_500_configuration_error() -> None:
    payload = json.dumps({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}).encode()

    with pytest.raises(MalformedProxyResponseError) as caught:
        parse_proxy_response(payload, decode_base64=True)

    assert caught.value.status == 500


def test_one_gateway_app_serves_on_a_new_event_loop_after_the_first_one_closed() -> None:
    class SlowInvoker:
        calls = 0

        async def invoke(self, function_name: str, payload: bytes, /) -> Outcome:
            SlowInvoker.calls += 1
            if SlowInvoker.calls == 2:
                await asyncio.sleep(0.3)
            return Outcome("ok", b'{"statusCode": 200}')

    app = GatewayApp(SlowInvoker(), api(), integration_timeout=0.05)

    first = call(app, "GET", "/")  # each call runs on a loop of its own
    second = call(app, "GET", "/")

    assert (first.status, second.status) == (200, 504)


def test_a_reload_forgets_cached_authorizer_results() -> None:
    import json as _json

    from lambic.runtime.authorization import AuthorizerCall, AuthorizerSpec, GateRequest
    from lambic.runtime.gateway import GatewayApp, create_api_definition

    spec = AuthorizerSpec("auth", "token", function="auth")
    api = create_api_definition(
        {"/": {"GET": {}}}, function_name="f", stage="api", authorizers={"/": {"GET": spec}}
    )
    app = GatewayApp(invoker=None, api=api)  # type: ignore[arg-type]
    request = GateRequest("GET", "/", [("Authorization", "t")])
    started = app.gate.begin(spec, request)
    assert isinstance(started, AuthorizerCall)
    policy = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
    answer = {"principalId": "p", "policyDocument": {"Statement": [policy]}}
    app.gate.finish(started, "ok", _json.dumps(answer).encode(), 1)
    assert not isinstance(app.gate.begin(spec, request), AuthorizerCall)

    app.update(api)

    assert isinstance(app.gate.begin(spec, request), AuthorizerCall)
