"""The `context` object a handler receives, shaped like the Lambda Python runtime's.

def handler(event, context):
    context.aws_request_id                 # "8f5c..."
    context.get_remaining_time_in_millis() # counts down to the function timeout
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Client", "ClientContext", "CognitoIdentity", "LambdaContext"]


class CognitoIdentity:
    """`context.identity`: set only for calls signed by a Cognito identity (never locally)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id: str | None = None, pool_id: str | None = None) -> None:
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id


class Client:
    """`context.client_context.client`, as the Lambda runtime names its fields.

    The name is the Lambda Python runtime's own (its `lambda_context.Client`); it is not
    `lambic.testing.Client`, Chalice's test client, which keeps Chalice's name for the
    same reason: code written against either finds the class it expects.
    """

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class ClientContext:
    """`context.client_context`: from the Invoke API's X-Amz-Client-Context, else None."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, data: dict[str, Any]) -> None:
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext:
    """Per-invocation context; the deadline is wall-clock milliseconds, as Lambda's."""

    __slots__ = (
        "_deadline_ms",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
    )

    def __init__(
        self,
        *,
        aws_request_id: str,
        function_name: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        log_group_name: str,
        log_stream_name: str,
        deadline_ms: int,
        function_version: str = "$LATEST",
        client_context: dict[str, Any] | None = None,
        identity: dict[str, Any] | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        # The Python runtime hands this over as the string of the env var; we mirror it.
        self.memory_limit_in_mb: str = str(memory_limit_in_mb)
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self._deadline_ms = deadline_ms
        ident = identity or {}
        self.identity = CognitoIdentity(
            ident.get("cognitoIdentityId"), ident.get("cognitoIdentityPoolId")
        )
        self.client_context = ClientContext(client_context) if client_context else None

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self) -> str:
        return (
            f"LambdaContext(aws_request_id={self.aws_request_id!r}, "
            f"function_name={self.function_name!r})"
        )
