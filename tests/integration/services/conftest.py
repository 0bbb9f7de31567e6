"""Fixtures for the services' integration tests: DynamoDB on a real edge port.

Each test module that asks for `ddb` gets its own in-memory DynamoDB (module scope):
tables a module creates are not seen by the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lambic.services.dynamodb import create_service
from lambic.services.server import EdgeServer
from tests._support.clients import aws_client


@pytest.fixture(scope="module")
def dynamodb_edge() -> Iterator[EdgeServer]:
    """An edge port serving an in-memory DynamoDB, for the whole module."""
    service = create_service(None)
    server = EdgeServer({"dynamodb": service}).start()
    yield server
    server.stop()
    service.close()


@pytest.fixture(scope="module")
def ddb(dynamodb_edge: EdgeServer) -> Any:
    """A boto3 DynamoDB client for `dynamodb_edge`."""
    return aws_client("dynamodb", dynamodb_edge.url)
