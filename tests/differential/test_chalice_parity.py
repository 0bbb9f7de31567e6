"""The same apps, run by real Chalice and by Lambic, answer the same events identically.

Each `tests/apps/http_*/app.py` is a Lambic app. It is loaded twice: as written, and
with its import line changed from `from lambic import` to `from chalice.app import` (the
porting story). Every request below becomes one API Gateway REST event, fired through
both `app(event, context)`; status code, headers and body must be equal.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lambic.app import create_rest_event

APPS = Path(__file__).resolve().parents[1] / "apps"

# (case, method, path, resource, path params, query, headers, body)
Req = tuple[str, str, str, str, dict[str, str], list[tuple[str, str]], list[tuple[str, str]], bytes]
JSON = [("Content-Type", "application/json")]

REQUESTS: list[Req] = [
    ("http_basic", "GET", "/", "/", {}, [], [], b""),
    ("http_basic", "GET", "/text", "/text", {}, [], [], b""),
    ("http_basic", "GET", "/list", "/list", {}, [], [], b""),
    ("http_basic", "GET", "/decimal", "/decimal", {}, [], [], b""),
    (
        "http_basic",
        "PUT",
        "/users/u%201/orders/9",
        "/users/{user_id}/orders/{order_id}",
        {"user_id": "u 1", "order_id": "9"},
        [],
        JSON,
        b'{"qty": 2, "tags": ["a"]}',
    ),
    (
        "http_basic",
        "POST",
        "/users/1/orders/2",
        "/users/{user_id}/orders/{order_id}",
        {"user_id": "1", "order_id": "2"},
        [],
        JSON,
        b'{"broken": ',
    ),
    (
        "http_basic",
        "POST",
        "/users/1/orders/2",
        "/users/{user_id}/orders/{order_id}",
        {"user_id": "1", "order_id": "2"},
        [],
        [("Content-Type", "application/xml")],
        b"<a/>",
    ),
    (
        "http_basic",
        "DELETE",
        "/users/1/orders/2",
        "/users/{user_id}/orders/{order_id}",
        {"user_id": "1", "order_id": "2"},
        [],
        [],
        b"",
    ),
    (
        "http_basic",
        "GET",
        "/echo",
        "/echo",
        {},
        [("a", "1"), ("b", "x y"), ("a", "2")],
        [("X-Custom", "yes"), ("Accept", "*/*")],
        b"",
    ),
    (
        "http_basic",
        "POST",
        "/echo",
        "/echo",
        {},
        [],
        [("Content-Type", "text/plain; charset=utf-8")],
        "héllo".encode(),
    ),
    ("http_basic", "POST", "/created", "/created", {}, [], JSON, b"{}"),
    ("http_basic", "DELETE", "/empty", "/empty", {}, [], [], b""),
    *[
        ("http_basic", "GET", f"/errors/{kind}", "/errors/{kind}", {"kind": kind}, [], [], b"")
        for kind in (
            "bad",
            "unauthorized",
            "forbidden",
            "notfound",
            "notallowed",
            "timeout",
            "conflict",
            "unprocessable",
            "toomany",
            "view",
        )
    ],
    ("http_basic", "GET", "/boom", "/boom", {}, [], [], b""),
    ("http_basic", "GET", "/bad-header", "/bad-header", {}, [], [], b""),
    ("http_basic", "GET", "/nowhere", "/nowhere", {}, [], [], b""),
    ("http_cors", "GET", "/open", "/open", {}, [], [], b""),
    ("http_cors", "POST", "/open", "/open", {}, [], [("Content-Type", "text/csv")], b"a,b"),
    ("http_cors", "GET", "/custom", "/custom", {}, [], [], b""),
    ("http_cors", "GET", "/custom-error", "/custom-error", {}, [], [], b""),
    ("http_cors", "GET", "/closed", "/closed", {}, [], [], b""),
    ("http_cors", "DELETE", "/open", "/open", {}, [], [], b""),
    ("http_binary", "GET", "/image", "/image", {}, [], [("Accept", "image/png")], b""),
    ("http_binary", "GET", "/image", "/image", {}, [], [("Accept", "*/*")], b""),
    ("http_binary", "GET", "/image", "/image", {}, [], [("Accept", "text/html")], b""),
    ("http_binary", "GET", "/image", "/image", {}, [], [], b""),
    (
        "http_binary",
        "POST",
        "/upload",
        "/upload",
        {},
        [],
        [("Content-Type", "application/octet-stream")],
        bytes([0, 1, 2, 250, 255]),
    ),
    ("http_binary", "POST", "/upload", "/upload", {}, [], JSON, b"{}"),
    (
        "http_binary",
        "GET",
        "/custom",
        "/custom",
        {},
        [],
        [("Accept", "application/vnd.custom")],
        b"",
    ),
    ("http_binary", "GET", "/json", "/json", {}, [], [("Accept", "image/png")], b""),
    ("http_middleware", "GET", "/hello", "/hello", {}, [], [], b""),
    ("http_middleware", "GET", "/hello", "/hello", {}, [], [("X-Block", "yes")], b""),
    ("http_middleware", "GET", "/unhandled", "/unhandled", {}, [], [], b""),
    ("http_middleware", "GET", "/crash", "/crash", {}, [], [], b""),
    ("http_blueprints", "GET", "/", "/", {}, [], [], b""),
    ("http_blueprints", "GET", "/users", "/users", {}, [], [], b""),
    ("http_blueprints", "GET", "/users/2", "/users/{user_id}", {"user_id": "2"}, [], [], b""),
    ("http_blueprints", "DELETE", "/users/9", "/users/{user_id}", {"user_id": "9"}, [], [], b""),
    ("http_blueprints", "POST", "/users/1", "/users/{user_id}", {"user_id": "1"}, [], [], b""),
    ("http_debug", "GET", "/ok", "/ok", {}, [], [], b""),
]


def _load(case: str, framework: str) -> Any:
    source = (APPS / case / "app.py").read_text(encoding="utf-8")
    if framework == "chalice":
        assert "from lambic import" in source
        source = source.replace("from lambic import", "from chalice.app import").replace(
            "Lambic", "Chalice"
        )
    name = f"_differential_{case}_{framework}"
    module = ModuleType(name)
    module.__file__ = str(APPS / case / "app.py")
    sys.modules[name] = module
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module.app


@pytest.fixture(autouse=True)
def _reset_app_loggers() -> Iterator[None]:
    # Both frameworks attach a stdout handler to the app's logger; pytest swaps stdout
    # per test, so drop the handlers to keep later tests from writing to a closed stream.
    yield
    for case in {r[0] for r in REQUESTS}:
        logger = logging.getLogger(case.replace("_", "-"))
        for handler in list(logger.handlers):
            logger.removeHandler(handler)


def _event(req: Req, binary_types: list[str]) -> dict[str, Any]:
    _, method, path, resource, params, query, headers, body = req
    return create_rest_event(
        method=method,
        path=path,
        resource_path=resource,
        path_params=params,
        query=query,
        headers=headers,
        body=body,
        binary_types=binary_types,
        stage="api",
        request_id="11111111-2222-3333-4444-555555555555",
        request_time_epoch_ms=1764061528000,
    )


def _both(req: Req) -> tuple[dict[str, Any], dict[str, Any]]:
    chalice_app = _load(req[0], "chalice")
    lambic_app = _load(req[0], "lambic")
    assert type(chalice_app).__module__ == "chalice.app"
    assert type(lambic_app).__module__ == "lambic.app.application"
    event = _event(req, list(lambic_app.api.binary_types))
    expected = chalice_app(copy.deepcopy(event), None)
    actual = lambic_app(copy.deepcopy(event), None)
    return expected, actual


@pytest.mark.parametrize("req", REQUESTS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in REQUESTS])
def test_lambic_answers_like_chalice(req: Req) -> None:
    expected, actual = _both(req)
    assert actual["statusCode"] == expected["statusCode"]
    assert actual["headers"] == expected["headers"]
    assert actual["multiValueHeaders"] == expected["multiValueHeaders"]
    assert actual.get("isBase64Encoded") == expected.get("isBase64Encoded")
    assert actual["body"] == expected["body"]


def test_debug_traceback_is_returned_by_both_with_the_same_shape() -> None:
    req: Req = ("http_debug", "GET", "/boom", "/boom", {}, [], [], b"")
    expected, actual = _both(req)
    assert actual["statusCode"] == expected["statusCode"] == 500
    assert actual["headers"] == expected["headers"] == {"Content-Type": "text/plain"}
    for body in (expected["body"], actual["body"]):
        assert body.startswith("Traceback (most recent call last):")
        assert body.rstrip().endswith("ValueError: debug me")


def test_middleware_order_and_conversion_match_chalice() -> None:
    req: Req = ("http_middleware", "GET", "/hello", "/hello", {}, [], [], b"")
    expected, actual = _both(req)
    assert actual["headers"]["X-Outer"] == "1"
    assert actual["headers"]["X-Seen-Path"] == "/hello"
    assert json.loads(actual["body"]) == json.loads(expected["body"]) == {"hello": "middleware"}


def test_binary_upload_reaches_the_view_as_bytes_in_both() -> None:
    req = next(r for r in REQUESTS if r[2] == "/upload" and r[7])
    expected, actual = _both(req)
    assert json.loads(actual["body"]) == {"size": 5, "first": 0, "last": 255}
    assert expected["body"] == actual["body"]
    image = next(r for r in REQUESTS if r[2] == "/image")
    _, image_response = _both(image)
    assert base64.b64decode(image_response["body"]).startswith(b"\x89PNG")
