"""boto3 clients as user code builds them against a local endpoint."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def aws_client(
    service: str, endpoint_url: str, *, keys: tuple[str, str] = ("test", "test"), **config: Any
) -> Any:
    """A boto3 client for `service` at `endpoint_url`: dummy credentials (or `keys`,
    access key and secret), us-east-1, no retries (a test sees the first answer).
    `config` goes to botocore's Config, e.g. `parameter_validation=False` to send what
    botocore would refuse."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
        config=Config(retries={"max_attempts": 0}, **config),
    )
