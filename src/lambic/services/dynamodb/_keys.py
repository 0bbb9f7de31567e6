"""Extracting and checking primary and index keys, with AWS's error texts."""

from __future__ import annotations

from typing import Any, cast

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions.ast import UpdateExpression
from lambic.services.dynamodb.tables import IndexDefinition, TableDefinition
from lambic.services.dynamodb.types import (
    AttributeValue,
    Item,
    encode_key_value,
    validate_value,
    value_type,
)

_MAX_HASH_KEY_BYTES = 2048
_MAX_RANGE_KEY_BYTES = 1024
_SCHEMA_MISMATCH = "The provided key element does not match the schema"


def _empty_key(name: str) -> ValidationError:
    return ValidationError(
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        f"cannot contain an empty string value. Key: {name}"
    )


def _check_size(encoded: bytes, is_hash: bool) -> None:
    if is_hash and len(encoded) > _MAX_HASH_KEY_BYTES:
        raise ValidationError(
            "One or more parameter values were invalid: Size of hashkey has exceeded the "
            "maximum size limit of2048 bytes"
        )
    if not is_hash and len(encoded) > _MAX_RANGE_KEY_BYTES:
        raise ValidationError(
            "One or more parameter values were invalid: Aggregated size of all range keys has "
            "exceeded the size limit of 1024 bytes"
        )


def item_key(table: TableDefinition, item: Item) -> tuple[bytes, bytes]:
    """(hk, rk) of a full item for PutItem, with AWS's missing-key / type-mismatch errors."""
    encoded: list[bytes] = []
    for position, name in enumerate(table.key_names()):
        value = item.get(name)
        if value is None:
            raise ValidationError(
                f"One or more parameter values were invalid: Missing the key {name} in the item"
            )
        expected, actual = table.attribute_types[name], value_type(value)
        if expected != actual:
            raise ValidationError(
                "One or more parameter values were invalid: Type mismatch for key "
                f"{name} expected: {expected} actual: {actual}"
            )
        if expected in ("S", "B") and value[expected] == "":
            raise _empty_key(name)
        key = encode_key_value(value)
        _check_size(key, position == 0)
        encoded.append(key)
    return encoded[0], encoded[1] if len(encoded) > 1 else b""


def request_key(table: TableDefinition, key: object) -> tuple[Item, bytes, bytes]:
    """The validated `Key` of Get/Update/DeleteItem: exactly the key attributes, right types."""
    if not isinstance(key, dict):
        raise ValidationError(_SCHEMA_MISMATCH)
    names = table.key_names()
    if set(key) != set(names):
        raise ValidationError(_SCHEMA_MISMATCH)
    normalized: Item = {}
    for name in names:
        value = validate_value(key[name])
        if value_type(value) != table.attribute_types[name]:
            raise ValidationError(_SCHEMA_MISMATCH)
        normalized[name] = value
    hk, rk = item_key(table, normalized)
    return normalized, hk, rk


def key_of(table: TableDefinition, item: Item) -> Item:
    return {name: item[name] for name in table.key_names()}


def check_keys_not_updated(update: UpdateExpression | None, keys: Item) -> None:
    """UpdateItem (alone or in a transaction) may not touch a key attribute."""
    if update is None:
        return
    for action in update.actions:
        if action.path.elements[0] in keys:
            raise ValidationError(
                "One or more parameter values were invalid: Cannot update attribute "
                f"{action.path.elements[0]}. This attribute is part of the key"
            )


def index_key(
    table: TableDefinition, index: IndexDefinition, item: Item
) -> tuple[bytes, bytes] | None:
    """(ihk, irk) of an item in a secondary index; None when the item is not in it (sparse).

    An item missing any of the index's key attributes is not in the index; those it has
    must still be of their defined types (DynamoDB refuses the write otherwise).
    """
    # Every write runs this per index and per image: one-attribute keys take a short path.
    hashes, ranges = index.hash_keys, index.range_keys
    if len(hashes) == 1 and len(ranges) <= 1:
        ihk_ = _index_value(table, index, hashes[0], item)
        irk_ = _index_value(table, index, ranges[0], item) if ranges else b""
        if ihk_ is None or irk_ is None:
            return None
        if len(ihk_) > _MAX_HASH_KEY_BYTES or len(irk_) > _MAX_RANGE_KEY_BYTES:
            _check_size(ihk_, True)
            _check_size(irk_, False)
        return ihk_, irk_
    hash_parts = [_index_value(table, index, name, item) for name in hashes]
    range_parts = [_index_value(table, index, name, item) for name in ranges]
    if None in hash_parts or None in range_parts:
        return None
    hash_raw = cast("list[bytes]", hash_parts)
    range_raw = cast("list[bytes]", range_parts)
    # DynamoDB's key size limits hold for index keys too (several attributes: their sum).
    ihk = hash_raw[0] if len(hash_raw) == 1 else b"".join(hash_raw)
    _check_size(ihk, True)
    if len(range_raw) == 1:
        irk = range_raw[0]
        _check_size(irk, False)
    elif range_raw:
        _check_size(b"".join(range_raw), False)
        irk = b"".join(map(key_component, range_raw))
    else:
        irk = b""
    if len(hash_raw) > 1:
        ihk = b"".join(map(key_component, hash_raw))
    return ihk, irk


def _index_value(
    table: TableDefinition, index: IndexDefinition, name: str, item: Item
) -> bytes | None:
    """One index key attribute of `item`, encoded; None when the item lacks it."""
    value = item.get(name)
    if value is None:
        return None
    expected, actual = table.attribute_types[name], value_type(value)
    if expected != actual:
        raise ValidationError(
            "One or more parameter values were invalid: Type mismatch for Index Key "
            f"{name} Expected: {expected} Actual: {actual} IndexName: {index.name}"
        )
    if expected in ("S", "B") and value[expected] == "":
        raise ValidationError(
            "One or more parameter values are not valid. A value specified for a secondary "
            "index key is not supported. The AttributeValue for a key attribute cannot "
            f"contain an empty string value. IndexName: {index.name}, IndexKey: {name}"
        )
    return encode_key_value(value)


def encode_key_values(values: list[AttributeValue]) -> bytes:
    """One index key (hash or range) of one or more attributes, in DynamoDB's order.

    A single attribute keeps `encode_key_value`'s bytes (what indexes always stored).
    Several are each made self-delimiting (0x00 escaped as 0x00 0xFF, then a 0x00 0x00
    terminator) and concatenated, so bytes compare as the tuple does: by the first
    attribute, then the next; and a prefix of attributes is a prefix of bytes.
    """
    if len(values) == 1:
        return encode_key_value(values[0])
    return b"".join(key_component(encode_key_value(value)) for value in values)


def key_component(encoded: bytes) -> bytes:
    """One attribute of a multi-attribute key (see `encode_key_values`)."""
    return escape_component(encoded) + b"\x00\x00"


def escape_component(encoded: bytes) -> bytes:
    """The component without its terminator: what begins_with compares as a prefix."""
    return encoded.replace(b"\x00", b"\x00\xff")


def index_projection(table: TableDefinition, index: IndexDefinition) -> set[str] | None:
    """Attribute names an index holds; None when it projects ALL."""
    kind = index.projection["ProjectionType"]
    if kind == "ALL":
        return None
    names = set(table.key_names()) | set(index.key_attributes())
    if kind == "INCLUDE":
        names.update(index.projection.get("NonKeyAttributes", []))
    return names


def index_key_names(table: TableDefinition, index: IndexDefinition) -> list[str]:
    """Attributes of an index's LastEvaluatedKey: the index key, then the table key."""
    names = index.key_attributes()
    return names + [n for n in table.key_names() if n not in names]


def pick(item: Item, names: list[str]) -> dict[str, Any]:
    return {name: item[name] for name in names if name in item}
