"""A moto server on a free loopback port, standing in for AWS (reset between tests)."""

from __future__ import annotations

import functools
import os
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambic._cloud_process import free_port
from lambic.deploy.aws import AWSSession, is_mutating

APPS = Path(__file__).resolve().parents[2] / "deploy_apps"
REGION = "us-east-1"


def _allow_mock_integrations_without_uri() -> None:
    """Work around a moto 5.x bug, not an AWS behaviour.

    AWS imports a MOCK integration (our CORS preflight) without `uri` or `httpMethod`;
    moto's OpenAPI importer passes them positionally to `put_integration`, which
    requires both, and answers 500. Its own `put_integration` accepts them missing for
    MOCK, so supplying None is exactly what the importer meant.
    """
    from moto.apigateway.models import APIGatewayBackend

    original = APIGatewayBackend.put_integration
    if getattr(original, "_lambic_patched", False):
        return

    def put_integration(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("uri", None)
        kwargs.setdefault("integration_method", None)
        return original(self, *args, **kwargs)

    put_integration._lambic_patched = True  # type: ignore[attr-defined]
    APIGatewayBackend.put_integration = put_integration  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    _allow_mock_integrations_without_uri()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point boto3 at a freshly reset moto with dummy credentials."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    for name, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return moto_endpoint


@dataclass
class CallLog:
    """Every AWS operation an AWSSession made, as (service, operation)."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mutating(self) -> list[str]:
        return [op for _, op in self.calls if is_mutating(op)]


@pytest.fixture
def counted_session() -> Callable[[], tuple[AWSSession, CallLog]]:
    def make() -> tuple[AWSSession, CallLog]:
        aws = AWSSession()
        log = CallLog()
        aws.observe_calls(lambda service, op: log.calls.append((service, op)))
        return aws, log

    return make


@pytest.fixture
def copy_app(tmp_path: Path) -> Callable[[str], Path]:
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(APPS / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        return target

    return copy


@functools.cache
def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def client(service: str) -> Any:
    """A boto3 client on the moto server (cached: building one parses its whole model)."""
    return _client(service, os.environ["AWS_ENDPOINT_URL"])
