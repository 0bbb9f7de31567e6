from __future__ import annotations

import base64
from typing import Any

import pytest

from lambic.app import BadRequestError, Request, create_rest_event


def _request(**kwargs: Any) -> Request:
    event = create_rest_event(
        method=kwargs.pop("method", "POST"),
        path="/a/1",
        resource_path="/a/{id}",
        path_params={"id": "1"},
        query=kwargs.pop("query", []),
        headers=kwargs.pop("headers", []),
        body=kwargs.pop("body", b""),
        binary_types=kwargs.pop("binary_types", []),
        stage="api",
        stage_vars=kwargs.pop("stage_vars", None),
    )
    return Request(event)


def test_exposes_method_resource_path_params_and_stage_vars() -> None:
    request = _request(stage_vars={"env": "dev"})
    assert request.method == "POST"
    assert request.path == "/a/{id}"
    assert request.uri_params == {"id": "1"}
    assert request.stage_vars == {"env": "dev"}
    assert request.context["stage"] == "api"


def test_query_params_give_last_value_and_getlist_all() -> None:
    request = _request(query=[("a", "1"), ("a", "2")])
    assert request.query_params is not None
    assert request.query_params["a"] == "2"
    assert request.query_params.get("a") == "2"
    assert request.query_params.getlist("a") == ["1", "2"]
    assert _request().query_params is None


def test_headers_match_any_case() -> None:
    request = _request(headers=[("X-Thing", "v")])
    assert request.headers["x-thing"] == "v"
    assert request.headers["X-THING"] == "v"
    assert "X-Thing" in request.headers
    assert request.headers.get("missing", "d") == "d"


def test_json_body_parses_only_for_json_content_type() -> None:
    assert _request(headers=[("Content-Type", "application/json")], body=b'{"a": 1}').json_body == {
        "a": 1
    }
    assert _request(headers=[("Content-Type", "text/plain")], body=b'{"a": 1}').json_body is None


def test_rejects_malformed_json_body_with_bad_request() -> None:
    request = _request(headers=[("Content-Type", "application/json")], body=b"{nope")
    with pytest.raises(BadRequestError, match=r"^Error Parsing JSON$"):
        _ = request.json_body


def test_raw_body_decodes_base64_binary_bodies() -> None:
    payload = bytes([0, 255, 10])
    request = _request(
        headers=[("Content-Type", "application/octet-stream")],
        body=payload,
        binary_types=["application/octet-stream"],
    )
    assert request.raw_body == payload
    assert _request(body="é".encode()).raw_body == "é".encode()


def test_invalid_base64_flagged_body_is_kept_as_text() -> None:
    event = {
        "requestContext": {"resourcePath": "/", "httpMethod": "GET"},
        "body": "plain text!",
        "isBase64Encoded": True,
    }
    assert Request(event).raw_body == b"plain text!"
    good = {**event, "body": base64.b64encode(b"ok").decode()}
    assert Request(good).raw_body == b"ok"


def test_to_dict_is_serialisable_and_original_event_is_kept() -> None:
    request = _request(query=[("q", "1")], headers=[("A", "b")])
    data = request.to_dict()
    assert set(data) == {
        "query_params",
        "headers",
        "uri_params",
        "method",
        "context",
        "stage_vars",
        "path",
    }
    assert data["query_params"] == {"q": "1"}
    assert data["headers"] == {"a": "b"}
    assert request.to_original_event()["httpMethod"] == "POST"
