"""Query key conditions: their normal form, filters, and multi-attribute GSI seeks.

Any Query: a comparison may name the value first (`attribute_first` turns it round),
and a filter may not name a key attribute of the queried table or index (`check_filter`).

GSIs with multi-attribute keys, DynamoDB's rules (Nov 2025): every HASH attribute of
the index takes an equality; RANGE attributes are constrained left to right in KeySchema
order without gaps, all with equalities except the last one given, which may also be
<, <=, >, >=, BETWEEN or begins_with. The order of the clauses does not matter.

The seek works on `_keys.encode_key_values`: a multi-attribute key is the
concatenation of self-delimiting attributes, so "the first k attributes equal" is a
byte prefix and a condition on the next one is a byte range after that prefix.
"""

from __future__ import annotations

from typing import Any

from lambic.services.dynamodb._keys import encode_key_values, escape_component, key_component
from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions.ast import (
    And,
    Between,
    Compare,
    Condition,
    Function,
    In,
    Literal,
    Not,
    Or,
    Path,
    Size,
)
from lambic.services.dynamodb.tables import IndexDefinition
from lambic.services.dynamodb.types import AttributeValue, encode_key_value


def conjuncts(condition: Condition) -> list[Condition]:
    """The parts of `a AND b AND c`, in the order written."""
    if isinstance(condition, And):
        return conjuncts(condition.left) + conjuncts(condition.right)
    return [condition]


_MIRRORED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def attribute_first(condition: Condition) -> Condition:
    """`:v < a` written as `a > :v`: key conditions may name the value first."""
    if isinstance(condition, And):
        left, right = attribute_first(condition.left), attribute_first(condition.right)
        if left is condition.left and right is condition.right:
            return condition  # the usual case: nothing to turn, nothing to allocate
        return And(left, right)
    if (
        isinstance(condition, Compare)
        and isinstance(condition.left, Literal)
        and isinstance(condition.right, Path)
    ):
        return Compare(_MIRRORED[condition.op], condition.right, condition.left)
    return condition


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with `prefix`."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes((trimmed[-1] + 1,))


def _hash_error(index: IndexDefinition, name: str) -> ValidationError:
    return ValidationError(
        "Query key condition not supported: every HASH key attribute of index "
        f"{index.name} must be given an equality condition; {name} is not"
    )


def _range_error(index: IndexDefinition, name: str) -> ValidationError:
    return ValidationError(
        f"Query key condition not supported: the RANGE key attributes of index {index.name} "
        "must be constrained left to right in KeySchema order, each with an equality "
        f"condition except the last one given; {name} breaks this"
    )


def hash_key(index: IndexDefinition, parts: dict[str, Condition]) -> bytes:
    """The encoded index hash key of a query, after checking DynamoDB's rules.

    `parts` maps each key attribute named in the key condition to its (already
    type-checked) condition.
    """
    for name in parts:
        if name not in index.hash_keys and name not in index.range_keys:
            raise ValidationError(
                f"Query condition missed key schema element: {_first_missing(index, parts)}"
            )
    hash_values: list[AttributeValue] = []
    for name in index.hash_keys:
        part = parts.get(name)
        if not (isinstance(part, Compare) and part.op == "=" and isinstance(part.right, Literal)):
            raise _hash_error(index, name)
        hash_values.append(part.right.value)
    given = [name for name in index.range_keys if name in parts]
    if given != index.range_keys[: len(given)]:
        raise _range_error(index, next(n for n in index.range_keys if n not in parts))
    for name in given[:-1]:
        part = parts[name]
        if not (isinstance(part, Compare) and part.op == "="):
            raise _range_error(index, name)
    return encode_key_values(hash_values)


def range_where(index: IndexDefinition, parts: dict[str, Condition]) -> tuple[str, tuple[Any, ...]]:
    """SQL on `e.irk` (and its parameters) for a multi-attribute RANGE key.

    Expects `parts` already checked by `hash_key`.
    """
    given = [name for name in index.range_keys if name in parts]
    equal = [_literal(parts[name]) for name in given[:-1]]
    last = parts[given[-1]] if given else None
    prefix = b"".join(key_component(encode_key_value(value)) for value in equal)
    low, high = _bounds(prefix, last)
    where, params = " AND e.irk >= ?", [low]
    if high is not None:
        where += " AND e.irk < ?"
        params.append(high)
    return where, tuple(params)


def _literal(part: Condition) -> AttributeValue:
    assert isinstance(part, Compare) and isinstance(part.right, Literal)
    return part.right.value


def _bounds(prefix: bytes, last: Condition | None) -> tuple[bytes, bytes | None]:
    """[low, high) of encoded range keys under `prefix` that satisfy `last`."""
    end = successor(prefix) if prefix else None
    if last is None:
        return prefix, end
    if isinstance(last, Compare) and isinstance(last.right, Literal):
        value = prefix + key_component(encode_key_value(last.right.value))
        if last.op == "=":
            return value, successor(value)
        if last.op == "<":
            return prefix, value
        if last.op == "<=":
            return prefix, successor(value)
        if last.op == ">":
            return successor(value) or value, end
        if last.op == ">=":
            return value, end
        raise ValidationError("Unsupported operator on KeyConditionExpression: <>")
    if isinstance(last, Between):
        assert isinstance(last.low, Literal) and isinstance(last.high, Literal)
        low = prefix + key_component(encode_key_value(last.low.value))
        high = prefix + key_component(encode_key_value(last.high.value))
        return low, successor(high)
    assert isinstance(last, Function) and isinstance(last.args[1], Literal)
    start = prefix + escape_component(encode_key_value(last.args[1].value))
    return start, successor(start)


def _first_missing(index: IndexDefinition, parts: dict[str, Condition]) -> str:
    for name in index.key_attributes():
        if name not in parts:
            return name
    return index.hash_keys[0]


def check_filter(keys: list[str], condition: Condition | None, label: str) -> None:
    """A Query's filter may not name a key attribute of what it queries (table or index).

    `label` is how AWS names the filter: "Filter Expression" or "QueryFilter".
    """
    if condition is None:
        return
    for name in _attribute_names(condition):
        if name in keys:
            raise ValidationError(
                f"{label} can only contain non-primary key attributes: Primary key "
                f"attribute: {name}"
            )


def _attribute_names(node: Condition | Path | Literal | Size) -> list[str]:
    if isinstance(node, Path):
        return [str(node.elements[0])]
    if isinstance(node, Size):
        return _attribute_names(node.path)
    if isinstance(node, Literal):
        return []
    children: tuple[Any, ...]
    if isinstance(node, Compare):
        children = (node.left, node.right)
    elif isinstance(node, Between):
        children = (node.operand, node.low, node.high)
    elif isinstance(node, In):
        children = (node.operand, *node.candidates)
    elif isinstance(node, Function):
        children = node.args
    elif isinstance(node, And | Or):
        children = (node.left, node.right)
    else:
        assert isinstance(node, Not)
        children = (node.operand,)
    return [name for child in children for name in _attribute_names(child)]
