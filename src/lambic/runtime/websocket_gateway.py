"""`lambic local`'s WebSocket API: the component that serves it beside the HTTP gateway.

    WebSocketGateway (a CloudComponent, started after the invoker)
        reads the app manifest's "websocket" functions (route key -> function),
        binds --ws-port, runs a `WebSocketServer` (websocket_server: RFC 6455 clients
        and the `@connections` API on that one port), prints the URLs, and points
        every execution environment's apigatewaymanagementapi endpoint at it
        (`AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`, and `LAMBIC_WEBSOCKET_API_ID` for
        clients given the API's AWS address); `reload` re-reads the routes.

The server's behaviour (events, refusals, error frames, limits and close codes) is
described in `lambic.runtime.websocket_server`. That module (with the frame, handshake
and `@connections` code, ~0.3 MB of `lambic local`'s own memory) is imported when an app
with WebSocket handlers starts, not by every `lambic local`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from lambic._sockets import bind_socket
from lambic.runtime._management_redirect import API_ID_VARIABLE, ENDPOINT_VARIABLE
from lambic.runtime.usage import WebSocketUsage

if TYPE_CHECKING:
    from lambic.runtime.local import LocalCloud
    from lambic.runtime.websocket_server import WebSocketApi, WebSocketLimits, WebSocketServer

__all__ = [
    "DEFAULT_WEBSOCKET_PORT",
    "MANAGEMENT_ENDPOINT_VARIABLE",
    "WebSocketGateway",
    "websocket_api_id",
    "websocket_routes",
]

DEFAULT_WEBSOCKET_PORT = 8001
#: botocore's service-specific endpoint variable for apigatewaymanagementapi.
MANAGEMENT_ENDPOINT_VARIABLE = ENDPOINT_VARIABLE


def websocket_api_id(app_name: str, stage: str) -> str:
    """A stable 10-character API id for the app's local WebSocket API, like AWS's."""
    digest = hashlib.sha256(f"{app_name}/{stage}/websocket".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % 36] for b in digest[:10])


def websocket_routes(functions: Any) -> dict[str, str]:
    """Route key -> function name from the app manifest's websocket functions."""
    routes: dict[str, str] = {}
    for function in functions:
        if function.kind != "websocket":
            continue
        from lambic.app.websockets import DEFAULT_ROUTE  # an app with WebSocket handlers

        source = function.event_source or {}
        routes[str(source.get("route_key_handled") or DEFAULT_ROUTE)] = function.name
    return routes


class WebSocketGateway:
    """`lambic local`'s WebSocket API, a `CloudComponent` started after the invoker.

    Serves only when app.py has WebSocket handlers; prints its URLs when it starts.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_WEBSOCKET_PORT,
        limits: WebSocketLimits | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.limits = limits
        self.server: WebSocketServer | None = None
        self._cloud: LocalCloud | None = None

    def _api(self, cloud: LocalCloud) -> WebSocketApi | None:
        project = cloud.project
        if project is None:
            return None
        routes = websocket_routes(project.manifest.functions)
        if not routes:
            return None
        from lambic.runtime.websocket_server import WebSocketApi

        return WebSocketApi(
            stage=project.config.api_gateway_stage(cloud.stage),
            api_id=websocket_api_id(project.app_name, cloud.stage),
            routes=routes,
        )

    async def start(self, cloud: LocalCloud) -> None:
        self._cloud = cloud
        api = self._api(cloud)
        if api is None:
            return
        from lambic.runtime.websocket_server import WebSocketServer

        sock = bind_socket(self.host, self.port, option="--ws-port")
        usage = WebSocketUsage(cloud.meter) if cloud.meter is not None else None
        self.server = WebSocketServer(
            lambda: cloud.invoker, api, sock=sock, limits=self.limits, usage=usage
        )
        await self.server.start()
        # Plain `boto3.client("apigatewaymanagementapi")` in a function (no endpoint_url)
        # reaches this @connections API, as `AWS_ENDPOINT_URL` reaches the services; a
        # client given this API's AWS address (Chalice's `app.websocket_api`) is sent
        # here by the environment (runtime._management_redirect), which needs its id.
        endpoint = {
            MANAGEMENT_ENDPOINT_VARIABLE: self.server.management_url,
            API_ID_VARIABLE: api.api_id,
        }
        cloud.extra_env.update(endpoint)
        if cloud.invoker is not None:
            cloud.invoker.extra_env.update(endpoint)
        cloud.echo(
            f"WebSocket: {self.server.url} (stage '{api.stage}'; @connections at "
            f"{self.server.management_url})"
        )

    async def reload(self, cloud: LocalCloud) -> None:
        api = self._api(cloud)
        if self.server is not None and api is not None:
            self.server.api = api
        elif self.server is None and api is not None:
            await self.start(cloud)
        elif self.server is not None:
            from lambic.runtime.websocket_server import WebSocketApi

            self.server.api = WebSocketApi(self.server.api.stage, self.server.api.api_id, {})

    async def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.stop()
