"""The wschat example under a real `lambic local`, with a real WebSocket client.

A round trip (a message broadcast back to its sender), a broadcast from the SQS handler
to two clients, and a closed connection that boto3's apigatewaymanagementapi then
reports as GoneException; and the admin route, which its built-in authorizer protects.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect

from tests._support.websocket_clients import management, members, receive_json, ws_url

from .conftest import REPO, LocalCloudProcess, websocket_cloud

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "wschat"


TABLE = "wschat-connections"


@pytest.fixture(scope="module")
def wschat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    project = tmp_path_factory.mktemp("e2e") / "wschat"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "state", "deployed", "logs")
    )
    with websocket_cloud(project) as cloud:
        yield cloud


def test_public_route_answers(wschat: LocalCloudProcess) -> None:
    assert wschat.get_json("/") == (200, {"room": "wschat"})


def test_the_admin_route_needs_the_admin_token(wschat: LocalCloudProcess) -> None:
    status, _, body = wschat.request_raw("GET", "/connections", None, {})
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    wrong = {"Authorization": "Bearer guess"}
    status, _, body = wschat.request_raw("GET", "/connections", None, wrong)
    assert status == 403 and json.loads(body)["Message"].startswith("User is not authorized")
    admin = {"Authorization": "Bearer change-me"}  # the example's config
    status, _, body = wschat.request_raw("GET", "/connections", None, admin)
    assert status == 200 and "connections" in json.loads(body)


def test_message_round_trip_is_broadcast_back_to_the_sender(wschat: LocalCloudProcess) -> None:
    async def scenario() -> None:
        async with connect(ws_url(wschat) + "/?name=ann") as ann:
            await ann.send("hello room")
            assert await receive_json(ann) == {"from": "ann", "message": "hello room"}

    asyncio.run(scenario())


def test_sqs_handler_broadcasts_to_two_clients(wschat: LocalCloudProcess) -> None:
    async def scenario() -> None:
        url = ws_url(wschat)
        async with connect(url + "/?name=bo") as bo, connect(url + "/?name=cy") as cy:
            sqs = wschat.client("sqs")
            queue = sqs.get_queue_url(QueueName="wschat-announcements")["QueueUrl"]
            await asyncio.to_thread(sqs.send_message, QueueUrl=queue, MessageBody="doors close")
            expected = {"from": "announcer", "message": "doors close"}
            assert await receive_json(bo) == expected
            assert await receive_json(cy) == expected

    asyncio.run(scenario())


def test_closed_connection_is_gone_for_boto3(wschat: LocalCloudProcess) -> None:
    async def scenario() -> str:
        async with connect(ws_url(wschat) + "/?name=dee") as dee:
            await dee.send("bye")
            assert await receive_json(dee) == {"from": "dee", "message": "bye"}
            (dee_id,) = [cid for cid, name in members(wschat, TABLE).items() if name == "dee"]
            info = await asyncio.to_thread(management(wschat).get_connection, ConnectionId=dee_id)
            assert info["Identity"]["SourceIp"] == "127.0.0.1"
        return dee_id

    dee_id = asyncio.run(scenario())
    deadline = time.monotonic() + 30
    while dee_id in members(wschat, TABLE):  # the $disconnect handler removes it
        assert time.monotonic() < deadline, wschat.output()
        time.sleep(0.1)
    client = management(wschat)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=dee_id, Data=b"anyone?")
