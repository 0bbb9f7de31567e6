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
from typing import Any

import boto3
import pytest
from botocore.config import Config
from websockets.asyncio.client import ClientConnection, connect

from .conftest import REPO, LocalCloudProcess, free_port

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "wschat"


@pytest.fixture(scope="module")
def wschat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    project = tmp_path_factory.mktemp("e2e") / "wschat"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "state", "deployed", "logs")
    )
    cloud = LocalCloudProcess(project, "--ws-port", str(free_port()))
    try:
        cloud.wait_for("Press Ctrl-C to stop.", 60)
        yield cloud
    finally:
        code, survivors = cloud.stop()
        cloud.kill_everything()
        assert code == 0, cloud.output()
        assert not survivors


def ws_url(cloud: LocalCloudProcess) -> str:
    line = cloud.wait_for("WebSocket: ws://")
    return line.split()[1]


def management(cloud: LocalCloudProcess) -> Any:
    """Plain boto3 on the local @connections API, as any script would call it."""
    endpoint = ws_url(cloud).replace("ws://", "http://") + "/api"
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",
        config=Config(retries={"max_attempts": 0}),
    )


async def receive_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), 30))


def members(cloud: LocalCloudProcess) -> dict[str, str]:
    items = cloud.client("dynamodb").scan(TableName="wschat-connections")["Items"]
    return {item["connection_id"]["S"]: item["name"]["S"] for item in items}


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
            (dee_id,) = [cid for cid, name in members(wschat).items() if name == "dee"]
            info = await asyncio.to_thread(management(wschat).get_connection, ConnectionId=dee_id)
            assert info["Identity"]["SourceIp"] == "127.0.0.1"
        return dee_id

    dee_id = asyncio.run(scenario())
    deadline = time.monotonic() + 30
    while dee_id in members(wschat):  # the $disconnect handler removes it
        assert time.monotonic() < deadline, wschat.output()
        time.sleep(0.1)
    client = management(wschat)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=dee_id, Data=b"anyone?")
