"""A WebSocket app's clients under a running `lambic local`: real sockets, plain boto3.

The apps these serve (tests/apps/chalice_wschat, examples/wschat) keep their members in
a DynamoDB table `<app>-connections` of `connection_id` -> `name`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection

from lambic._cloud_process import LocalCloudProcess
from tests._support.clients import aws_client


def ws_url(cloud: LocalCloudProcess) -> str:
    """The WebSocket endpoint `lambic local` printed in its banner."""
    return cloud.wait_for("WebSocket: ws://").split()[1]


def management(cloud: LocalCloudProcess) -> Any:
    """Plain boto3 on the local @connections API, as any script would call it."""
    endpoint = ws_url(cloud).replace("ws://", "http://") + "/api"
    return aws_client("apigatewaymanagementapi", endpoint)


async def receive_json(ws: ClientConnection) -> Any:
    """The next message, as JSON; fails after 30 s."""
    return json.loads(await asyncio.wait_for(ws.recv(), 30))


def members(cloud: LocalCloudProcess, table: str) -> dict[str, str]:
    """connection id -> name, as the app's connections table holds them now."""
    items = cloud.client("dynamodb").scan(TableName=table)["Items"]
    return {item["connection_id"]["S"]: item["name"]["S"] for item in items}


async def connection_id(cloud: LocalCloudProcess, table: str, name: str) -> str:
    """The connection id of member `name`, once its $connect handler has stored it."""
    deadline = time.monotonic() + 30
    while True:
        found = [cid for cid, who in members(cloud, table).items() if who == name]
        if found:
            return found[0]
        assert time.monotonic() < deadline, cloud.output()
        await asyncio.sleep(0.05)
