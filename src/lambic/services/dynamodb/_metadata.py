"""Time to Live settings, endpoints and limits: metadata operations SAM/CDK-style code calls.

TTL settings are stored, validated and described exactly as AWS does (`ttl.py`
deletes the expired items). Tags live in `_tags.py`.
"""

from __future__ import annotations

from typing import Any

from lambic.services.base import ServiceRequest
from lambic.services.dynamodb.engine import DynamoDBEngine
from lambic.services.dynamodb.errors import (
    SerializationError,
    TableNotFoundError,
    ValidationError,
)
from lambic.services.dynamodb.tables import validate_table_name


def _null(field: str) -> str:
    return (
        f"1 validation error detected: Value null at '{field}' failed to satisfy constraint: "
        "Member must not be null"
    )


def update_time_to_live(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    spec = request.get("TimeToLiveSpecification")
    if not isinstance(spec, dict):
        raise ValidationError(_null("timeToLiveSpecification"))
    name, enabled = spec.get("AttributeName"), spec.get("Enabled")
    if name is None:
        raise ValidationError(_null("timeToLiveSpecification.attributeName"))
    if not isinstance(name, str):
        raise SerializationError(f"Could not deserialize the request: AttributeName: {name!r}")
    if not 1 <= len(name) <= 255:
        bound = "less than or equal to 255" if len(name) > 255 else "greater than or equal to 1"
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at "
            f"'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must "
            f"have length {bound}"
        )
    if enabled is None:
        raise ValidationError(_null("timeToLiveSpecification.enabled"))
    if not isinstance(enabled, bool):
        raise SerializationError(f"Could not deserialize the request: Enabled: {enabled!r}")
    with engine.lock:
        state = engine.described_table(request)
        table = state.definition
        if enabled and table.ttl_attribute is not None:
            raise ValidationError("TimeToLive is already enabled")
        if not enabled and table.ttl_attribute is None:
            raise ValidationError("TimeToLive is already disabled")
        if not enabled and table.ttl_attribute != name:
            raise ValidationError(
                "TimeToLive is active on a different AttributeName: current AttributeName is "
                f"{table.ttl_attribute}"
            )
        table.ttl_attribute = name if enabled else None
        with engine.store.transaction():
            engine.store.save_table(table)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": name}}


def describe_time_to_live(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    with engine.lock:
        table = engine.described_table(request).definition
    if table.ttl_attribute is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {
        "TimeToLiveDescription": {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": table.ttl_attribute,
        }
    }


def describe_continuous_backups(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    """Backups are not kept locally: continuous backups and point-in-time recovery are
    both reported DISABLED, which is what a new table has in AWS until enabled."""
    if request.get("TableName") is None:
        raise ValidationError(_null("tableName"))
    name = validate_table_name(request["TableName"])
    with engine.lock:
        if engine.find_table(name) is None:
            raise TableNotFoundError(f"Table not found: {name}")
    return {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "DISABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
        }
    }


def describe_endpoints(request: dict[str, Any], http: ServiceRequest) -> dict[str, Any]:
    """What SDKs with endpoint discovery ask for: the endpoint they called (locally the
    edge, never AWS's address, where a discovering client would go next). The answer is
    a property of the request (its Host), not of its body."""
    host = http.headers.get("host") or "dynamodb.us-east-1.amazonaws.com"
    return {"Endpoints": [{"Address": host, "CachePeriodInMinutes": 1440}]}


def describe_limits(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    """AWS's default per-account and per-table provisioned-throughput quotas."""
    return {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
