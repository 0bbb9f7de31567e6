"""`client.websocket` of the test client: connections, messages, broadcasts, refusals."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambic import Lambic, WebsocketDisconnectedError
from lambic._testing_websockets import WebsocketRefusedError
from lambic.app import SQSEvent
from lambic.app.websockets import WebsocketEvent
from lambic.testing import Client


def chat_app() -> tuple[Lambic, list[str], list[dict[str, Any]]]:
    app = Lambic("chat", configure_logs=False)
    app.experimental_feature_flags.update(["WEBSOCKETS"])
    own_session = boto3.session.Session(region_name="eu-west-1")
    app.websocket_api.session = own_session
    members: list[str] = []
    disconnects: list[dict[str, Any]] = []

    @app.on_ws_connect()
    def connect(event: WebsocketEvent) -> Any:
        query = event.to_dict().get("queryStringParameters") or {}
        if query.get("token") != "ok":
            return {"statusCode": 401}
        members.append(event.connection_id)
        return None

    @app.on_ws_message()
    def message(event: WebsocketEvent) -> Any:
        for member in list(members):
            try:
                app.websocket_api.send(member, event.body)
            except WebsocketDisconnectedError:
                members.remove(member)
        return {"body": "sent"}

    @app.on_ws_disconnect()
    def disconnect(event: WebsocketEvent) -> None:
        disconnects.append(event.to_dict()["requestContext"])

    @app.on_sqs_message(queue="announcements")
    def announce(event: SQSEvent) -> None:
        for record in event:
            for member in members:
                app.websocket_api.send(member, record.body)

    return app, members, disconnects


def test_connect_send_and_read_what_the_app_sent_back() -> None:
    app, _, _ = chat_app()
    with Client(app) as client:
        alice = client.websocket.connect(query={"token": "ok"})
        bob = client.websocket.connect(query={"token": "ok"})
        assert alice.send("hello") == {"statusCode": 200, "body": "sent"}
        assert alice.receive() == "hello"
        assert bob.receive() == "hello"
        with pytest.raises(LookupError):
            bob.receive()


def test_connect_handler_can_refuse_with_its_status() -> None:
    app, members, _ = chat_app()
    with Client(app) as client, pytest.raises(WebsocketRefusedError) as refused:
        client.websocket.connect(query={"token": "bad"})
    assert refused.value.status_code == 401
    assert members == []


def test_closed_connection_runs_disconnect_and_is_gone_for_send() -> None:
    app, members, disconnects = chat_app()
    with Client(app) as client:
        alice = client.websocket.connect(query={"token": "ok"})
        bob = client.websocket.connect(query={"token": "ok"})
        bob.close()
        assert disconnects[0]["disconnectStatusCode"] == 1000
        assert disconnects[0]["connectionId"] == bob.connection_id
        alice.send("still there?")  # the app drops bob on WebsocketDisconnectedError
        assert members == [alice.connection_id]
        assert alice.receive() == "still there?"


def test_an_sqs_handler_broadcasts_to_open_connections() -> None:
    app, _, _ = chat_app()
    with Client(app) as client:
        alice = client.websocket.connect(query={"token": "ok"})
        event = client.events.generate_sqs_event(
            message_bodies=["news"], queue_name="announcements"
        )
        client.lambda_.invoke("announce", event)
        assert alice.receive() == "news"


def test_the_apps_own_session_comes_back_after_the_block() -> None:
    app, _, _ = chat_app()
    own = app.websocket_api.session
    with Client(app) as client:
        client.websocket.connect(query={"token": "ok"})
        assert app.websocket_api.session is not own
    assert app.websocket_api.session is own
