"""The pre-expression request parameters, translated into expression ASTs.

Older SDK code still sends `Expected` (+ `ConditionalOperator`), `KeyConditions`,
`QueryFilter` / `ScanFilter` and `AttributeUpdates`. DynamoDB evaluates them with the
same semantics as the equivalent expressions, so we translate and reuse one
evaluator. Mixing a legacy parameter with its expression counterpart is AWS's
ValidationException.
"""

from __future__ import annotations

from typing import Any

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions.ast import (
    And,
    Between,
    Compare,
    Condition,
    Function,
    IfNotExists,
    In,
    ListAppend,
    Literal,
    Not,
    Or,
    Path,
    UpdateAction,
    UpdateExpression,
)
from lambic.services.dynamodb.expressions.updates import WRONG_TYPE, apply_update
from lambic.services.dynamodb.types import ordering_key, validate_value, value_type

_COMPARISONS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARITY = {
    **dict.fromkeys(_COMPARISONS, 1),
    "NOT_NULL": 0,
    "NULL": 0,
    "CONTAINS": 1,
    "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1,
    "BETWEEN": 2,
}


def reject_mixing(request: dict[str, Any], legacy: str, expression: str) -> None:
    if request.get(legacy) is not None and request.get(expression) is not None:
        raise ValidationError(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{legacy}}} Expression parameters: {{{expression}}}"
        )


def check_parameter_mix(
    request: dict[str, Any], expressions: tuple[str, ...], legacy_names: tuple[str, ...]
) -> None:
    """DynamoDB refuses a request using expressions and legacy parameters together, naming
    all of each kind it found (KeyConditions counts only beside KeyConditionExpression)."""
    # Legacy names first: a modern request has none, and this runs on every request.
    old = [
        name
        for name in legacy_names
        if request.get(name) is not None
        and (name != "KeyConditions" or request.get("KeyConditionExpression") is not None)
    ]
    if not old:
        return
    used = [name for name in expressions if request.get(name) is not None]
    if used:
        raise ValidationError(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(old)}}} Expression parameters: "
            f"{{{', '.join(used)}}}"
        )


def _literal(value: object) -> Literal:
    return Literal(validate_value(value), "")


# The value types each operator accepts in `AttributeValueList` (DynamoDB's documented
# rules: ordering and substring operators take scalars, equality also takes sets).
_SCALARS = ("S", "N", "B")
_ACCEPTED = {
    **dict.fromkeys(("EQ", "NE"), ("S", "N", "B", "SS", "NS", "BS", "L", "M", "BOOL", "NULL")),
    **dict.fromkeys(
        ("LE", "LT", "GE", "GT", "CONTAINS", "NOT_CONTAINS", "IN", "BETWEEN"), _SCALARS
    ),
    "BEGINS_WITH": ("S", "B"),
}


def _invalid(message: str) -> ValidationError:
    return ValidationError("One or more parameter values were invalid: " + message)


def _check_values(operator: str, values: list[Literal]) -> None:
    """AttributeValueList's count and types as DynamoDB checks them before evaluating."""
    count = len(values)
    if (count == 0) if operator == "IN" else (count != _ARITY[operator]):
        raise _invalid(f"Invalid number of argument(s) for the {operator} ComparisonOperator")
    types = [value_type(v.value) for v in values]
    if any(t != types[0] for t in types):
        raise _invalid("AttributeValues inside AttributeValueList must be of same type")
    for tag in types:
        if tag not in _ACCEPTED.get(operator, ()):
            raise _invalid(
                f"ComparisonOperator {operator} is not valid for {tag} AttributeValue type"
            )
    if operator == "BETWEEN":
        low, high = ordering_key(values[0].value), ordering_key(values[1].value)
        if low is not None and high is not None and low[1] > high[1]:
            raise ValidationError(
                "The BETWEEN condition was provided a range where the lower bound is greater "
                "than the upper bound"
            )


def _comparison(name: str, spec: dict[str, Any]) -> Condition:
    operator = spec.get("ComparisonOperator")
    raw = spec.get("AttributeValueList")
    if (
        raw is None and "Value" in spec
    ):  # Expected's one-value form: {"Value": v, "ComparisonOperator": op}
        raw = [spec["Value"]]
    values = [_literal(v) for v in raw or []]
    path = Path((name,))
    if operator not in _ARITY and operator != "IN":
        raise ValidationError(
            f"1 validation error detected: Value '{operator}' at 'comparisonOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
            "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        )
    _check_values(str(operator), values)
    if operator == "IN":
        return In(path, tuple(values))
    if operator in _COMPARISONS:
        return Compare(_COMPARISONS[operator], path, values[0])
    if operator == "NOT_NULL":
        return Function("attribute_exists", (path,))
    if operator == "NULL":
        return Function("attribute_not_exists", (path,))
    if operator == "CONTAINS":
        return Function("contains", (path, values[0]))
    if operator == "NOT_CONTAINS":
        # Unlike `NOT contains(...)`, the legacy operator fails on a missing attribute.
        return And(
            Function("attribute_exists", (path,)), Not(Function("contains", (path, values[0])))
        )
    if operator == "BEGINS_WITH":
        return Function("begins_with", (path, values[0]))
    return Between(path, values[0], values[1])


def _combine(parts: list[Condition], operator: object) -> Condition:
    if operator not in (None, "AND", "OR"):
        raise ValidationError(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [OR, AND]"
        )
    result = parts[0]
    for part in parts[1:]:
        result = Or(result, part) if operator == "OR" else And(result, part)
    return result


def check_conditional_operator(conditions: object, operator: object) -> None:
    """`ConditionalOperator` joins two or more legacy conditions; DynamoDB refuses it
    anywhere else (no `Expected` / filter, or one with fewer than two entries)."""
    if operator is None:
        return
    if operator not in ("AND", "OR"):
        raise ValidationError(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [OR, AND]"
        )
    if conditions is None:
        raise ValidationError("ConditionalOperator cannot be used without Filter or Expected")
    if isinstance(conditions, dict) and len(conditions) < 2:
        raise ValidationError(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements"
        )


def expected_condition(expected: object, operator: object) -> Condition | None:
    """`Expected` (+ `ConditionalOperator`) as a condition."""
    check_conditional_operator(expected, operator)
    if not isinstance(expected, dict) or not expected:
        return None
    parts: list[Condition] = []
    for name, spec in expected.items():
        path = Path((name,))
        if "AttributeValueList" in spec and "Value" in spec:
            raise _invalid(
                f"Value and AttributeValueList cannot be used together for Attribute: {name}"
            )
        if "ComparisonOperator" in spec:
            if "Exists" in spec:
                raise _invalid(
                    f"Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )
            parts.append(_comparison(name, spec))
        elif "AttributeValueList" in spec:
            raise _invalid(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: "
                + name
            )
        elif spec.get("Exists") is False:
            if "Value" in spec:
                raise ValidationError(
                    "One or more parameter values were invalid: Value cannot be used when "
                    "Exists is false for Attribute: " + name
                )
            parts.append(Function("attribute_not_exists", (path,)))
        elif "Value" in spec:
            parts.append(Compare("=", path, _literal(spec["Value"])))
        else:
            raise ValidationError(
                "One or more parameter values were invalid: Value must be provided when Exists "
                f"is true for Attribute: {name}"
            )
    return _combine(parts, operator)


def filter_condition(conditions: object, operator: object) -> Condition | None:
    """`QueryFilter` or `ScanFilter` (+ `ConditionalOperator`) as a condition."""
    check_conditional_operator(conditions, operator)
    if not isinstance(conditions, dict) or not conditions:
        return None
    return _combine([_comparison(n, s) for n, s in conditions.items()], operator)


def key_conditions(conditions: object) -> Condition | None:
    """`KeyConditions` (always joined by AND) as a condition."""
    if not isinstance(conditions, dict) or not conditions:
        return None
    return _combine([_comparison(n, s) for n, s in conditions.items()], "AND")


def attribute_updates(updates: object) -> UpdateExpression | None:
    """`AttributeUpdates` (PUT / ADD / DELETE per attribute) as an update expression."""
    if not isinstance(updates, dict) or not updates:
        return None
    actions: list[UpdateAction] = []
    for name, spec in updates.items():
        action = spec.get("Action", "PUT")
        path = Path((name,))
        value = _literal(spec["Value"]) if "Value" in spec else None
        if action in ("PUT", "ADD") and value is None:
            raise ValidationError(
                "One or more parameter values were invalid: Only DELETE action is allowed "
                f"when no attribute value is specified: {name}"
            )
        if action == "PUT":
            actions.append(UpdateAction("SET", path, value))
        elif action == "DELETE":
            actions.append(
                UpdateAction("REMOVE", path)
                if value is None
                else UpdateAction("DELETE", path, value)
            )
        elif action == "ADD" and value is not None and value_type(value.value) == "L":
            # Undocumented but DynamoDB's behaviour (ScyllaDB's suite checks it against
            # AWS): ADD of a list appends to the attribute's list, a missing one as empty.
            empty = Literal({"L": []}, "")
            actions.append(UpdateAction("SET", path, ListAppend(IfNotExists(path, empty), value)))
        elif action == "ADD":
            actions.append(UpdateAction("ADD", path, value))
        else:
            raise ValidationError(
                f"1 validation error detected: Value '{action}' at 'attributeUpdates' failed to "
                "satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
            )
    return UpdateExpression(tuple(actions))


#: How DynamoDB words a type error in `AttributeUpdates` (an ADD or DELETE whose value's
#: type the attribute's does not match), where an update expression's reads WRONG_TYPE:
#: one of the ValidationException causes UpdateItem's API reference lists.
TYPE_MISMATCH = "Type mismatch for attribute to update"


def apply_attribute_updates(update: UpdateExpression, item: dict[str, Any]) -> dict[str, Any]:
    """`apply_update` for an update made from `AttributeUpdates`, its errors worded so."""
    try:
        return apply_update(update, item)
    except ValidationError as exc:
        if exc.message == WRONG_TYPE:
            raise ValidationError(TYPE_MISMATCH) from None
        raise
