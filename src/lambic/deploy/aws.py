"""Talking to AWS: one boto3 session per command, and AWS failures as one clear line.

`AWSSession` wraps a boto3 session (honouring `--profile`, the region settings and
`AWS_ENDPOINT_URL`, which botocore reads itself) and hands out cached clients.
`translate_error` turns botocore's exceptions into an `AWSError` that says what to do:
no credentials, an expired token, access denied, a name already taken, a service that
the region does not have.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions

from lambic.deploy.errors import AWSError

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_BAD_KEYS = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"}
_TAKEN = {
    "EntityAlreadyExists",
    "ResourceConflictException",
    "ConflictException",
    "AlreadyExists",
    "ResourceInUseException",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
}

MUTATING_PREFIXES = (
    "Create",
    "Delete",
    "Put",
    "Update",
    "Add",
    "Remove",
    "Import",
    "Tag",
    "Untag",
    "Subscribe",
    "Unsubscribe",
    "Attach",
    "Detach",
    "Increase",  # Kinesis's stream retention
    "Decrease",
)


def is_mutating(operation: str) -> bool:
    """Whether an AWS operation name changes state (Get/List/Describe do not)."""
    return operation.startswith(MUTATING_PREFIXES)


class AWSSession:
    """Clients for one account and region, created once each."""

    def __init__(self, *, profile: str | None = None, region: str | None = None) -> None:
        try:
            self._session = boto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound as exc:
            raise AWSError(
                f"AWS profile {profile!r} is not configured; add it with `aws configure "
                f"--profile {profile}` or pass another --profile"
            ) from exc
        if not self._session.region_name:
            raise AWSError(
                "no AWS region is configured; set AWS_DEFAULT_REGION or `region` in your "
                "profile (aws configure)"
            )
        self.region: str = self._session.region_name
        self._clients: dict[str, Any] = {}
        self._account: str | None = None

    def observe_calls(self, callback: Callable[[str, str], None]) -> None:
        """Have `callback(service, operation)` run before every AWS request.

        Register before the first `client()` call; tests and the benchmark count
        mutating calls with it.
        """

        def hook(model: Any, **_: Any) -> None:
            callback(model.service_model.service_name, model.name)

        self._session.events.register("before-call.*.*", hook)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]

    @property
    def account_id(self) -> str:
        if self._account is None:
            try:
                self._account = str(self.client("sts").get_caller_identity()["Account"])
            except Exception as exc:  # botocore raises many types; translate them all
                raise translate_error(exc, self.region) from exc
        return self._account


def statement_id(kind: str, source_arn: str) -> str:
    """A stable Lambda permission statement id for `source_arn`."""
    return f"lambic-{kind}-{hashlib.sha256(source_arn.encode()).hexdigest()[:12]}"


def error_code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def translate_error(exc: BaseException, region: str, what: str = "") -> AWSError:
    """One line for the user, saying what happened and what to do."""
    doing = f" while {what}" if what else ""
    if isinstance(exc, AWSError):
        return exc
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return AWSError(
            "no AWS credentials found; run `aws configure`, set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or pass --profile",
            code="NoCredentials",
        )
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return AWSError(
            f"cannot reach {exc.kwargs.get('endpoint_url', 'the AWS endpoint')}{doing}: the "
            f"service may not exist in region {region}; choose a region that offers it "
            "(AWS_DEFAULT_REGION) or check AWS_ENDPOINT_URL",
            code="EndpointConnectionError",
        )
    if isinstance(exc, botocore.exceptions.ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        operation = exc.operation_name
        if code in _EXPIRED:
            return AWSError(
                "your AWS session token has expired; refresh your credentials (for example "
                "`aws sso login`) and run the command again",
                code=code,
            )
        if code in _BAD_KEYS:
            return AWSError(
                f"AWS rejected the credentials ({code}); check the access key and secret, "
                "or pass another --profile",
                code=code,
            )
        if code in _DENIED:
            return AWSError(
                f"access denied for {operation}{doing}: {message}; grant the deploying "
                "identity that permission or use another --profile",
                code=code,
            )
        if code in _TAKEN:
            return AWSError(
                f"{message or 'the name is already taken'}{doing}; it belongs to something "
                "Lambic did not create in this stage: choose another app_name or stage, or "
                "remove the existing resource",
                code=code,
            )
        return AWSError(f"AWS {operation} failed{doing}: {code}: {message}", code=code)
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return AWSError(f"AWS call failed{doing}: {exc}")
    raise exc
