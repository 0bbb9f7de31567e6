"""The local WebSocket API under a real LocalCloud: a real client, real environments, boto3.

The app (tests/apps/websocket_echo) records each event it gets; the client is the
`websockets` library, the management calls are boto3's apigatewaymanagementapi.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from lambic._cloud_process import free_port
from lambic._http_limits import GATEWAY_LIMITS
from lambic.project.environ import LOCAL_CREDENTIALS
from lambic.runtime.local import LocalCloud
from lambic.runtime.websocket_gateway import WebSocketGateway
from lambic.runtime.websocket_server import WebSocketLimits

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[2] / "apps" / "websocket_echo"
WaitFor = Callable[..., Awaitable[None]]
Recorded = Callable[[Path, str], list[dict[str, Any]]]


class Cloud:
    def __init__(self, cloud: LocalCloud, gateway: WebSocketGateway, out: Path) -> None:
        self.cloud = cloud
        self.gateway = gateway
        self.out = out
        self.lines: list[str] = []
        assert gateway.server is not None
        self.url = gateway.server.url
        self.endpoint = gateway.server.management_url

    def management(self) -> Any:
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 0}),
        )


async def start_cloud(
    tmp_path: Path, limits: WebSocketLimits | None = None, *, reload: bool = False
) -> Cloud:
    project = tmp_path / "project"
    shutil.copytree(APP, project)
    out = tmp_path / "out"
    out.mkdir()
    gateway = WebSocketGateway(port=free_port(), limits=limits)
    lines: list[str] = []
    cloud = LocalCloud(
        project,
        port=0,
        reload=reload,
        reload_interval=0.05,
        echo=lines.append,
        event_sources=[gateway],
    )
    cloud.extra_env.update({**LOCAL_CREDENTIALS, "OUT_DIR": str(out)})
    await cloud.start()
    assert any(line.startswith("WebSocket: ws://127.0.0.1:") for line in lines), lines
    started = Cloud(cloud, gateway, out)
    started.lines = lines
    return started


def run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_message_round_trip_reaches_the_handler_with_api_gateways_event_shape(
    tmp_path: Path, wait_for: WaitFor, recorded: Recorded
) -> None:
    async def scenario() -> None:
        c = await start_cloud(tmp_path)
        try:
            async with connect(c.url + "/api?room=1", user_agent_header="pytest-ws") as ws:
                await ws.send("hello")
                assert await asyncio.wait_for(ws.recv(), 30) == "echo:hello"
            await wait_for(lambda: recorded(c.out, "disconnect"))
        finally:
            await c.cloud.stop()
        connect_event = recorded(c.out, "connect")[0]
        message_event = recorded(c.out, "message")[0]
        disconnect_event = recorded(c.out, "disconnect")[0]
        ctx = message_event["requestContext"]
        assert ctx["routeKey"] == "$default"
        assert ctx["eventType"] == "MESSAGE"
        assert ctx["messageDirection"] == "IN"
        assert ctx["stage"] == "api"
        assert ctx["domainName"] == c.url.removeprefix("ws://")
        assert ctx["identity"] == {"userAgent": "pytest-ws", "sourceIp": "127.0.0.1"}
        assert message_event["body"] == "hello"
        assert message_event["isBase64Encoded"] is False
        assert len(ctx["messageId"]) == 16
        connect_ctx = connect_event["requestContext"]
        assert (connect_ctx["routeKey"], connect_ctx["eventType"]) == ("$connect", "CONNECT")
        assert connect_event["queryStringParameters"] == {"room": "1"}
        assert connect_event["headers"]["User-Agent"] == "pytest-ws"
        assert connect_event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
        assert connect_event["multiValueHeaders"]["X-Forwarded-For"] == ["127.0.0.1"]
        assert connect_ctx["connectionId"] == ctx["connectionId"]
        assert connect_ctx["apiId"] == ctx["apiId"]
        disconnect_ctx = disconnect_event["requestContext"]
        assert (disconnect_ctx["routeKey"], disconnect_ctx["eventType"]) == (
            "$disconnect",
            "DISCONNECT",
        )
        assert disconnect_ctx["disconnectStatusCode"] == 1000
        assert disconnect_ctx["connectionId"] == ctx["connectionId"]

    run(scenario())


def test_connect_handler_refuses_with_its_status_and_a_crash_with_502(tmp_path: Path) -> None:
    async def scenario() -> None:
        c = await start_cloud(tmp_path)
        try:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(c.url + "/?deny=1"):
                    pass
            assert refused.value.response.status_code == 403
            with pytest.raises(InvalidStatus) as crashed:
                async with connect(c.url + "/?crash=1"):
                    pass
            assert crashed.value.response.status_code == 502
            with pytest.raises(InvalidStatus) as wrong_stage:
                async with connect(c.url + "/prod"):
                    pass
            assert wrong_stage.value.response.status_code == 403
        finally:
            await c.cloud.stop()

    run(scenario())


def test_failing_message_handler_sends_api_gateways_error_frame(tmp_path: Path) -> None:
    async def scenario() -> None:
        c = await start_cloud(tmp_path)
        try:
            async with connect(c.url) as ws:
                await ws.send("boom")
                error = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert error["message"] == "Internal server error"
                assert set(error) == {"message", "connectionId", "requestId"}
                await ws.send("still here")
                assert await asyncio.wait_for(ws.recv(), 30) == "echo:still here"
                await ws.send("plain")
                assert await asyncio.wait_for(ws.recv(), 30) == "plain boto3"
        finally:
            await c.cloud.stop()

    run(scenario())


def test_management_api_through_boto3_info_delete_and_gone(
    tmp_path: Path, wait_for: WaitFor, recorded: Recorded
) -> None:
    async def scenario() -> None:
        c = await start_cloud(tmp_path)
        client = c.management()
        try:
            async with connect(c.url) as ws:
                await ws.send("info")
                assert json.loads(await asyncio.wait_for(ws.recv(), 30))["SourceIp"] == "127.0.0.1"
                await wait_for(lambda: recorded(c.out, "message"))
                conn_id = recorded(c.out, "message")[0]["requestContext"]["connectionId"]
                info = await asyncio.to_thread(client.get_connection, ConnectionId=conn_id)
                assert info["Identity"]["SourceIp"] == "127.0.0.1"
                assert info["ConnectedAt"] <= info["LastActiveAt"]
                await asyncio.to_thread(
                    client.post_to_connection, ConnectionId=conn_id, Data=b"from boto3"
                )
                assert await asyncio.wait_for(ws.recv(), 30) == "from boto3"
                too_big = b"x" * (128 * 1024 + 1)
                with pytest.raises(client.exceptions.PayloadTooLargeException):
                    await asyncio.to_thread(
                        client.post_to_connection, ConnectionId=conn_id, Data=too_big
                    )
                big = "y" * (100 * 1024)  # sent as 32 KB frames, received whole
                await asyncio.to_thread(client.post_to_connection, ConnectionId=conn_id, Data=big)
                assert await asyncio.wait_for(ws.recv(), 30) == big
                await asyncio.to_thread(client.delete_connection, ConnectionId=conn_id)
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 30)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
            await wait_for(lambda: recorded(c.out, "disconnect"))
            for call in (client.post_to_connection, client.get_connection):
                kwargs: dict[str, Any] = {"ConnectionId": conn_id}
                if call == client.post_to_connection:
                    kwargs["Data"] = b"late"
                with pytest.raises(client.exceptions.GoneException):
                    await asyncio.to_thread(call, **kwargs)
            with pytest.raises(client.exceptions.GoneException):
                await asyncio.to_thread(client.delete_connection, ConnectionId=conn_id)
        finally:
            await c.cloud.stop()

    run(scenario())


def test_server_side_close_from_the_handler_runs_disconnect(
    tmp_path: Path, wait_for: WaitFor, recorded: Recorded
) -> None:
    async def scenario() -> None:
        c = await start_cloud(tmp_path)
        try:
            async with connect(c.url) as ws:
                await ws.send("close")
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 30)
            await wait_for(lambda: recorded(c.out, "disconnect"))
        finally:
            await c.cloud.stop()

    run(scenario())


def test_unsigned_management_request_is_forbidden(tmp_path: Path) -> None:
    async def scenario() -> None:
        c = await start_cloud(tmp_path)
        try:
            host, port = c.endpoint.removeprefix("http://").split("/")[0].split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /api/@connections/abc HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            writer.close()
            assert head.startswith(b"HTTP/1.1 403")
            assert b"x-amzn-ErrorType: ForbiddenException" in head
        finally:
            await c.cloud.stop()

    run(scenario())


def test_limits_close_with_api_gateways_codes(tmp_path: Path) -> None:
    limits = WebSocketLimits(max_frame=1024, max_message=4096, idle_timeout=0.5, max_duration=2.0)

    async def scenario() -> None:
        c = await start_cloud(tmp_path, limits)
        try:
            async with connect(c.url, max_size=None) as ws:
                await ws.send("z" * 2048)  # one frame over the frame quota
                with pytest.raises(ConnectionClosed) as frame_too_big:
                    await asyncio.wait_for(ws.recv(), 30)
            assert frame_too_big.value.rcvd is not None
            assert frame_too_big.value.rcvd.code == 1009
            async with connect(c.url, max_size=None) as ws:
                # Fragments under the frame quota, over the message quota together.
                await ws.send(["a" * 1000 for _ in range(5)])
                with pytest.raises(ConnectionClosed) as message_too_big:
                    await asyncio.wait_for(ws.recv(), 30)
            assert message_too_big.value.rcvd is not None
            assert message_too_big.value.rcvd.code == 1009
            async with connect(c.url, ping_interval=None) as ws:
                with pytest.raises(ConnectionClosed) as idle:
                    await asyncio.wait_for(ws.recv(), 30)
            assert idle.value.rcvd is not None and idle.value.rcvd.code == 1001
            async with connect(c.url, ping_interval=None) as ws:
                started = asyncio.get_running_loop().time()
                with pytest.raises(ConnectionClosed) as expired:
                    while True:  # active, so never idle, yet closed at the duration
                        await ws.send("tick")
                        assert await asyncio.wait_for(ws.recv(), 30) == "echo:tick"
                        await asyncio.sleep(0.2)
                lived = asyncio.get_running_loop().time() - started
            assert lived >= 1.5, lived
            assert expired.value.rcvd is not None and expired.value.rcvd.code == 1001
        finally:
            await c.cloud.stop()

    run(scenario())


def test_hot_reload_serves_the_edited_message_handler(tmp_path: Path, wait_for: WaitFor) -> None:
    async def scenario() -> None:
        c = await start_cloud(tmp_path, reload=True)
        try:
            app_py = c.cloud.project_dir / "app.py"
            app_py.write_text(
                app_py.read_text().replace('"echo:" + event.body', '"v2:" + event.body')
            )
            await wait_for(lambda: any(line.startswith("Reloaded") for line in c.lines))
            async with connect(c.url) as ws:
                await ws.send("hi")
                assert await asyncio.wait_for(ws.recv(), 30) == "v2:hi"
        finally:
            await c.cloud.stop()

    run(scenario())


def test_messages_both_ways_and_connection_minutes_are_metered_as_api_gateway_bills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3
    import time

    from lambic.cost.quantities import read_quantities
    from lambic.project.metering import METERING_ENV
    from lambic.project.paths import ProjectPaths

    monkeypatch.setenv(METERING_ENV, "on")
    big = "x" * (32 * 1024 + 1)  # two 32 KB units, sent as two frames (32 KB frame quota)

    async def scenario() -> tuple[float, float]:
        c = await start_cloud(tmp_path)
        try:
            before = time.monotonic()
            async with connect(c.url + "/api") as ws:
                await ws.send("hi")  # in: 1 message
                assert await asyncio.wait_for(ws.recv(), 30) == "echo:hi"  # out: 1
                await ws.send([big[: 32 * 1024], big[32 * 1024 :]])  # in: 2
                assert await asyncio.wait_for(ws.recv(), 30) == "echo:" + big  # out: 2
                await ws.ping()  # control frames are not messages
            after = time.monotonic()
        finally:
            await c.cloud.stop()
        return before, after

    before, after = asyncio.run(scenario())
    with sqlite3.connect(ProjectPaths(tmp_path / "project").log_store("dev")) as db:
        observed = read_quantities(db, since_ms=0, until_ms=2**62)
    websocket = {
        q.metric: (q.quantity, q.price_key)
        for q in observed.quantities
        if (q.service, q.resource) == ("apigateway", "websocket")
    }
    assert websocket["messages"] == (6, "apigateway.websocket.messages")
    minutes, key = websocket["connection_minutes"]
    assert key == "apigateway.websocket.connection_minutes"
    assert 0 < minutes <= (after - before) / 60

    # What `lambic cost` prints: each quantity at API Gateway's list price.
    from lambic.cost import stage_estimate

    estimate = stage_estimate(tmp_path / "project", "dev", since_ms=0, until_ms=2**62)
    lines = {(line.resource, line.metric): line for line in estimate.lines}
    messages = lines[("websocket", "messages")]
    assert (messages.quantity, messages.unit_price, messages.per) == (6, 1.0, 1_000_000)
    assert messages.amount == pytest.approx(6 * 1.0 / 1_000_000)
    connection = lines[("websocket", "connection_minutes")]
    assert connection.amount == pytest.approx(minutes * 0.25 / 1_000_000)


def _masked_text_frame(text: str) -> bytes:
    """One client frame (RFC 6455: clients mask), as short as the text allows."""
    payload = text.encode()
    assert len(payload) < 126
    mask = b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x81, 0x80 | len(payload))) + mask + masked


def test_the_websocket_port_holds_its_http_to_the_gateways_limits(tmp_path: Path) -> None:
    # Handshakes and @connections requests meet the same HTTP server as the gateway:
    # its head quota, header and keep-alive timeouts (shortened here).
    http = replace(GATEWAY_LIMITS, header_timeout=0.5, keep_alive_timeout=0.5)

    async def scenario() -> None:
        c = await start_cloud(tmp_path, WebSocketLimits(http=http))
        host, port = c.endpoint.removeprefix("http://").split("/")[0].split(":")
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /api HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 11_000 + b"\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 10)  # then closed
            writer.close()
            assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
            assert answer.endswith(b'{"message":"Request Header Fields Too Large"}')

            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /api HTTP/1.1\r\nHost: x\r\n")  # a head never finished
            assert await asyncio.wait_for(reader.read(), 10) == b""  # dropped, unanswered
            writer.close()

            reader, writer = await asyncio.open_connection(host, int(port))
            for _ in range(2):  # one connection, two management requests, then idle
                writer.write(b"GET /api/@connections/abc HTTP/1.1\r\nHost: x\r\n\r\n")
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                assert head.startswith(b"HTTP/1.1 403 Forbidden\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            assert await asyncio.wait_for(reader.read(), 10) == b""  # idle: closed
            writer.close()
        finally:
            await c.cloud.stop()

    run(scenario())


def test_a_frame_sent_right_behind_the_handshake_is_not_lost(tmp_path: Path) -> None:
    # The HTTP server stops at the end of the upgrade request and hands what follows
    # it to the WebSocket side along with the socket.
    async def scenario() -> None:
        c = await start_cloud(tmp_path)
        host, port = c.url.removeprefix("ws://").split(":")
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                b"GET /api HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                b"\r\n" + _masked_text_frame("early")
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            assert head.startswith(b"HTTP/1.1 101 ")
            assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
            frame = await asyncio.wait_for(reader.readexactly(2 + len("echo:early")), 30)
            assert frame == b"\x81\x0aecho:early"
            writer.close()
        finally:
            await c.cloud.stop()

    run(scenario())
