"""A Chalice WebSocket app (the real `chalice` package) under a real `lambic local`.

Chalice's `app.websocket_api` builds its management client with the API's AWS
address (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}` in a WebSocket
handler, `https://{domainName}/{stage}` after `configure`); these tests check its
calls reach the local connections with a real WebSocket client: a round trip, a
broadcast from an SQS handler to two clients, a send to a gone connection
(`WebsocketDisconnectedError` in the app, `GoneException` for boto3).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests._support.websocket_clients import (
    connection_id,
    management,
    members,
    receive_json,
    ws_url,
)

from .conftest import LocalCloudProcess, websocket_cloud

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "apps" / "chalice_wschat"


TABLE = "chalicews-connections"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    project = tmp_path_factory.mktemp("e2e") / "chalice_wschat"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__", ".lambic"))
    with websocket_cloud(project) as local:
        yield local


def test_the_chalice_app_is_served_with_its_websocket_api(cloud: LocalCloudProcess) -> None:
    banner = cloud.output()
    assert "Serving chalicews (stage dev)" in banner, banner
    assert "websocket_message (websocket)" in banner, banner


def test_message_round_trip_through_chalices_websocket_api(cloud: LocalCloudProcess) -> None:
    async def scenario() -> None:
        async with connect(ws_url(cloud) + "/?name=ann") as ann:
            await ann.send("hello room")
            assert await receive_json(ann) == {"from": "ann", "message": "hello room"}

    asyncio.run(scenario())


def test_sqs_handler_broadcasts_to_two_clients(cloud: LocalCloudProcess) -> None:
    async def scenario() -> None:
        url = ws_url(cloud)
        async with connect(url + "/?name=bo") as bo, connect(url + "/?name=cy") as cy:
            await connection_id(cloud, TABLE, "bo")
            await connection_id(cloud, TABLE, "cy")
            sqs = cloud.client("sqs")
            queue = sqs.get_queue_url(QueueName="chalicews-announcements")["QueueUrl"]
            await asyncio.to_thread(sqs.send_message, QueueUrl=queue, MessageBody="doors close")
            expected = {"from": "announcer", "message": "doors close"}
            assert await receive_json(bo) == expected
            assert await receive_json(cy) == expected

    asyncio.run(scenario())


def test_a_send_to_a_gone_connection_is_websocket_disconnected_then_gone(
    cloud: LocalCloudProcess,
) -> None:
    async def scenario() -> str:
        url = ws_url(cloud)
        async with connect(url + "/?name=eve") as eve:
            async with connect(url + "/?name=dee"):
                dee = await connection_id(cloud, TABLE, "dee")
                await eve.send(json.dumps({"to": dee, "text": "psst"}))
            deadline = time.monotonic() + 30
            while dee in members(cloud, TABLE):  # the $disconnect handler removes it
                assert time.monotonic() < deadline, cloud.output()
                await asyncio.sleep(0.05)
            # Chalice's send raised WebsocketDisconnectedError in the app: it says so.
            await eve.send(json.dumps({"to": dee, "text": "still there?"}))
            assert await receive_json(eve) == {"gone": dee}
        return dee

    dee = asyncio.run(scenario())
    client = management(cloud)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=dee, Data=b"anyone?")
