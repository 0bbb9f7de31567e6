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
    In,
    Literal,
    Not,
    Or,
    Path,
    UpdateAction,
    UpdateExpression,
)
from lambic.services.dynamodb.types import validate_value

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


def _literal(value: object) -> Literal:
    return Literal(validate_value(value), "")


def _comparison(name: str, spec: dict[str, Any]) -> Condition:
    operator = spec.get("ComparisonOperator")
    values = [_literal(v) for v in spec.get("AttributeValueList") or []]
    path = Path((name,))
    if operator == "IN":
        if not values:
            raise ValidationError(
                "One or more parameter values were invalid: Invalid number of argument(s) for "
                "the IN ComparisonOperator"
            )
        return In(path, tuple(values))
    if operator not in _ARITY:
        raise ValidationError(
            f"1 validation error detected: Value '{operator}' at 'comparisonOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
            "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        )
    if len(values) != _ARITY[operator]:
        raise ValidationError(
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            f"{operator} ComparisonOperator"
        )
    if operator in _COMPARISONS:
        return Compare(_COMPARISONS[operator], path, values[0])
    if operator == "NOT_NULL":
        return Function("attribute_exists", (path,))
    if operator == "NULL":
        return Function("attribute_not_exists", (path,))
    if operator == "CONTAINS":
        return Function("contains", (path, values[0]))
    if operator == "NOT_CONTAINS":
        return Not(Function("contains", (path, values[0])))
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


def expected_condition(expected: object, operator: object) -> Condition | None:
    """`Expected` (+ `ConditionalOperator`) as a condition."""
    if not isinstance(expected, dict) or not expected:
        return None
    parts: list[Condition] = []
    for name, spec in expected.items():
        path = Path((name,))
        if "ComparisonOperator" in spec:
            parts.append(_comparison(name, spec))
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
    """`KeyConditions`, `QueryFilter` or `ScanFilter` as a condition."""
    if not isinstance(conditions, dict) or not conditions:
        return None
    return _combine([_comparison(n, s) for n, s in conditions.items()], operator)


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
        elif action == "ADD":
            actions.append(UpdateAction("ADD", path, value))
        else:
            raise ValidationError(
                f"1 validation error detected: Value '{action}' at 'attributeUpdates' failed to "
                "satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
            )
    return UpdateExpression(tuple(actions))
