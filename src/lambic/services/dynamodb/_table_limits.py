"""Field-level limits of CreateTable / UpdateTable, checked on the raw request.

AWS checks its model's constraints (names and types present, a projection's
NonKeyAttributes are strings) before reading the request's meaning, and names the
offending field by its path (`attributeDefinitions.1.member.attributeName`). Doing the
same here, ahead of `tables.parse_create_table`, keeps those messages in one place;
name lengths are `tables.check_name_lengths` (every one listed at once).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lambic.services.dynamodb.errors import SerializationError, ValidationError


def check_table_request(request: dict[str, Any]) -> None:
    """Raise AWS's ValidationException for the first name or type missing (a
    SerializationException for a name that is not a string)."""
    for i, definition in _members(request.get("AttributeDefinitions")):
        for field in ("AttributeName", "AttributeType"):
            if definition.get(field) is None:
                where = f"attributeDefinitions.{i}.member.{field[0].lower()}{field[1:]}"
                raise ValidationError(
                    f"1 validation error detected: Value null at '{where}' failed to satisfy "
                    "constraint: Member must not be null"
                )
    throughput = request.get("ProvisionedThroughput")
    if isinstance(throughput, dict):
        for field in ("readCapacityUnits", "writeCapacityUnits"):
            if throughput.get(field[0].upper() + field[1:]) is None:
                raise ValidationError(
                    f"1 validation error detected: Value null at 'provisionedThroughput.{field}' "
                    "failed to satisfy constraint: Member must not be null"
                )
    for _where, name in _attribute_names(request):
        if not isinstance(name, str):
            raise SerializationError("NUMBER_VALUE cannot be converted to String")


def _members(value: object) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for position, member in enumerate(value, start=1):
            if isinstance(member, dict):
                yield position, member


def _key_names(prefix: str, schema: object) -> Iterator[tuple[str, object]]:
    for i, element in _members(schema):
        if "AttributeName" in element:
            yield f"{prefix}keySchema.{i}.member.attributeName", element["AttributeName"]


def _index_names(prefix: str, index: dict[str, Any]) -> Iterator[tuple[str, object]]:
    yield from _key_names(prefix, index.get("KeySchema"))
    projection = index.get("Projection")
    if isinstance(projection, dict) and isinstance(projection.get("NonKeyAttributes"), list):
        for j, name in enumerate(projection["NonKeyAttributes"], start=1):
            yield f"{prefix}projection.nonKeyAttributes.{j}.member", name


def _attribute_names(request: dict[str, Any]) -> Iterator[tuple[str, object]]:
    for i, definition in _members(request.get("AttributeDefinitions")):
        if "AttributeName" in definition:
            yield f"attributeDefinitions.{i}.member.attributeName", definition["AttributeName"]
    yield from _key_names("", request.get("KeySchema"))
    for field in ("globalSecondaryIndexes", "localSecondaryIndexes"):
        for i, index in _members(request.get(field[0].upper() + field[1:])):
            yield from _index_names(f"{field}.{i}.member.", index)
    for i, update in _members(request.get("GlobalSecondaryIndexUpdates")):
        create = update.get("Create")
        if isinstance(create, dict):
            prefix = f"globalSecondaryIndexUpdates.{i}.member.create."
            yield from _index_names(prefix, create)
