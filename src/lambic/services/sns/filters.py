"""SNS subscription filter policies, evaluated as AWS evaluates them.

A policy is a JSON object. With `FilterPolicyScope: MessageAttributes` (the default)
each key names a message attribute; with `MessageBody` keys walk into the JSON
message body and nested objects nest. Keys are ANDed; the list under a key is ORed;
`"$or": [policy, ...]` ORs whole sub-policies. A list element is a literal (string,
number, true/false/null: exact match) or an operator object: `prefix`, `suffix`,
`equals-ignore-case`, `anything-but` (a value, a list, or `{"prefix"|"suffix"|
"equals-ignore-case": ...}`), `numeric` (`["=", 5]`, `[">", 0, "<=", 10]`),
`exists` (true/false), `cidr` ("10.0.0.0/24").

Attribute values: a `String` attribute matches as a string, a `Number` as a number, a
`String.Array` matches when any element matches; `Binary` attributes never match.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from ipaddress import ip_address, ip_network
from typing import Any

from lambic._http_limits import loads_json
from lambic.services.sns.errors import SnsError, invalid_parameter
from lambic.services.sns.model import MessageAttribute

_MISSING = object()
_OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr"}
)
_NUMERIC_OPS = frozenset({"=", "<", "<=", ">", ">="})
MAX_KEYS = 5
MAX_COMBINATIONS = 150


def _bad(detail: str) -> SnsError:
    return invalid_parameter(f"FilterPolicy: {detail}")


def parse_filter_policy(text: str, scope: str = "MessageAttributes") -> dict[str, Any] | None:
    """Validate a FilterPolicy attribute; None for an empty policy (which matches all)."""
    if not text.strip():
        return None
    try:
        policy = loads_json(text)
    except ValueError as exc:
        raise _bad("failed to parse JSON.") from exc
    if not isinstance(policy, dict):
        raise _bad("Filter policy must be a JSON object.")
    if not policy:
        return None
    keys = _validate(policy, nested=scope == "MessageBody")
    if keys > MAX_KEYS:
        raise _bad(f"Filter policy can not have more than {MAX_KEYS} keys")
    if _combinations(policy) > MAX_COMBINATIONS:
        raise _bad("Filter policy is too complex")
    return policy


def _validate(policy: Mapping[str, Any], *, nested: bool) -> int:
    """Check the policy's structure; return the number of leaf keys (AWS limits it)."""
    keys = 0
    for key, value in policy.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _bad("$or must be a list of at least two policies.")
            keys = max(keys, max(_validate(branch, nested=nested) for branch in value))
            continue
        if isinstance(value, dict):
            if not nested:
                raise _bad(f'"{key}" must be an object or an array')
            keys += _validate(value, nested=nested)
        elif isinstance(value, list):
            if not value:
                raise _bad("Empty arrays are not allowed")
            for condition in value:
                _validate_condition(condition)
            keys += 1
        else:
            raise _bad(f'"{key}" must be an object or an array')
    return keys


def _validate_condition(condition: Any) -> None:
    if condition is None or isinstance(condition, str | int | float | bool):
        return
    if not isinstance(condition, dict) or len(condition) != 1:
        raise _bad("Match value must be String, number, true, false, or null")
    operator, operand = next(iter(condition.items()))
    if operator not in _OPERATORS:
        raise _bad(f"Unrecognized match type {operator}")
    if operator in ("prefix", "suffix", "equals-ignore-case") and not isinstance(operand, str):
        raise _bad(f"{operator} match pattern must be a string")
    if operator == "exists" and not isinstance(operand, bool):
        raise _bad("exists match pattern must be either true or false.")
    if operator == "numeric":
        _validate_numeric(operand)
    if operator == "cidr" and not _is_network(operand):
        raise _bad(f"Malformed CIDR, one '/' required: {operand}")
    if operator == "anything-but" and isinstance(operand, dict):
        inner = next(iter(operand), None)
        if len(operand) != 1 or inner not in ("prefix", "suffix", "equals-ignore-case"):
            raise _bad("Unsupported anything-but pattern")


def _validate_numeric(operand: Any) -> None:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise _bad("Value of numeric must be an array of 2 or 4 elements.")
    for i in range(0, len(operand), 2):
        op, value = operand[i], operand[i + 1]
        if op not in _NUMERIC_OPS or isinstance(value, bool):
            raise _bad(f"Unrecognized numeric range operator: {op}")
        if not isinstance(value, int | float):
            raise _bad("Value of < must be numeric")


def _is_network(operand: Any) -> bool:
    if not isinstance(operand, str) or "/" not in operand:
        return False
    try:
        ip_network(operand, strict=False)
    except ValueError:
        return False
    return True


def _combinations(policy: Mapping[str, Any]) -> int:
    total = 1
    for key, value in policy.items():
        if key == "$or":
            total *= sum(_combinations(branch) for branch in value)
        elif isinstance(value, dict):
            total *= _combinations(value)
        else:
            total *= len(value)
    return total


# Evaluation -----------------------------------------------------------------------


def matches_attributes(
    policy: Mapping[str, Any], attributes: Mapping[str, MessageAttribute]
) -> bool:
    """Does a MessageAttributes-scoped policy accept these attributes?"""
    for key, conditions in policy.items():
        if key == "$or":
            if not any(matches_attributes(branch, attributes) for branch in conditions):
                return False
            continue
        attribute = attributes.get(key)
        values = _attribute_values(attribute) if attribute is not None else _MISSING
        if not _any_condition(conditions, values):
            return False
    return True


def matches_body(policy: Mapping[str, Any], body: Any) -> bool:
    """Does a MessageBody-scoped policy accept this decoded JSON body?"""
    if not isinstance(body, dict):
        return False
    for key, conditions in policy.items():
        if key == "$or":
            if not any(matches_body(branch, body) for branch in conditions):
                return False
            continue
        value = body.get(key, _MISSING)
        if isinstance(conditions, dict):
            if not matches_body(conditions, value if value is not _MISSING else {}):
                return False
            continue
        values: Any = _MISSING
        if value is not _MISSING:
            values = value if isinstance(value, list) else [value]
        if not _any_condition(conditions, values):
            return False
    return True


def _attribute_values(attribute: MessageAttribute) -> list[Any] | object:
    if attribute.binary_value is not None or attribute.data_type.startswith("Binary"):
        return []
    text = attribute.string_value or ""
    if attribute.data_type.startswith("Number"):
        try:
            return [float(text)]
        except ValueError:
            return []
    if attribute.data_type == "String.Array":
        try:
            decoded = loads_json(text)
        except ValueError:
            return [text]
        return decoded if isinstance(decoded, list) else [decoded]
    return [text]


def _any_condition(conditions: list[Any], values: Any) -> bool:
    return any(_condition(condition, values) for condition in conditions)


def _condition(condition: Any, values: Any) -> bool:
    if isinstance(condition, dict):
        operator, operand = next(iter(condition.items()))
        if operator == "exists":
            return (values is not _MISSING) == bool(operand)
        if values is _MISSING:
            return False
        if operator == "anything-but":
            return bool(values) and not any(_anything_but_hits(operand, v) for v in values)
        return any(_operator(operator, operand, v) for v in values)
    if values is _MISSING:
        return False
    return any(_literal(condition, v) for v in values)


def _literal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or expected is None or isinstance(value, bool):
        return bool(expected is value or (expected == value and type(expected) is type(value)))
    if isinstance(expected, int | float):
        return isinstance(value, int | float) and math.isclose(float(value), float(expected))
    return isinstance(value, str) and value == expected


def _anything_but_hits(operand: Any, value: Any) -> bool:
    if isinstance(operand, dict):
        operator, inner = next(iter(operand.items()))
        return _operator(operator, inner, value)
    options = operand if isinstance(operand, list) else [operand]
    return any(_literal(option, value) for option in options)


def _operator(operator: str, operand: Any, value: Any) -> bool:
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(operand)
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(operand)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(operand).lower()
    if operator == "cidr":
        return isinstance(value, str) and _in_network(value, str(operand))
    if operator == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(
            _compare(float(value), operand[i], float(operand[i + 1]))
            for i in range(0, len(operand), 2)
        )
    return False


def _in_network(address: str, network: str) -> bool:
    try:
        return ip_address(address) in ip_network(network, strict=False)
    except ValueError:
        return False


def _compare(value: float, op: str, bound: float) -> bool:
    if op == "=":
        return math.isclose(value, bound)
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == ">":
        return value > bound
    return value >= bound
