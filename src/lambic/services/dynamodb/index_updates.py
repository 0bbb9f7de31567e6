"""UpdateTable's GlobalSecondaryIndexUpdates: one Create, Update or Delete per entry.

As in DynamoDB, one UpdateTable may create or delete one index at most; a new index's
key attributes must be defined in the same request; a key attribute keeps its type;
only a GSI (not an LSI) can be updated or deleted.
"""

from __future__ import annotations

from typing import Any

from lambic.services.dynamodb.errors import (
    LimitExceededError,
    ResourceNotFoundError,
    ValidationError,
)
from lambic.services.dynamodb.tables import (
    IndexDefinition,
    TableDefinition,
    parse_attribute_definitions,
    parse_index,
)

_INDEX_ACTIONS = frozenset({"Create", "Update", "Delete"})


def _global_index(table: TableDefinition, name: object) -> IndexDefinition:
    """The GSI an UpdateTable index update names (an LSI is not one), or AWS's 404."""
    index = table.indexes.get(name) if isinstance(name, str) else None
    if index is None or index.kind != "GSI":
        raise ResourceNotFoundError(f"Requested resource not found: Index: {name} not found")
    return index


def _check_new_index_attributes(
    table: TableDefinition, index: IndexDefinition, request: dict[str, Any]
) -> None:
    """A new GSI's key attributes must be defined in the same request."""
    given = parse_attribute_definitions(request.get("AttributeDefinitions") or [])
    missing = [n for n in index.key_attributes() if n not in given]
    if missing:
        raise ValidationError(
            "One or more parameter values were invalid: Some index key attributes are not "
            f"defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
            f"AttributeDefinitions: [{', '.join(sorted(given))}]"
        )


def check_redefinitions(table: TableDefinition, given: dict[str, str]) -> None:
    """A key attribute of the table or of an index keeps its type."""
    in_use = set(table.key_names())
    for index in table.indexes.values():
        in_use.update(index.key_attributes())
    for name, kind in given.items():
        old = table.attribute_types.get(name)
        if name in in_use and old is not None and old != kind:
            raise ValidationError(
                "One or more parameter values were invalid: Attribute "
                f"{name} is already defined with type {old} and cannot be redefined as {kind}"
            )


def apply(table: TableDefinition, request: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Apply GlobalSecondaryIndexUpdates to `table`: the names created and dropped."""
    updates = request.get("GlobalSecondaryIndexUpdates") or []
    for update in updates:
        if not isinstance(update, dict) or len(update.keys() & _INDEX_ACTIONS) != 1:
            raise ValidationError(
                "One or more parameter values were invalid: Exactly one of Create, Update "
                "or Delete must be specified in a GlobalSecondaryIndexUpdate"
            )
    if sum(1 for u in updates if "Create" in u or "Delete" in u) > 1:
        raise LimitExceededError(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            f"simultaneously per table: {table.name}"
        )
    created: list[str] = []
    dropped: list[str] = []
    for update in updates:
        if "Create" in update:
            index = parse_index(update["Create"], "GSI", table.billing_mode)
            if index.name in table.indexes:
                raise ValidationError(
                    "One or more parameter values were invalid: Index already exists: " + index.name
                )
            _check_new_index_attributes(table, index, request)
            table.indexes[index.name] = index
            created.append(index.name)
        elif "Delete" in update:
            name = update["Delete"].get("IndexName")
            _global_index(table, name)
            del table.indexes[name]
            dropped.append(name)
        else:
            name = update["Update"].get("IndexName")
            _global_index(table, name).throughput = dict(update["Update"]["ProvisionedThroughput"])
    return created, dropped
