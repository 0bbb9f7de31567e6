"""`client.websocket` of `lambic.testing.Client`: WebSocket connections, in process.

    with Client(app) as client:
        alice = client.websocket.connect(query={"name": "alice"})
        bob = client.websocket.connect()
        alice.send("hi")                  # runs @app.on_ws_message() with the event
        assert bob.receive() == "hi"      # what the app sent with app.websocket_api
        alice.close()                     # runs @app.on_ws_disconnect()

The handlers get API Gateway's event shape (`lambic.app.websockets`), and
`app.websocket_api` is served in process while the client has connections open: its
session is swapped for one whose `apigatewaymanagementapi` client posts into these
connections (a gone one raises botocore's `GoneException`, so `send` raises
`WebsocketDisconnectedError` as on AWS). The app's own session comes back when the
`Client` block ends. Every handler, `client.lambda_.invoke`d ones too (say an SQS
handler that broadcasts), reaches the open connections meanwhile.

Errors: `WebsocketRefusedError` when `$connect` refuses (its `status_code`).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["TestWebsocketClient", "TestWebsocketConnection", "WebsocketRefusedError"]

_REGION = "us-west-2"


class WebsocketRefusedError(Exception):
    """`$connect` refused the connection: `status_code` is what the client got."""

    def __init__(self, status_code: int, body: str | None = None) -> None:
        super().__init__(f"$connect refused the connection with status {status_code}")
        self.status_code = status_code
        self.body = body


def _new_id() -> str:
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


class TestWebsocketConnection:
    """One open test connection: `send`, `receive`, `messages`, `close`."""

    __test__ = False

    def __init__(
        self, client: TestWebsocketClient, connection_id: str, connected_at: float
    ) -> None:
        self._client = client
        self.connection_id = connection_id
        self.connected_at = connected_at
        self.last_active_at = connected_at
        #: What the app sent to this connection, oldest first, not yet `receive`d.
        self.messages: deque[str | bytes] = deque()
        self.closed = False
        #: The close code once closed (1000 for a client close, as sent).
        self.close_code: int | None = None
        #: The handler's response to the last message (its dict, or None).
        self.last_response: Any = None

    def send(self, message: str | bytes) -> Any:
        """Run the message handler with `message` as the event's body; its response."""
        if self.closed:
            raise ConnectionError(f"connection {self.connection_id} is closed")
        self.last_active_at = time.time()
        self.last_response = self._client._message(self, message)
        return self.last_response

    def receive(self) -> str | bytes:
        """The oldest message the app sent here; LookupError if there is none."""
        if not self.messages:
            raise LookupError(f"the app sent nothing (more) to {self.connection_id}")
        return self.messages.popleft()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the client side: runs the disconnect handler."""
        if not self.closed:
            self._client._disconnect(self, code, reason)


class _GoneFactory:
    """botocore's modelled GoneException, built lazily (botocore is the app's import)."""

    _cls: type[Exception] | None = None

    @classmethod
    def cls(cls) -> type[Exception]:
        if cls._cls is None:
            from botocore.exceptions import ClientError

            cls._cls = type("GoneException", (ClientError,), {})
        return cls._cls


class _InProcessManagementClient:
    """The `apigatewaymanagementapi` calls `app.websocket_api` makes, served in process."""

    def __init__(self, connections: Mapping[str, TestWebsocketConnection]) -> None:
        self._connections = connections

        class exceptions:
            GoneException = _GoneFactory.cls()

        self.exceptions = exceptions

    def _live(self, connection_id: str, operation: str) -> TestWebsocketConnection:
        connection = self._connections.get(connection_id)
        if connection is None or connection.closed:
            gone = _GoneFactory.cls()
            error: dict[str, Any] = {
                "Error": {"Code": "GoneException", "Message": ""},
                "ResponseMetadata": {"HTTPStatusCode": 410},
            }
            raise gone(error, operation)
        return connection

    def post_to_connection(self, *, ConnectionId: str, Data: str | bytes) -> dict[str, Any]:
        connection = self._live(ConnectionId, "PostToConnection")
        connection.messages.append(Data)
        return {}

    def get_connection(self, *, ConnectionId: str) -> dict[str, Any]:
        from datetime import datetime, timezone

        connection = self._live(ConnectionId, "GetConnection")
        return {
            "ConnectedAt": datetime.fromtimestamp(connection.connected_at, timezone.utc),
            "Identity": {"SourceIp": "127.0.0.1", "UserAgent": "lambic-test-client"},
            "LastActiveAt": datetime.fromtimestamp(connection.last_active_at, timezone.utc),
        }

    def delete_connection(self, *, ConnectionId: str) -> dict[str, Any]:
        connection = self._live(ConnectionId, "DeleteConnection")
        connection._client._disconnect(connection, 1000, "")
        return {}


class _InProcessSession:
    region_name = _REGION

    def __init__(self, client: _InProcessManagementClient) -> None:
        self._client = client

    def client(self, service: str, **_: Any) -> Any:
        if service != "apigatewaymanagementapi":
            raise ValueError(f"the test client's WebSocket session serves no {service!r}")
        return self._client


class TestWebsocketClient:
    """`client.websocket`: open connections to the app's WebSocket handlers."""

    __test__ = False

    def __init__(
        self,
        app: Any,
        stage: str,
        call: Callable[[str, Callable[..., Any], dict[str, Any]], Any],
    ) -> None:
        self._app = app
        self._stage = stage
        self._call = call  # runs a handler with its function's environment and context
        self.connections: dict[str, TestWebsocketConnection] = {}
        self._api_id = "abcdef1234"
        self._saved: tuple[Any, Any, Any] | None = None
        self._management = _InProcessManagementClient(self.connections)

    @property
    def domain_name(self) -> str:
        return f"{self._api_id}.execute-api.{_REGION}.amazonaws.com"

    def connect(
        self,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> TestWebsocketConnection:
        """Open a connection: runs the connect handler; `WebsocketRefusedError` on non-2xx."""
        self._serve_websocket_api()
        connection = TestWebsocketConnection(self, _new_id(), time.time())
        event = self._event(
            "$connect",
            connection,
            headers=[("Host", self.domain_name), *(headers or {}).items()],
            query=list((query or {}).items()),
        )
        response = self._run("$connect", event)
        status = response.get("statusCode", 200) if isinstance(response, dict) else 200
        if not 200 <= int(status) < 300:
            body = response.get("body") if isinstance(response, dict) else None
            raise WebsocketRefusedError(int(status), body)
        self.connections[connection.connection_id] = connection
        return connection

    def restore(self) -> None:
        """Give `app.websocket_api` its own session back (the Client block ended)."""
        if self._saved is not None:
            api = self._app.websocket_api
            api.session, api._endpoint, api._client = self._saved
            self._saved = None

    # -- for TestWebsocketConnection ---------------------------------------------------

    def _message(self, connection: TestWebsocketConnection, message: str | bytes) -> Any:
        if isinstance(message, bytes):
            body, is_base64 = base64.b64encode(message).decode("ascii"), True
        else:
            body, is_base64 = message, False
        event = self._event(
            "$default", connection, body=body, is_base64=is_base64, message_id=_new_id()
        )
        return self._run("$default", event)

    def _disconnect(self, connection: TestWebsocketConnection, code: int, reason: str) -> None:
        connection.closed = True
        connection.close_code = code
        self.connections.pop(connection.connection_id, None)
        event = self._event(
            "$disconnect",
            connection,
            headers=[("Host", self.domain_name)],
            disconnect_status=code,
            disconnect_reason=reason,
        )
        self._run("$disconnect", event)

    # -- internals -----------------------------------------------------------------------

    def _serve_websocket_api(self) -> None:
        api = getattr(self._app, "websocket_api", None)
        if api is None or self._saved is not None:
            return
        self._saved = (api.session, api._endpoint, api._client)
        api.session = _InProcessSession(self._management)
        api._endpoint = None
        api._client = None
        api.configure(self.domain_name, self._stage)

    def _event(
        self, route_key: str, connection: TestWebsocketConnection, **extra: Any
    ) -> dict[str, Any]:
        from lambic.app.websockets import create_websocket_event

        now_ms = int(time.time() * 1000)
        request_id = _new_id()
        return create_websocket_event(
            route_key,
            connection_id=connection.connection_id,
            connected_at_ms=int(connection.connected_at * 1000),
            domain_name=self.domain_name,
            stage=self._stage,
            api_id=self._api_id,
            request_id=request_id,
            extended_request_id=request_id,
            now_ms=now_ms,
            source_ip="127.0.0.1",
            user_agent="lambic-test-client",
            **extra,
        )

    def _run(self, route_key: str, event: dict[str, Any]) -> Any:
        config = self._app.websocket_handlers.get(route_key)
        if config is None:
            if route_key == "$default":
                raise LookupError(
                    "The app has no @app.on_ws_message() handler; API Gateway would answer "
                    '{"message": "Forbidden"}'
                )
            return None
        handler = self._app.handler_map[config.name]
        return self._call(config.function_name, handler, event)
