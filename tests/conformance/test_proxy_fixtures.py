"""Every API Gateway v1, HTTP API v2 and Function URL sample reaches a view intact.

The samples are copies of real/published events (tests/fixtures/lambda-events/http,
see ORIGIN.md). Each is sent through `app(event, context)` of an app whose view echoes
what it saw; the expectations are computed from the raw event by the rules AWS
documents (v1: multiValue maps hold every value; v2: re-parse rawQueryString, cookies
rejoin into the Cookie header; base64 bodies decoded).
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from lambic.app import Lambic, Response, create_rest_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lambda-events" / "http"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8-sig"))
    return data


def _names(kind: str) -> list[str]:
    rows = (FIXTURES / "ORIGIN.md").read_text(encoding="utf-8").splitlines()
    names = []
    for row in rows:
        cells = [c.strip() for c in row.split("|")]
        if len(cells) > 3 and cells[2] == kind:
            names.append(cells[1].strip("`"))
    assert names, kind
    return names


V1 = _names("apigw-v1")
V2 = _names("apigw-v2") + _names("function-url")


def _echo_app(resources: list[str]) -> Lambic:
    app = Lambic("conformance", configure_logs=False)

    def echo(**params: str) -> Response:
        request = app.current_request
        assert request is not None
        query = request.query_params
        seen = {
            "method": request.method,
            "path": request.path,
            "params": params,
            "uri_params": request.uri_params,
            "query": None if query is None else {k: query.getlist(k) for k in query},
            "headers": dict(request.headers),
            "body": base64.b64encode(request.raw_body).decode("ascii"),
            "stage_vars": request.stage_vars,
            "original_is_event": True,
        }
        return Response(
            body=seen,
            headers={"Content-Type": "application/json", "Set-Cookie": ["a=1", "b=2"]},
        )

    for resource in resources:
        app.route(resource, methods=["ANY"], content_types=["*/*"], name=resource)(echo)
    return app


def _expected_body(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            # Some hand-written samples flag plain text as base64; it stays text.
            return str(body).encode("utf-8")
    return str(body).encode("utf-8")


def _call(app: Lambic, event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    response = app(json.loads(json.dumps(event)), None)
    assert response["statusCode"] == 200, response
    seen: dict[str, Any] = json.loads(response["body"])
    return response, seen


@pytest.mark.parametrize("name", V1)
def test_rest_v1_sample_is_converted_for_the_view(name: str) -> None:
    event = _load(name)
    context = event.get("requestContext") or {}
    resource = context.get("resourcePath") or event["resource"]
    response, seen = _call(_echo_app([resource]), event)

    assert seen["method"] == (context.get("httpMethod") or event["httpMethod"])
    assert seen["path"] == resource
    assert seen["uri_params"] == event.get("pathParameters")
    if event.get("multiValueQueryStringParameters") is not None:
        assert seen["query"] == event["multiValueQueryStringParameters"]
    elif event.get("queryStringParameters"):
        assert seen["query"] == {k: [v] for k, v in event["queryStringParameters"].items()}
    else:
        assert seen["query"] is None
    headers = event.get("headers")
    if headers is None and event.get("multiValueHeaders"):
        headers = {k: v[-1] for k, v in event["multiValueHeaders"].items()}
    assert seen["headers"] == {k.lower(): v for k, v in (headers or {}).items()}
    assert base64.b64decode(seen["body"]) == _expected_body(event)
    assert seen["stage_vars"] == event.get("stageVariables")
    # v1 answers: repeated headers in multiValueHeaders, no cookies field.
    assert response["multiValueHeaders"] == {"Set-Cookie": ["a=1", "b=2"]}
    assert response["headers"] == {"Content-Type": "application/json"}
    assert "cookies" not in response


@pytest.mark.parametrize("name", V2)
def test_http_api_v2_and_function_url_sample_is_converted_for_the_view(name: str) -> None:
    event = _load(name)
    route_key = event.get("routeKey", "$default")
    resources = ["/", "/{proxy+}"]
    if " " in route_key and route_key.split(" ", 1)[1] not in resources:
        resources.append(route_key.split(" ", 1)[1])
    response, seen = _call(_echo_app(resources), event)

    assert seen["method"] == event["requestContext"]["http"]["method"]
    raw_query = event.get("rawQueryString") or ""
    if raw_query:
        expected_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            expected_query.setdefault(key, []).append(value)
        assert seen["query"] == expected_query
    else:
        assert seen["query"] is None
    expected_headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if event.get("cookies") and "cookie" not in expected_headers:
        expected_headers["cookie"] = "; ".join(event["cookies"])
    assert seen["headers"] == expected_headers
    assert base64.b64decode(seen["body"]) == _expected_body(event)
    # 2.0 answers: Set-Cookie moves to cookies, no multiValueHeaders.
    assert response["cookies"] == ["a=1", "b=2"]
    assert response["headers"] == {"Content-Type": "application/json"}
    assert "multiValueHeaders" not in response
    assert response["isBase64Encoded"] is False


def test_v1_repeated_query_key_reaches_view_with_every_value_and_last_wins() -> None:
    event = _load("aws-lambda-rust-runtime/example-apigw-request-multi-value-parameters.json")
    app = _echo_app(["/{proxy+}"])
    _, seen = _call(app, event)
    assert seen["query"]["name"] == ["me", "me2"]
    request = app.current_request
    assert request is not None and request.query_params is not None
    assert request.query_params["name"] == "me2"


def test_v2_query_is_reparsed_from_raw_query_string_keeping_encoded_plus() -> None:
    event = _load("aws-lambda-dotnet/values-get-querystring-httpapi-v2-encoding-request.json")
    assert "%2B" in event["rawQueryString"]
    _, seen = _call(_echo_app(["/{proxy+}"]), event)
    assert any("+" in v for values in seen["query"].values() for v in values)


def test_v2_named_stage_prefix_is_not_part_of_the_route() -> None:
    event = _load("aws-lambda-dotnet/values-get-all-httpapi-v2-with-stage.json")
    _, seen = _call(_echo_app(["/{proxy+}"]), event)
    assert seen["params"] == {"proxy": "api/values"}


def test_v2_route_is_found_from_the_path_when_route_key_is_default() -> None:
    event = _load("aws-lambda-go/function-url-request-with-headers-and-cookies-and-text-body.json")
    app = _echo_app(["/hello", "/{proxy+}"])
    _, seen = _call(app, event)
    assert seen["path"] == "/hello"
    assert seen["params"] == {}


def test_function_url_base64_body_is_decoded() -> None:
    event = _load("aws-lambda-go/function-url-domain-only-request-with-base64-encoded-body.json")
    _, seen = _call(_echo_app(["/"]), event)
    assert base64.b64decode(seen["body"]) == b"<idk/>"


def test_v1_catch_all_resource_routes_to_the_apps_own_route_by_path() -> None:
    event = _load("aws-lambda-dotnet/minimal-api-post.json")
    app = Lambic("catch-all", configure_logs=False)

    @app.route("/test-post-complex", methods=["POST"])
    def complex_post() -> dict[str, Any]:
        request = app.current_request
        assert request is not None
        return {"got": request.json_body}

    response = app(event, None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"got": {"testString": "string"}}


def test_v1_response_matches_published_proxy_response_sample() -> None:
    sample = _load("aws-lambda-java-libs/apigw_proxy_response.json")
    response = Response(
        body=sample["body"],
        status_code=sample["statusCode"],
        headers={**sample["headers"], **sample["multiValueHeaders"]},
    ).to_dict(["application/octet-stream"])
    assert response == {k: v for k, v in sample.items() if k != "isBase64Encoded"}


def test_v2_response_matches_published_function_url_response_sample() -> None:
    sample = _load("aws-lambda-go/lambda-urls-response.json")
    event = _load("aws-lambda-go/apigw-v2-request-no-authorizer.json")
    app = Lambic("urls", configure_logs=False)

    @app.route("/")
    def index() -> Response:
        return Response(
            body=sample["body"],
            status_code=sample["statusCode"],
            headers={**sample["headers"], "Set-Cookie": sample["cookies"]},
        )

    assert app(event, None) == sample


def test_create_rest_event_reproduces_a_captured_api_gateway_event() -> None:
    captured = _load("aws-lambda-dotnet/minimal-api-post.json")
    ctx = captured["requestContext"]
    built = create_rest_event(
        method="POST",
        path=captured["path"],
        resource_path=captured["resource"],
        path_params=captured["pathParameters"],
        query=[],
        headers=[(k, v) for k, vs in captured["multiValueHeaders"].items() for v in vs],
        body=captured["body"].encode("utf-8"),
        binary_types=[],
        stage=ctx["stage"],
        source_ip=ctx["identity"]["sourceIp"],
        request_id=ctx["requestId"],
        request_time_epoch_ms=ctx["requestTimeEpoch"],
        api_id=ctx["apiId"],
        account_id=ctx["accountId"],
        domain_name=ctx["domainName"],
    )
    # Same keys in the same order at every level, as AWS serialises them.
    assert list(built) == list(captured)
    assert list(built["requestContext"]) == list(ctx)
    assert list(built["requestContext"]["identity"]) == list(ctx["identity"])
    for key in (
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
        "isBase64Encoded",
    ):
        assert built[key] == captured[key], key
    for key in (
        "resourcePath",
        "httpMethod",
        "requestTime",
        "path",
        "accountId",
        "protocol",
        "stage",
        "domainPrefix",
        "requestTimeEpoch",
        "requestId",
        "identity",
        "domainName",
        "apiId",
    ):
        assert built["requestContext"][key] == ctx[key], key
