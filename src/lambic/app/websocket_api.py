"""`app.websocket_api`: send to, close and inspect WebSocket connections, as Chalice does.

A handler answers a client through API Gateway's management API (`@connections`),
with the boto3 session the app assigns:

    app.websocket_api.session = boto3.session.Session()

    @app.on_ws_message()
    def echo(event):
        app.websocket_api.send(event.connection_id, event.body)

Inside a WebSocket handler the endpoint is configured from the event. Elsewhere (an
SQS handler broadcasting, say) call `configure(domain_name, stage)` first, with the
values a WebSocket event carried (`event.domain_name`, `event.stage`).

On AWS the endpoint is `https://{domain_name}/{stage}`. `lambic local` serves the
WebSocket API and its `@connections` API on a loopback port over plain HTTP, and its
events say so in `domainName` ("127.0.0.1:8001"), so a loopback domain gets `http://`.

Standard library only: boto3 is the app's own dependency, reached through `session`.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from lambic.app.errors import WebsocketDisconnectedError

__all__ = ["WebsocketAPI", "websocket_endpoint"]

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def websocket_endpoint(domain_name: str, stage: str) -> str:
    """The `@connections` endpoint URL for an API's domain and stage.

    >>> websocket_endpoint("abc123.execute-api.us-east-1.amazonaws.com", "api")
    'https://abc123.execute-api.us-east-1.amazonaws.com/api'
    >>> websocket_endpoint("127.0.0.1:8001", "api")
    'http://127.0.0.1:8001/api'
    """
    host = domain_name.rsplit(":", 1)[0] if not domain_name.endswith("]") else domain_name
    scheme = "http" if host in _LOOPBACK_HOSTS or host.startswith("127.") else "https"
    return f"{scheme}://{domain_name}/{stage}"


def is_local_domain(domain_name: str) -> bool:
    """True for the loopback domain `lambic local` puts in its WebSocket events."""
    return websocket_endpoint(domain_name, "").startswith("http:")


class WebsocketAPI:
    """The management API client behind `app.websocket_api` (Chalice's names and errors)."""

    _WEBSOCKET_ENDPOINT_TEMPLATE = "https://{domain_name}/{stage}"
    _REGION_ENV_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")

    def __init__(self, env: MutableMapping[str, str] | None = None) -> None:
        #: A boto3 session; the app assigns it (Chalice requires it too).
        self.session: Any = None
        self._endpoint: str | None = None
        self._client: Any = None
        self._env: MutableMapping[str, str] = os.environ if env is None else env

    def configure(self, domain_name: str, stage: str) -> None:
        """Use the API at `domain_name`/`stage`; the first configuration stays."""
        if self._endpoint is not None:
            return
        self._endpoint = websocket_endpoint(domain_name, stage)

    def configure_from_api_id(self, api_id: str, stage: str) -> None:
        """Use the API `api_id`'s execute-api domain in this function's region."""
        if self._endpoint is not None:
            return
        region = self._get_region()
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        self.configure(f"{api_id}.execute-api.{region}.{suffix}", stage)

    def _get_region(self) -> str:
        for name in self._REGION_ENV_VARS:
            if name in self._env:
                return self._env[name]
        if self.session is not None and self.session.region_name is not None:
            return str(self.session.region_name)
        # Chalice's message, word for word.
        raise ValueError(
            "Unable to retrieve the region name when configuring the websocket client.  "
            "Either set the 'AWS_REGION' environment variable or assign "
            "'app.websocket_api.session' to a boto3 session."
        )

    def _get_client(self) -> Any:
        if self.session is None:
            raise ValueError(
                "Assign app.websocket_api.session to a boto3 session before using the WebsocketAPI"
            )
        if self._endpoint is None:
            raise ValueError("WebsocketAPI.configure must be called before using the WebsocketAPI")
        if self._client is None:
            self._client = self.session.client(
                "apigatewaymanagementapi", endpoint_url=self._endpoint
            )
        return self._client

    def send(self, connection_id: str, message: str | bytes) -> None:
        """PostToConnection; `WebsocketDisconnectedError` if the client is gone."""
        client = self._get_client()
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=message)
        except client.exceptions.GoneException as exc:
            raise WebsocketDisconnectedError(connection_id) from exc

    def close(self, connection_id: str) -> None:
        """DeleteConnection; `WebsocketDisconnectedError` if the client is gone."""
        client = self._get_client()
        try:
            client.delete_connection(ConnectionId=connection_id)
        except client.exceptions.GoneException as exc:
            raise WebsocketDisconnectedError(connection_id) from exc

    def info(self, connection_id: str) -> Any:
        """GetConnection's answer (ConnectedAt, Identity, LastActiveAt)."""
        client = self._get_client()
        try:
            return client.get_connection(ConnectionId=connection_id)
        except client.exceptions.GoneException as exc:
            raise WebsocketDisconnectedError(connection_id) from exc
