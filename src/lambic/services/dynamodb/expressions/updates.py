"""Applying an UpdateExpression to an item (SET, REMOVE, ADD, DELETE).

All operands are evaluated against the item as it was before the update (DynamoDB
evaluates `SET a = b, b = a` as a swap), then the actions are applied in order to a
copy. REMOVE of several list elements removes by their original indexes.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions.ast import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    Literal,
    Path,
    SetValue,
    UpdateAction,
    UpdateExpression,
)
from lambic.services.dynamodb.expressions.evaluator import resolve
from lambic.services.dynamodb.types import (
    EXACT_CONTEXT,
    SET_TYPES,
    AttributeValue,
    Item,
    decode_binary,
    number_result,
    value_type,
)

#: DynamoDB's words for an operand of the wrong type (`legacy` rewords it for
#: AttributeUpdates).
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
_BAD_PATH = "The document path provided in the update expression is invalid for update"


def apply_update(update: UpdateExpression, item: Item) -> Item:
    """A new item with `update` applied; `item` itself is not changed."""
    values = [
        _evaluate(action.value, item) if action.kind == "SET" and action.value else None
        for action in update.actions
    ]
    result = copy.deepcopy(item)
    removals: list[Path] = []
    # Paths never overlap, so order only matters for SETs past a list's end: DynamoDB
    # appends them in index order, whatever their order in the expression.
    ordered = sorted(zip(update.actions, values, strict=True), key=_assignment_order)
    for action, value in ordered:
        if action.kind == "SET" and value is not None:
            _assign(result, action.path, value)
        elif action.kind == "REMOVE":
            removals.append(action.path)
        elif action.kind == "ADD":
            _add(result, action)
        elif action.kind == "DELETE":
            _delete(result, action)
    # Remove deepest/highest list indexes first so earlier indexes stay valid.
    for path in sorted(removals, key=_removal_order, reverse=True):
        _remove(result, path)
    return result


def _assignment_order(pair: tuple[UpdateAction, AttributeValue | None]) -> int:
    last = pair[0].path.elements[-1]
    return last if pair[0].kind == "SET" and isinstance(last, int) else -1


def _removal_order(path: Path) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, e) if isinstance(e, int) else (1, e) for e in path.elements)


def _evaluate(value: SetValue, item: Item) -> AttributeValue:
    if isinstance(value, Literal):
        return value.value
    if isinstance(value, Path):
        found = resolve(value, item)
        if found is None:
            raise ValidationError(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return found
    if isinstance(value, IfNotExists):
        existing = resolve(value.path, item)
        return existing if existing is not None else _evaluate(value.default, item)
    if isinstance(value, ListAppend):
        first, second = _evaluate(value.first, item), _evaluate(value.second, item)
        if value_type(first) != "L" or value_type(second) != "L":
            raise ValidationError(WRONG_TYPE)
        return {"L": [*first["L"], *second["L"]]}
    return _arithmetic(value, item)


def check_static_types(update: UpdateExpression) -> None:
    """Operand types AWS rejects before reading the item (literals of the wrong type)."""
    for action in update.actions:
        value = action.value
        if isinstance(value, Arithmetic):
            for side in (value.left, value.right):
                if isinstance(side, Literal) and value_type(side.value) != "N":
                    raise ValidationError(
                        "Invalid UpdateExpression: Incorrect operand type for operator or "
                        f"function; operator or function: {value.op}, operand type: "
                        f"{value_type(side.value)}"
                    )
        if isinstance(value, ListAppend):
            for side in (value.first, value.second):
                if isinstance(side, Literal) and value_type(side.value) != "L":
                    raise ValidationError(
                        "Invalid UpdateExpression: Incorrect operand type for operator or "
                        "function; operator or function: list_append, operand type: "
                        f"{value_type(side.value)}"
                    )
        if action.kind in ("ADD", "DELETE") and isinstance(value, Literal):
            tag = value_type(value.value)
            allowed = SET_TYPES.keys() | ({"N"} if action.kind == "ADD" else set())
            if tag not in allowed:
                raise ValidationError(
                    "Invalid UpdateExpression: Incorrect operand type for operator or "
                    f"function; operator: {action.kind}, operand type: {_type_name(tag)}"
                )


def _arithmetic(value: Arithmetic, item: Item) -> AttributeValue:
    left, right = _evaluate(value.left, item), _evaluate(value.right, item)
    if value_type(left) != "N" or value_type(right) != "N":
        raise ValidationError(WRONG_TYPE)
    a, b = Decimal(left["N"]), Decimal(right["N"])
    result = EXACT_CONTEXT.add(a, b) if value.op == "+" else EXACT_CONTEXT.subtract(a, b)
    return {"N": number_result(result)}


def _parent(item: Item, path: Path) -> AttributeValue | None:
    """The container holding the last element of `path` (the item is a pseudo-map)."""
    if len(path.elements) == 1:
        return {"M": item}
    return resolve(Path(path.elements[:-1]), item)


def _assign(item: Item, path: Path, value: AttributeValue) -> None:
    last = path.elements[-1]
    parent = _parent(item, path)
    if parent is None:
        raise ValidationError(_BAD_PATH)
    if isinstance(last, int):
        if "L" not in parent:
            raise ValidationError(_BAD_PATH)
        elements = parent["L"]
        if last >= len(elements):
            # AWS appends when the index is past the end.
            elements.append(copy.deepcopy(value))
        else:
            elements[last] = copy.deepcopy(value)
        return
    if "M" not in parent:
        raise ValidationError(_BAD_PATH)
    parent["M"][last] = copy.deepcopy(value)


def _remove(item: Item, path: Path) -> None:
    last = path.elements[-1]
    parent = _parent(item, path)
    if parent is None:  # REMOVE a.b where a is missing: AWS refuses the path
        raise ValidationError(_BAD_PATH)
    if isinstance(last, int):
        elements = parent.get("L")
        if elements is None:
            raise ValidationError(_BAD_PATH)
        if last < len(elements):
            del elements[last]
        return
    members = parent.get("M")
    if members is None:
        raise ValidationError(_BAD_PATH)
    members.pop(last, None)


def _add(item: Item, action: UpdateAction) -> None:
    assert isinstance(action.value, Literal)  # parser guarantees ADD takes a value
    operand = action.value.value
    tag = value_type(operand)
    if tag != "N" and tag not in SET_TYPES:
        raise ValidationError(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            f"operator: ADD, operand type: {_type_name(tag)}"
        )
    existing = resolve(action.path, item)
    if existing is None:
        _assign(item, action.path, operand)
        return
    if value_type(existing) != tag:
        raise ValidationError(WRONG_TYPE)
    if tag == "N":
        total = EXACT_CONTEXT.add(Decimal(existing["N"]), Decimal(operand["N"]))
        _assign(item, action.path, {"N": number_result(total)})
        return
    merged = list(existing[tag])
    present = {_member_key(tag, m) for m in merged}
    for member in operand[tag]:
        if _member_key(tag, member) not in present:
            merged.append(member)
            present.add(_member_key(tag, member))
    _assign(item, action.path, {tag: merged})


def _delete(item: Item, action: UpdateAction) -> None:
    assert isinstance(action.value, Literal)  # parser guarantees DELETE takes a value
    operand = action.value.value
    tag = value_type(operand)
    if tag not in SET_TYPES:
        raise ValidationError(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            f"operator: DELETE, operand type: {_type_name(tag)}"
        )
    existing = resolve(action.path, item)
    if existing is None:
        return
    if value_type(existing) != tag:
        raise ValidationError(WRONG_TYPE)
    doomed = {_member_key(tag, m) for m in operand[tag]}
    remaining = [m for m in existing[tag] if _member_key(tag, m) not in doomed]
    if remaining:
        _assign(item, action.path, {tag: remaining})
    else:
        # An empty set cannot exist in DynamoDB: the attribute goes away.
        _remove(item, action.path)


def _member_key(tag: str, member: str) -> object:
    if tag == "NS":
        return Decimal(member)
    if tag == "BS":
        return decode_binary(member)
    return member


def _type_name(tag: str) -> str:
    return {
        "S": "STRING",
        "B": "BINARY",
        "BOOL": "BOOLEAN",
        "NULL": "NULL",
        "L": "LIST",
        "M": "MAP",
    }.get(tag, tag)
