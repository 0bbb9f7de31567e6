from __future__ import annotations

import base64
import json

from lambic.app.proxy_events import (
    create_rest_event,
    format_request_time,
    is_binary_media_type,
)


def _event(**overrides: object) -> dict[str, object]:
    kwargs: dict[str, object] = {
        "method": "get",
        "path": "/users/42",
        "resource_path": "/users/{id}",
        "path_params": {"id": "42"},
        "query": [],
        "headers": [],
        "body": b"",
        "binary_types": ["application/octet-stream"],
        "stage": "api",
        "request_id": "rid-1",
        "request_time_epoch_ms": 1764061528123,
    }
    kwargs.update(overrides)
    return create_rest_event(**kwargs)  # type: ignore[arg-type]


def test_repeated_query_key_puts_last_value_in_single_map_and_all_in_multi_map() -> None:
    event = _event(query=[("a", "1"), ("b", "x"), ("a", "2")])
    assert event["queryStringParameters"] == {"a": "2", "b": "x"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}


def test_repeated_header_puts_last_value_in_headers_and_all_in_multi_value_headers() -> None:
    event = _event(headers=[("Cookie", "a=1"), ("Accept", "*/*"), ("Cookie", "b=2")])
    assert event["headers"] == {"Cookie": "b=2", "Accept": "*/*"}
    assert event["multiValueHeaders"] == {"Cookie": ["a=1", "b=2"], "Accept": ["*/*"]}


def test_empty_maps_and_empty_body_are_null() -> None:
    event = _event(path_params={}, stage_vars={})
    for key in (
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
    ):
        assert event[key] is None, key
    assert event["isBase64Encoded"] is False


def test_request_context_has_api_gateway_fields_and_stage_prefixed_path() -> None:
    event = _event(headers=[("User-Agent", "curl/8")], source_ip="10.0.0.9")
    ctx = event["requestContext"]
    assert isinstance(ctx, dict)
    assert ctx["path"] == "/api/users/42"
    assert ctx["resourcePath"] == "/users/{id}"
    assert ctx["httpMethod"] == "GET"
    assert event["httpMethod"] == "GET"
    assert ctx["stage"] == "api"
    assert ctx["requestId"] == "rid-1"
    assert ctx["requestTimeEpoch"] == 1764061528123
    assert ctx["requestTime"] == "25/Nov/2025:09:05:28 +0000"
    assert ctx["protocol"] == "HTTP/1.1"
    assert ctx["accountId"] == "123456789012"
    assert ctx["apiId"] and ctx["domainName"].startswith(ctx["apiId"] + ".")
    assert ctx["identity"]["sourceIp"] == "10.0.0.9"
    assert ctx["identity"]["userAgent"] == "curl/8"
    assert ctx["identity"]["accessKey"] is None
    assert ctx["resourceId"] == _event()["requestContext"]["resourceId"]  # type: ignore[index]
    json.dumps(event)


def test_binary_content_type_body_is_base64_encoded() -> None:
    payload = bytes(range(256))
    event = _event(headers=[("Content-Type", "application/octet-stream")], body=payload)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(str(event["body"])) == payload


def test_text_body_is_passed_as_text() -> None:
    event = _event(headers=[("content-type", "application/json")], body=b'{"a": 1}')
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False


def test_binary_media_types_match_wildcards_and_ignore_parameters_and_case() -> None:
    assert is_binary_media_type("image/PNG; q=1", ["image/*"])
    assert is_binary_media_type("text/plain", ["*/*"])
    assert not is_binary_media_type("text/plain", ["image/*"])
    assert not is_binary_media_type(None, ["*/*"])
    assert not is_binary_media_type("", ["*/*"])


def test_request_time_uses_english_months_and_zero_padding() -> None:
    assert format_request_time(0) == "01/Jan/1970:00:00:00 +0000"
