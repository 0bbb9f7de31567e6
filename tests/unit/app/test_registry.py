from __future__ import annotations

import json
from typing import Any

import pytest

from lambic.app import CORSConfig, FunctionSpec, Lambic, functions, route_table


def _app() -> Lambic:
    app = Lambic("reg", configure_logs=False)

    @app.authorizer(ttl_seconds=60)
    def auth(request: Any) -> dict[str, Any]:
        return {}

    app.route("/a", methods=["GET", "PUT"], authorizer=auth, api_key_required=True)(lambda: {})
    app.route("/b", cors=CORSConfig(allow_headers=["X-One"], max_age=5))(lambda: {})

    @app.schedule("rate(1 hour)")
    def hourly(event: Any) -> None: ...

    @app.on_s3_event(bucket="photos")
    def photos(event: Any) -> None: ...

    @app.lambda_function(name="worker")
    def worker(event: Any, context: Any) -> None: ...

    return app


def test_functions_lists_api_authorizers_event_sources_and_lambdas_in_order() -> None:
    specs = functions(_app())
    assert [(s.name, s.handler, s.kind) for s in specs] == [
        ("api_handler", "app.app", "api"),
        ("auth", "app.auth", "authorizer"),
        ("hourly", "app.hourly", "schedule"),
        ("photos", "app.photos", "s3"),
        ("worker", "app.worker", "lambda"),
    ]
    assert specs[2].event_source.name == "hourly"
    assert specs[0].event_source is None


def test_app_without_routes_has_no_api_handler() -> None:
    app = Lambic("no-routes", configure_logs=False)
    app.lambda_function()(lambda event, context: None)
    assert [s.kind for s in functions(app)] == ["lambda"]


def test_function_spec_is_immutable_and_compares_by_value() -> None:
    spec = FunctionSpec(name="a", handler="app.a", kind="lambda")
    assert spec == FunctionSpec(name="a", handler="app.a", kind="lambda")
    with pytest.raises(AttributeError):
        spec.name = "b"  # type: ignore[misc]


def test_route_table_is_json_data_with_preflight_auth_and_api_keys() -> None:
    table = route_table(_app())
    json.dumps(table)
    assert table["routes"] == {"/a": ["GET", "PUT"], "/b": ["GET"]}
    assert table["authorizers"] == {"/a": {"GET": "auth", "PUT": "auth"}}
    assert table["api_key_required"] == {"/a": ["GET", "PUT"]}
    assert list(table["preflight"]) == ["/b"]
    preflight = table["preflight"]["/b"]
    assert preflight["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert "X-One" in preflight["Access-Control-Allow-Headers"].split(",")
    assert preflight["Access-Control-Max-Age"] == "5"
    assert "application/octet-stream" in table["binary_types"]
