from __future__ import annotations

import json
from typing import Any

import pytest

from lambic.app import Blueprint, Lambic, create_rest_event


def _call(app: Lambic, method: str, path: str, resource: str, **params: str) -> dict[str, Any]:
    event = create_rest_event(
        method=method,
        path=path,
        resource_path=resource,
        path_params=params,
        query=[],
        headers=[],
        body=b"",
        binary_types=[],
        stage="api",
    )
    return app(event, None)


def test_blueprint_routes_get_url_and_name_prefix_and_module_handler_string() -> None:
    bp = Blueprint("chalicelib.users")

    @bp.route("/{id}")
    def get_user(id: str) -> dict[str, str]:
        return {"id": id, "path": bp.current_request.path}

    @bp.authorizer()
    def auth(request: Any) -> dict[str, Any]:
        return {}

    @bp.schedule("rate(5 minutes)")
    def tick(event: Any) -> None: ...

    app = Lambic("bp", configure_logs=False)
    assert app.routes == {}
    app.register_blueprint(bp, url_prefix="/users", name_prefix="u_")
    entry = app.routes["/users/{id}"]["GET"]
    assert entry.view_name == "u_get_user"
    assert [a.name for a in app.builtin_auth_handlers] == ["u_auth"]
    assert app.builtin_auth_handlers[0].handler_string == "chalicelib.users.auth"
    assert app.event_sources[0].name == "u_tick"
    assert app.event_sources[0].handler_string == "chalicelib.users.tick"
    assert set(app.handler_map) == {"u_get_user", "u_auth", "u_tick"}
    response = _call(app, "GET", "/users/5", "/users/{id}", id="5")
    assert json.loads(response["body"]) == {"id": "5", "path": "/users/{id}"}


def test_blueprint_default_url_prefix_is_used_when_registering_without_one() -> None:
    bp = Blueprint(__name__, url_prefix="/v1")
    bp.route("/")(lambda: {})
    app = Lambic("bp-default", configure_logs=False)
    app.register_blueprint(bp)
    assert list(app.routes) == ["/v1"]


def test_blueprint_event_handler_gets_app_middleware_after_registration() -> None:
    bp = Blueprint(__name__)
    seen: list[str] = []

    @bp.lambda_function()
    def raw(event: dict[str, Any], context: Any) -> int:
        return int(event["n"]) * 2

    app = Lambic("bp-mw", configure_logs=False)

    @app.middleware("pure_lambda")
    def mark(event: Any, get_response: Any) -> Any:
        seen.append("mw")
        return get_response(event)

    app.register_blueprint(bp)
    assert app.handler_map["raw"]({"n": 2}, None) == 4
    assert seen == ["mw"]


def test_blueprint_attributes_need_a_registered_app() -> None:
    bp = Blueprint(__name__)
    with pytest.raises(RuntimeError, match="register_blueprint"):
        _ = bp.current_app
    with pytest.raises(RuntimeError):
        _ = bp.log


def test_every_public_decorator_of_the_app_is_on_blueprints_too() -> None:
    import inspect

    from lambic.app import DecoratorAPI

    def public(obj: Any) -> bool:
        return inspect.isfunction(obj) and not obj.__name__.startswith("_")

    decorators = {name for name, _ in inspect.getmembers(DecoratorAPI, predicate=public)}
    assert {"route", "authorizer", "on_ws_message", "middleware"} <= decorators
    on_blueprints = {name for name, _ in inspect.getmembers(Blueprint, predicate=public)}
    assert decorators <= on_blueprints
