"""Time to Live settings and tags: metadata operations SAM/CDK-style code calls.

TTL settings are stored and described exactly as AWS does; expired items are not
deleted in the background (AWS itself only promises deletion within days, and code
must filter on the TTL attribute anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambic.services.dynamodb.engine import DynamoDBEngine, TableState
from lambic.services.dynamodb.errors import ResourceNotFoundError, ValidationError


def _table_by_arn(engine: DynamoDBEngine, arn: object) -> TableState:
    name = arn.rsplit("/", 1)[-1] if isinstance(arn, str) and ":table/" in arn else None
    state = engine.find_table(name) if name else None
    if state is None:
        raise ResourceNotFoundError(f"Requested resource not found: ResourcArn: {arn} not found")
    return state


def update_time_to_live(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    spec = request.get("TimeToLiveSpecification")
    if not isinstance(spec, dict) or "Enabled" not in spec or not spec.get("AttributeName"):
        raise ValidationError(
            "1 validation error detected: Value null at 'timeToLiveSpecification' failed to "
            "satisfy constraint: Member must not be null"
        )
    with engine.lock:
        state = engine.described_table(request)
        table = state.definition
        enabled = bool(spec["Enabled"])
        if enabled and table.ttl_attribute is not None:
            raise ValidationError("TimeToLive is already enabled")
        if not enabled and table.ttl_attribute is None:
            raise ValidationError("TimeToLive is already disabled")
        table.ttl_attribute = str(spec["AttributeName"]) if enabled else None
        with engine.store.transaction():
            engine.store.save_table(table)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": spec["AttributeName"]}}


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


def _edit_tags(
    engine: DynamoDBEngine, request: dict[str, Any], edit: Callable[[dict[str, str]], None]
) -> dict[str, Any]:
    with engine.lock:
        state = _table_by_arn(engine, request.get("ResourceArn"))
        edit(state.definition.tags)
        with engine.store.transaction():
            engine.store.save_table(state.definition)
    return {}


def tag_resource(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    def add(tags: dict[str, str]) -> None:
        for tag in request.get("Tags") or []:
            tags[str(tag["Key"])] = str(tag["Value"])

    return _edit_tags(engine, request, add)


def untag_resource(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    def remove(tags: dict[str, str]) -> None:
        for key in request.get("TagKeys") or []:
            tags.pop(str(key), None)

    return _edit_tags(engine, request, remove)


def list_tags_of_resource(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    with engine.lock:
        state = _table_by_arn(engine, request.get("ResourceArn"))
        tags = [{"Key": k, "Value": v} for k, v in sorted(state.definition.tags.items())]
    return {"Tags": tags}


def describe_endpoints(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    """What SDKs with endpoint discovery ask for; locally the edge is the only endpoint."""
    return {
        "Endpoints": [{"Address": "dynamodb.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1440}]
    }


def describe_limits(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    """AWS's default per-account and per-table provisioned-throughput quotas."""
    return {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
