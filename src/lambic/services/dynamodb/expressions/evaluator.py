"""Evaluating parsed conditions and projections against an item.

Semantics mirror DynamoDB: a comparison with a missing attribute is false (except `<>`,
which is true), comparing different types is false rather than an error, `size()` of
a type without a size makes its comparison false, and functions follow the
documented rules for strings, binaries, sets and lists.
"""

from __future__ import annotations

import copy
from typing import Any

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
    Operand,
    Or,
    Path,
)
from lambic.services.dynamodb.types import (
    ALL_TYPES,
    SET_TYPES,
    AttributeValue,
    Item,
    decode_binary,
    ordering_key,
    value_type,
    values_equal,
)


def resolve(path: Path, item: Item) -> AttributeValue | None:
    """The value at a document path, or None when any step is missing or mistyped."""
    elements = path.elements
    current: AttributeValue | None = item.get(elements[0])  # type: ignore[arg-type]
    for element in elements[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            items = current.get("L")
            if items is None or element >= len(items):
                return None
            current = items[element]
        else:
            members = current.get("M")
            if members is None:
                return None
            current = members.get(element)
    return current


def operand_value(operand: Operand, item: Item) -> AttributeValue | None:
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Path):
        return resolve(operand, item)
    value = resolve(operand.path, item)
    if value is None:
        return None
    tag, inner = next(iter(value.items()))
    if tag == "S":
        return {"N": str(len(inner))}
    if tag == "B":
        return {"N": str(len(decode_binary(inner)))}
    if tag in SET_TYPES or tag == "L":
        return {"N": str(len(inner))}
    if tag == "M":
        return {"N": str(len(inner))}
    return None


def evaluate(condition: Condition, item: Item) -> bool:
    """Whether `item` satisfies `condition` (an empty dict stands for "no item")."""
    if isinstance(condition, And):
        return evaluate(condition.left, item) and evaluate(condition.right, item)
    if isinstance(condition, Or):
        return evaluate(condition.left, item) or evaluate(condition.right, item)
    if isinstance(condition, Not):
        return not evaluate(condition.operand, item)
    if isinstance(condition, Compare):
        return _compare(
            condition.op,
            operand_value(condition.left, item),
            operand_value(condition.right, item),
        )
    if isinstance(condition, Between):
        value = operand_value(condition.operand, item)
        return _compare(">=", value, operand_value(condition.low, item)) and _compare(
            "<=", value, operand_value(condition.high, item)
        )
    if isinstance(condition, In):
        value = operand_value(condition.operand, item)
        return value is not None and any(
            _compare("=", value, operand_value(candidate, item))
            for candidate in condition.candidates
        )
    return _function(condition, item)


def _compare(op: str, left: AttributeValue | None, right: AttributeValue | None) -> bool:
    if op == "=":
        return left is not None and right is not None and values_equal(left, right)
    if op == "<>":
        return left is None or right is None or not values_equal(left, right)
    if left is None or right is None:
        return False
    left_key, right_key = ordering_key(left), ordering_key(right)
    if left_key is None or right_key is None or left_key[0] != right_key[0]:
        return False
    a, b = left_key[1], right_key[1]
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _function(function: Function, item: Item) -> bool:
    name = function.name
    first = function.args[0]
    if name == "attribute_exists":
        return isinstance(first, Path) and resolve(first, item) is not None
    if name == "attribute_not_exists":
        return isinstance(first, Path) and resolve(first, item) is None
    value = operand_value(first, item)
    argument = operand_value(function.args[1], item)
    if name == "attribute_type":
        return _attribute_type(value, argument)
    if value is None or argument is None:
        return False
    if name == "begins_with":
        return _begins_with(value, argument)
    return _contains(value, argument)


def _attribute_type(value: AttributeValue | None, argument: AttributeValue | None) -> bool:
    if argument is None or value_type(argument) != "S" or argument["S"] not in ALL_TYPES:
        shown = argument["S"] if argument is not None and "S" in argument else argument
        raise ValidationError(
            "Invalid ConditionExpression: Invalid attribute type name found; type: "
            f"{shown}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
        )
    return value is not None and value_type(value) == argument["S"]


def _begins_with(value: AttributeValue, prefix: AttributeValue) -> bool:
    tag, other = value_type(value), value_type(prefix)
    if tag == "S" and other == "S":
        return bool(value["S"].startswith(prefix["S"]))
    if tag == "B" and other == "B":
        return decode_binary(value["B"]).startswith(decode_binary(prefix["B"]))
    return False


def _contains(value: AttributeValue, needle: AttributeValue) -> bool:
    tag, other = value_type(value), value_type(needle)
    if tag == "S" and other == "S":
        return needle["S"] in value["S"]
    if tag == "B" and other == "B":
        return decode_binary(needle["B"]) in decode_binary(value["B"])
    if tag in SET_TYPES and SET_TYPES[tag] == other:
        return any(values_equal({other: member}, needle) for member in value[tag])
    if tag == "L":
        return any(values_equal(element, needle) for element in value["L"])
    return False


# ---- projection ---------------------------------------------------------------------


def project(item: Item, paths: list[Path]) -> Item:
    """The item reduced to `paths`, nested maps and lists pruned as DynamoDB does.

    Selected list elements are returned in index order, compacted (AWS returns
    `a[1], a[3]` as a two-element list).
    """
    result: dict[str, Any] = {}
    for path in paths:
        value = resolve(path, item)
        if value is None:
            continue
        _place(result, path, item)
    return _compact(result)


def _place(result: dict[str, Any], path: Path, item: Item) -> None:
    """Copy the value at `path` into `result`, building sparse containers on the way."""
    elements = path.elements
    source: Any = item
    target: dict[Any, Any] = result
    for depth, element in enumerate(elements):
        last = depth == len(elements) - 1
        if depth == 0:
            source = source[element]
        elif isinstance(element, int):
            source = source["L"][element]
        else:
            source = source["M"][element]
        if last:
            target[element] = copy.deepcopy(source)
            return
        next_element = elements[depth + 1]
        container = target.get(element)
        if container is None:
            container = {"__list__": {}} if isinstance(next_element, int) else {"__map__": {}}
            target[element] = container
        inner = container.get("__list__", container.get("__map__"))
        if inner is None:  # a whole value was already selected at this level
            return
        target = inner


def _compact(node: dict[Any, Any]) -> Item:
    out: Item = {}
    for key, value in node.items():
        out[key] = _finish(value)
    return out


def _finish(value: dict[str, Any]) -> AttributeValue:
    if "__list__" in value:
        sparse = value["__list__"]
        return {"L": [_finish(sparse[i]) for i in sorted(sparse)]}
    if "__map__" in value:
        return {"M": _compact(value["__map__"])}
    return value
