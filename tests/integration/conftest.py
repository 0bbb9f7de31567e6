"""Fixtures for integration tests: a real edge port on 127.0.0.1 and boto3 clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambic.services.base import Service
from lambic.services.server import EdgeServer

StartEdge = Callable[[Mapping[str, Service]], EdgeServer]


@pytest.fixture
def start_edge() -> Iterator[StartEdge]:
    """Start an edge port serving the given services; every one is stopped after the test."""
    servers: list[EdgeServer] = []

    def start(services: Mapping[str, Service]) -> EdgeServer:
        server = EdgeServer(services).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


MakeClient = Callable[..., Any]


def _make_client(service: str, endpoint_url: str, **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, **config),
    )


@pytest.fixture
def make_client() -> MakeClient:
    """`make_client("s3", edge.url)`: a boto3 client with dummy credentials, as user code builds."""
    return _make_client
