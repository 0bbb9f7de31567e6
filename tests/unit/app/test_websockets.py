"""WebSocket handlers: Chalice's decorators, event object, websocket_api and feature flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambic import Lambic, WebsocketDisconnectedError
from lambic.app import BadRequestError, Response, functions
from lambic.app.websocket_api import WebsocketAPI, websocket_endpoint
from lambic.app.websockets import WebsocketEvent, missing_feature_flags

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lambda-events" / "events"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8-sig"))
    return data


class GoneException(Exception):
    pass


class FakeManagementClient:
    """Stands in for boto3's apigatewaymanagementapi client (records calls)."""

    class exceptions:
        GoneException = GoneException

    def __init__(self, gone: set[str]) -> None:
        self.gone = gone
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _call(self, name: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((name, kwargs))
        if kwargs["ConnectionId"] in self.gone:
            raise GoneException()
        return {"ConnectedAt": "now"}

    def post_to_connection(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("post", **kwargs)

    def delete_connection(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("delete", **kwargs)

    def get_connection(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("get", **kwargs)


class FakeSession:
    region_name = "eu-west-1"

    def __init__(self, gone: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.endpoints: list[str] = []
        self.client_obj = FakeManagementClient(set(gone))

    def client(self, service: str, endpoint_url: str) -> FakeManagementClient:
        assert service == "apigatewaymanagementapi"
        self.endpoints.append(endpoint_url)
        return self.client_obj


def make_app() -> Lambic:
    app = Lambic("chat", configure_logs=False)
    app.experimental_feature_flags.update(["WEBSOCKETS"])
    return app


def test_event_reads_a_real_message_payload() -> None:
    event = WebsocketEvent(load("aws-lambda-go/apigw-websocket-request-send-message.json"), None)
    assert event.connection_id == "R1kmxc2VNjMCFIA="
    assert event.domain_name == "dl7ptocha9.execute-api.ap-northeast-1.amazonaws.com"
    assert event.stage == "prod"
    assert event.json_body == {"a": 1}
    assert event.to_dict()["requestContext"]["routeKey"] == "$default"


def test_connect_event_without_body_reads_none_as_chalice_does() -> None:
    event = WebsocketEvent(load("aws-lambda-dotnet/websocket-api-connect-request.json"), None)
    assert event.body == "None"
    with pytest.raises(BadRequestError, match="Error Parsing JSON"):
        _ = event.json_body


def test_decorators_register_one_function_per_route_named_as_chalice_deploys_them() -> None:
    app = make_app()

    @app.on_ws_connect()
    def connect(event: WebsocketEvent) -> None: ...

    @app.on_ws_message(name="relay")
    def message(event: WebsocketEvent) -> None: ...

    @app.on_ws_disconnect()
    def disconnect(event: WebsocketEvent) -> None: ...

    specs = {s.name: (s.handler, s.kind) for s in functions(app)}
    assert specs == {
        "websocket_connect": ("app.connect", "websocket"),
        "websocket_message": ("app.message", "websocket"),
        "websocket_disconnect": ("app.disconnect", "websocket"),
    }
    assert set(app.websocket_handlers) == {"$connect", "$default", "$disconnect"}
    assert app.websocket_handlers["$default"].name == "relay"
    assert app._features_used == {"WEBSOCKETS"}


def test_a_second_handler_for_one_route_is_refused_with_chalices_message() -> None:
    app = make_app()

    @app.on_ws_message()
    def one(event: WebsocketEvent) -> None: ...

    with pytest.raises(ValueError, match="Duplicate websocket handler: 'on_ws_message'"):

        @app.on_ws_message()
        def two(event: WebsocketEvent) -> None: ...


def test_handler_answers_200_unless_it_returns_a_status() -> None:
    app = make_app()
    app.websocket_api.session = FakeSession()

    @app.on_ws_connect()
    def connect(event: WebsocketEvent) -> Any:
        return Response(body="no", status_code=403) if event.body == "None" else None

    @app.on_ws_message()
    def message(event: WebsocketEvent) -> Any:
        return {"body": "x"}

    raw = load("aws-lambda-dotnet/websocket-api-connect-request.json")
    assert connect(raw, None)["statusCode"] == 403
    msg = load("aws-lambda-go/apigw-websocket-request-send-message.json")
    assert message(msg, None) == {"statusCode": 200, "body": "x"}


def test_send_in_a_handler_targets_the_api_of_the_event_by_its_id_and_region() -> None:
    app = make_app()
    session = FakeSession()
    app.websocket_api = WebsocketAPI(env={"AWS_REGION": "us-west-2"})
    app.websocket_api.session = session

    @app.on_ws_message()
    def echo(event: WebsocketEvent) -> None:
        app.websocket_api.send(event.connection_id, event.body)

    echo(load("aws-lambda-go/apigw-websocket-request-send-message.json"), None)
    # Chalice builds the endpoint from apiId, not domainName (custom domains).
    assert session.endpoints == ["https://gy415nuibc.execute-api.us-west-2.amazonaws.com/prod"]
    assert session.client_obj.calls == [
        ("post", {"ConnectionId": "R1kmxc2VNjMCFIA=", "Data": '{\r\n\t"a": 1\r\n}'})
    ]


def test_send_under_lambic_local_targets_the_loopback_domain_over_http() -> None:
    app = make_app()
    session = FakeSession()
    app.websocket_api.session = session

    @app.on_ws_message()
    def echo(event: WebsocketEvent) -> None:
        app.websocket_api.send(event.connection_id, "hi")

    raw = load("aws-lambda-go/apigw-websocket-request-send-message.json")
    raw["requestContext"]["domainName"] = "127.0.0.1:8001"
    raw["requestContext"]["stage"] = "api"
    echo(raw, None)
    assert session.endpoints == ["http://127.0.0.1:8001/api"]


def test_gone_connection_raises_websocket_disconnected_error() -> None:
    api = WebsocketAPI(env={})
    api.session = FakeSession(gone={"gone="})
    api.configure("abc.execute-api.us-east-1.amazonaws.com", "api")
    for call in (
        lambda: api.send("gone=", "x"),
        lambda: api.close("gone="),
        lambda: api.info("gone="),
    ):
        with pytest.raises(WebsocketDisconnectedError) as caught:
            call()
        assert caught.value.connection_id == "gone="
    assert api.info("here=") == {"ConnectedAt": "now"}


def test_websocket_api_needs_a_session_and_an_endpoint_as_chalice_says() -> None:
    api = WebsocketAPI(env={})
    with pytest.raises(ValueError, match=r"Assign app\.websocket_api\.session"):
        api.send("a", "b")
    api.session = FakeSession()
    with pytest.raises(ValueError, match=r"WebsocketAPI\.configure must be called"):
        api.send("a", "b")


def test_configure_from_api_id_without_a_region_says_what_to_set() -> None:
    api = WebsocketAPI(env={})
    with pytest.raises(ValueError, match="AWS_REGION"):
        api.configure_from_api_id("abc", "api")
    cn = WebsocketAPI(env={"AWS_REGION": "cn-north-1"})
    cn.configure_from_api_id("abc", "api")
    cn.session = FakeSession()
    cn.send("c", "m")
    assert cn.session.endpoints == ["https://abc.execute-api.cn-north-1.amazonaws.com.cn/api"]


def test_endpoint_is_https_except_on_loopback() -> None:
    assert websocket_endpoint("ws.example.com", "v1") == "https://ws.example.com/v1"
    assert websocket_endpoint("localhost:9000", "v1") == "http://localhost:9000/v1"


def test_middleware_for_websocket_events_wraps_the_handler() -> None:
    app = make_app()
    app.websocket_api = WebsocketAPI(env={"AWS_REGION": "us-east-1"})
    seen: list[str] = []

    @app.middleware("websocket")
    def record(event: WebsocketEvent, get_response: Any) -> Any:
        seen.append(event.connection_id)
        return get_response(event)

    @app.on_ws_disconnect()
    def gone(event: WebsocketEvent) -> None: ...

    gone(load("aws-lambda-go/apigw-websocket-request-disconnect.json"), None)
    assert seen == ["R1kmxc2VNjMCFIA="]


def test_missing_opt_in_gives_chalices_experimental_message() -> None:
    message = missing_feature_flags({"WEBSOCKETS"}, set())
    assert message is not None
    assert "app.experimental_feature_flags.update([\n    'WEBSOCKETS'\n])" in message
    assert missing_feature_flags({"WEBSOCKETS"}, {"WEBSOCKETS"}) is None


def test_a_chalice_apps_websocket_handlers_become_the_same_functions() -> None:
    from chalice import Chalice

    app = Chalice("ported")
    app.experimental_feature_flags.update(["WEBSOCKETS"])

    @app.on_ws_message()
    def message(event: Any) -> None: ...

    @app.on_ws_disconnect()
    def gone(event: Any) -> None: ...

    assert {(s.name, s.handler, s.kind) for s in functions(app)} == {
        ("websocket_message", "app.message", "websocket"),
        ("websocket_disconnect", "app.gone", "websocket"),
    }


def test_blueprint_websocket_handler_gets_the_apps_api_and_middleware() -> None:
    from lambic.app import Blueprint

    blueprint = Blueprint(__name__)
    seen: list[str] = []

    @blueprint.on_ws_message()
    def message(event: WebsocketEvent) -> None:
        seen.append(event.body)

    app = make_app()
    app.register_blueprint(blueprint)

    @app.middleware("websocket")
    def tag(event: WebsocketEvent, get_response: Any) -> Any:
        seen.append("middleware")
        return get_response(event)

    assert [s.name for s in functions(app)] == ["websocket_message"]
    raw = load("aws-lambda-go/apigw-websocket-request-send-message.json")
    raw["requestContext"]["domainName"] = "127.0.0.1:8001"
    app.handler_map["message"](raw, None)
    assert seen == ["middleware", '{\r\n\t"a": 1\r\n}']
    assert app.websocket_api._endpoint == "http://127.0.0.1:8001/prod"


def test_client_is_built_once_and_the_first_endpoint_stays() -> None:
    api = WebsocketAPI(env={"AWS_REGION": "us-east-1"})
    session = FakeSession()
    api.session = session
    api.configure_from_api_id("first", "api")
    api.configure("second.example.com", "v2")
    api.send("a", "1")
    api.send("b", "2")
    assert session.endpoints == ["https://first.execute-api.us-east-1.amazonaws.com/api"]


def test_errors_other_than_gone_propagate_unchanged() -> None:
    class Throttled(Exception):
        pass

    api = WebsocketAPI(env={})
    session = FakeSession()

    def post_to_connection(**kwargs: Any) -> dict[str, Any]:
        raise Throttled()

    session.client_obj.post_to_connection = post_to_connection  # type: ignore[method-assign]
    api.session = session
    api.configure("abc.execute-api.us-east-1.amazonaws.com", "api")
    with pytest.raises(Throttled):
        api.send("c", "m")
