"""Fixtures for integration tests: a real edge port on 127.0.0.1 and boto3 clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from lambic.services.base import Service
from lambic.services.server import EdgeServer
from tests._support.clients import aws_client

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


@pytest.fixture
def make_client() -> MakeClient:
    """`make_client("s3", edge.url)`: a boto3 client with dummy credentials, as user code builds."""
    return aws_client
