from __future__ import annotations

import io
import json
import logging
import sys
from typing import Any

import pytest

from lambic.app import (
    CORSConfig,
    Lambic,
    Response,
    RouteError,
    create_rest_event,
)


def _app(**kwargs: Any) -> Lambic:
    return Lambic("test-app", configure_logs=False, **kwargs)


def _event(method: str, path: str, resource: str, **kwargs: Any) -> dict[str, Any]:
    return create_rest_event(
        method=method,
        path=path,
        resource_path=resource,
        path_params=kwargs.pop("params", {}),
        query=kwargs.pop("query", []),
        headers=kwargs.pop("headers", []),
        body=kwargs.pop("body", b""),
        binary_types=[],
        stage="api",
        **kwargs,
    )


def test_rejects_duplicate_method_on_the_same_route() -> None:
    app = _app()

    @app.route("/a", methods=["GET", "POST"])
    def first() -> None: ...

    with pytest.raises(RouteError, match="Duplicate method: 'POST' detected for route: '/a'"):

        @app.route("/a", methods=["POST"])
        def second() -> None: ...


def test_rejects_trailing_slash_and_query_in_route_path() -> None:
    app = _app()
    with pytest.raises(ValueError, match="trailing slash"):
        app.route("/a/")(lambda: None)
    with pytest.raises(ValueError, match="query string"):
        app.route("/a?b=1")(lambda: None)


def test_rejects_sibling_parameters_with_different_names() -> None:
    app = _app()
    app.route("/users/{id}")(lambda id: id)
    with pytest.raises(RouteError, match="only one is allowed"):
        app.route("/users/{name}/posts")(lambda name: name)


def test_rejects_unknown_route_keyword_and_non_list_content_types() -> None:
    app = _app()
    with pytest.raises(TypeError, match="unexpected keyword arguments: bogus"):
        app.route("/a", methods=["GET"], bogus=True)(lambda: None)
    with pytest.raises(ValueError, match="content_types value must be a list"):
        app.route("/b", content_types="application/json")(lambda: None)


def test_rejects_cors_with_user_options_method_and_differing_cors() -> None:
    app = _app()
    with pytest.raises(RouteError, match="cannot have both cors=True"):
        app.route("/a", methods=["GET", "OPTIONS"], cors=True)(lambda: None)
    app.route("/b", methods=["GET"], cors=True)(lambda: None)
    with pytest.raises(RouteError, match="differing CORS"):
        app.route("/b", methods=["PUT"], cors=CORSConfig(allow_origin="https://x"))(lambda: None)


def test_app_wide_cors_default_applies_to_routes() -> None:
    app = _app()
    app.api.cors = True

    @app.route("/a")
    def a() -> dict[str, str]:
        return {}

    assert app.routes["/a"]["GET"].cors == CORSConfig()
    response = app(_event("GET", "/a", "/a"), None)
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"


def test_match_route_follows_api_gateway_rules() -> None:
    app = _app()
    app.route("/users/{id}", methods=["GET"])(lambda id: id)
    app.route("/files/{path+}", methods=["GET"])(lambda path: path)
    match = app.match_route("GET", "/users/a%2Fb/")
    assert match is not None and match.entry is app.routes["/users/{id}"]["GET"]
    assert match.path_params == {"id": "a/b"}
    no_method = app.match_route("DELETE", "/users/1")
    assert no_method is not None and no_method.entry is None
    assert app.match_route("GET", "/nothing") is None
    greedy = app.match_route("GET", "/files/x/y")
    assert greedy is not None and greedy.path_params == {"path": "x/y"}


def test_greedy_route_receives_the_rest_of_the_path() -> None:
    app = _app()

    @app.route("/files/{proxy+}")
    def files(proxy: str) -> dict[str, str]:
        return {"proxy": proxy}

    event = _event("GET", "/files/a/b", "/files/{proxy+}", params={"proxy": "a/b"})
    assert json.loads(app(event, None)["body"]) == {"proxy": "a/b"}


def test_preflight_response_lists_cors_methods_then_options() -> None:
    app = _app()
    cors = CORSConfig(allow_origin="https://a.example", max_age=60)
    app.route("/x", methods=["GET", "PUT"], cors=cors)(lambda: None)
    app.route("/x", methods=["DELETE"])(lambda: None)
    response = app.preflight_response("/x")
    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Methods"] == "GET,PUT,OPTIONS"
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://a.example"
    assert response["headers"]["Access-Control-Max-Age"] == "60"


def test_non_proxy_event_answers_unknown_request_500() -> None:
    app = _app()
    response = app({"Records": []}, None)
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {
        "Code": "InternalServerError",
        "Message": "Unknown request.",
    }


def test_http_api_v2_event_gets_v2_response_with_cookies_and_joined_headers() -> None:
    app = _app()

    @app.route("/items/{id}", methods=["POST"])
    def item(id: str) -> Response:
        request = app.current_request
        assert request is not None
        return Response(
            body={"id": id, "json": request.json_body, "q": request.query_params.getlist("a")},
            headers={"Set-Cookie": ["s=1", "t=2"], "X-Multi": ["a", "b"]},
        )

    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/items/7",
        "rawQueryString": "a=1&a=2",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/items/7"}, "stage": "$default"},
        "body": '{"k": true}',
        "isBase64Encoded": False,
    }
    response = app(event, None)
    assert response == {
        "statusCode": 200,
        "headers": {"X-Multi": "a,b"},
        "cookies": ["s=1", "t=2"],
        "body": '{"id":"7","json":{"k":true},"q":["1","2"]}',
        "isBase64Encoded": False,
    }
    assert app.current_request is not None
    assert app.current_request.to_original_event() is event
    assert app.current_request.payload_version == "2.0"


def test_v2_binary_response_is_base64_without_accept_header() -> None:
    app = _app()

    @app.route("/img")
    def img() -> Response:
        return Response(body=b"\x89PNG", headers={"Content-Type": "image/png"})

    event = {
        "version": "2.0",
        "rawPath": "/img",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": "/img"}},
    }
    response = app(event, None)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert response["body"] == "iVBORw=="


def test_unknown_path_in_v2_answers_http_api_not_found() -> None:
    app = _app()
    app.route("/a")(lambda: {})
    event = {
        "version": "2.0",
        "rawPath": "/nope",
        "requestContext": {"http": {"method": "GET", "path": "/nope"}},
    }
    response = app(event, None)
    assert response["statusCode"] == 404
    assert response["body"] == '{"message":"Not Found"}'
    assert response["headers"] == {"Content-Type": "application/json"}


def test_app_log_writes_errors_to_stdout_in_chalice_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    logger = logging.getLogger("log-format-app")
    try:
        app = Lambic("log-format-app")
        app.log.info("hidden")
        app.log.error("shown %s", 1)
        assert stream.getvalue() == "log-format-app - ERROR - shown 1\n"
        app.debug = True
        app.log.debug("now visible")
        assert stream.getvalue().endswith("log-format-app - DEBUG - now visible\n")
        assert logger.propagate is False
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)


def test_unhandled_exception_is_logged_and_answers_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = _app()
    app.log.propagate = True

    @app.route("/boom")
    def boom() -> None:
        raise ZeroDivisionError("x")

    with caplog.at_level(logging.ERROR, logger="test-app"):
        response = app(_event("GET", "/boom", "/boom"), None)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["Code"] == "InternalServerError"
    assert "Caught exception for path /boom" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_methods_are_case_insensitive_and_unknown_methods_rejected() -> None:
    app = _app()
    app.route("/a", methods=["post"])(lambda: {})
    assert "POST" in app.routes["/a"]
    with pytest.raises(RouteError, match="unsupported HTTP method"):
        app.route("/b", methods=["FETCH"])(lambda: {})
