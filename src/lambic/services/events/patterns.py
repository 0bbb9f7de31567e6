"""EventBridge event patterns: validation and matching.

A pattern mirrors the event's shape. Each key names a field; its value is either a
nested pattern (an object) or a list of matchers for a leaf. A leaf matches when any
matcher matches, and an event field holding a list matches when any element does.
Matchers are literals (string, number, boolean, null) or one-key objects:

    {"prefix": "img-"}           {"suffix": ".png"}          {"equals-ignore-case": "x"}
    {"prefix": {"equals-ignore-case": "IMG"}}   {"suffix": {"equals-ignore-case": ".PNG"}}
    {"anything-but": "x" | [..] | {"prefix": ..} | {"suffix": ..} | {"equals-ignore-case": ..}
                     | {"wildcard": ..}}
    {"numeric": [">", 0, "<=", 5]}  {"exists": true|false}  {"cidr": "10.0.0.0/24"}
    {"wildcard": "dir/*.png"}

`"$or": [pattern, ...]` at any object level matches when any alternative does.

As in AWS (and its event-ruler engine), only fields present in the event can match,
except `{"exists": false}`; `anything-but` does not match an absent field; numeric
matchers apply to JSON numbers only; literals compare exactly (a number literal
equals a JSON number of the same value).

`compile_pattern(pattern)` validates once and returns an `EventPattern` whose
`matches(event)` is cheap; invalid patterns raise `InvalidEventPatternError` with a
message in AWS's words ("Event pattern is not valid. Reason: ...").
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambic._http_limits import loads_json

Matcher = Callable[[Any, bool], bool]  # (value, present) -> matched

_NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")
# event-ruler's numeric range: values outside it cannot be compared exactly.
_NUMERIC_LIMIT = 5_000_000_000


class InvalidEventPatternError(ValueError):
    """The pattern is not valid; `str()` is AWS's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Event pattern is not valid. Reason: {reason}")


@dataclass(frozen=True)
class EventPattern:
    """A validated pattern; `matches(event)` says whether an event is delivered."""

    source: Mapping[str, Any]
    _match: Callable[[Any], bool]

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self._match(event)


def compile_pattern(pattern: Mapping[str, Any] | str) -> EventPattern:
    """Validate `pattern` (a dict or its JSON text) and compile it for matching."""
    if isinstance(pattern, str):
        try:
            pattern = loads_json(pattern)
        except json.JSONDecodeError as exc:
            raise InvalidEventPatternError(f"Filter is not valid JSON: {exc.msg}") from exc
    if not isinstance(pattern, Mapping):
        raise InvalidEventPatternError("Filter is not an object")
    return EventPattern(dict(pattern), _compile_object(pattern, path=""))


def _compile_object(pattern: Mapping[str, Any], path: str) -> Callable[[Any], bool]:
    checks: list[Callable[[Any], bool]] = []
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            checks.append(_compile_or(value, path))
        elif isinstance(value, Mapping):
            checks.append(_field_object(key, _compile_object(value, where)))
        elif isinstance(value, list):
            checks.append(_field_leaf(key, _compile_leaf(value, where)))
        else:
            raise InvalidEventPatternError(f'"{where}" must be an object or an array')

    def match(event: Any) -> bool:
        return all(check(event) for check in checks)

    return match


def _compile_or(alternatives: Any, path: str) -> Callable[[Any], bool]:
    if not isinstance(alternatives, list) or len(alternatives) < 2:
        raise InvalidEventPatternError("$or must be an array of at least two objects")
    compiled = []
    for alternative in alternatives:
        if not isinstance(alternative, Mapping) or not alternative:
            raise InvalidEventPatternError("$or must be an array of at least two objects")
        compiled.append(_compile_object(alternative, path))
    return lambda event: any(alt(event) for alt in compiled)


def _field_object(key: str, nested: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def match(event: Any) -> bool:
        if not isinstance(event, Mapping):
            # A nested pattern under an absent field can still match when it only
            # asks for absence ({"exists": false}); give it an empty object.
            return nested({})
        value = event.get(key)
        if isinstance(value, Mapping):
            return nested(value)
        if isinstance(value, list):
            return any(nested(v) for v in value if isinstance(v, Mapping)) or (
                not any(isinstance(v, Mapping) for v in value) and nested({})
            )
        return nested({})

    return match


def _field_leaf(key: str, matchers: Sequence[Matcher]) -> Callable[[Any], bool]:
    def match(event: Any) -> bool:
        present = isinstance(event, Mapping) and key in event
        value = event.get(key) if present else None
        if isinstance(value, Mapping):
            # Patterns match leaves only (AWS flattens events to leaf paths): a field
            # holding an object is not a leaf, so for a leaf matcher it is absent.
            return any(m(None, False) for m in matchers)
        if isinstance(value, list):
            if not value:
                return any(m(None, False) for m in matchers)
            return any(m(v, True) for v in value for m in matchers)
        return any(m(value, present) for m in matchers)

    return match


def _compile_leaf(values: list[Any], where: str) -> list[Matcher]:
    if not values:
        raise InvalidEventPatternError(f'Empty arrays are not allowed at "{where}"')
    return [_compile_matcher(value, where) for value in values]


def _compile_matcher(value: Any, where: str) -> Matcher:
    if value is None or isinstance(value, (bool, str)):
        return _literal(value)
    if isinstance(value, (int, float)):
        return _number_literal(value)
    if isinstance(value, Mapping):
        if len(value) != 1:
            raise InvalidEventPatternError(f'Only one key allowed in match expression at "{where}"')
        ((operator, operand),) = value.items()
        builder = _OPERATORS.get(operator)
        if builder is None:
            raise InvalidEventPatternError(f'Unrecognized match type {operator} at "{where}"')
        return builder(operand, where)
    raise InvalidEventPatternError(
        f'Match value must be String, number, true, false, or null at "{where}"'
    )


def _literal(expected: Any) -> Matcher:
    def match(value: Any, present: bool) -> bool:
        if not present:
            return False
        if isinstance(expected, bool) or expected is None:
            return value is expected
        return isinstance(value, str) and value == expected

    return match


def _number_literal(expected: float) -> Matcher:
    def match(value: Any, present: bool) -> bool:
        return (
            present
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
            and float(value) == float(expected)
        )

    return match


def _string_operand(operand: Any, operator: str, where: str) -> str:
    if not isinstance(operand, str):
        raise InvalidEventPatternError(f'{operator} match pattern must be a string at "{where}"')
    return operand


def _prefix(operand: Any, where: str) -> Matcher:
    return _affix(operand, where, "prefix", str.startswith)


def _suffix(operand: Any, where: str) -> Matcher:
    return _affix(operand, where, "suffix", str.endswith)


def _affix(operand: Any, where: str, operator: str, test: Callable[[str, str], bool]) -> Matcher:
    if isinstance(operand, Mapping) and set(operand) == {"equals-ignore-case"}:
        folded = _string_operand(operand["equals-ignore-case"], operator, where).casefold()
        return lambda value, present: (
            present and isinstance(value, str) and test(value.casefold(), folded)
        )
    text = _string_operand(operand, operator, where)
    return lambda value, present: present and isinstance(value, str) and test(value, text)


def _equals_ignore_case(operand: Any, where: str) -> Matcher:
    folded = _string_operand(operand, "equals-ignore-case", where).casefold()
    return lambda value, present: present and isinstance(value, str) and value.casefold() == folded


def _wildcard(operand: Any, where: str) -> Matcher:
    text = _string_operand(operand, "wildcard", where)
    if "**" in text:
        raise InvalidEventPatternError(f'Consecutive wildcard characters at "{where}"')
    parts: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "*\\":
            parts.append(re.escape(text[i + 1]))  # "\\*" is a literal star
            i += 2
            continue
        parts.append(".*" if text[i] == "*" else re.escape(text[i]))
        i += 1
    regex = re.compile("".join(parts) + r"\Z", re.DOTALL)
    return lambda value, present: (
        present and isinstance(value, str) and regex.match(value) is not None
    )


def _anything_but(operand: Any, where: str) -> Matcher:
    if isinstance(operand, Mapping):
        if len(operand) != 1 or next(iter(operand)) not in (
            "prefix",
            "suffix",
            "equals-ignore-case",
            "wildcard",
        ):
            raise InvalidEventPatternError(
                f'Unsupported anything-but pattern at "{where}"; use a value, a list, prefix, '
                "suffix, equals-ignore-case or wildcard"
            )
        ((operator, inner),) = operand.items()
        inner_operands = inner if isinstance(inner, list) else [inner]
        inner_matchers = [_OPERATORS[operator](item, where) for item in inner_operands]
    else:
        values = operand if isinstance(operand, list) else [operand]
        if not values:
            raise InvalidEventPatternError(f'Empty arrays are not allowed at "{where}"')
        for item in values:
            if isinstance(item, (Mapping, list)):
                raise InvalidEventPatternError(
                    f'Inside anything-but list, only strings and numbers are allowed at "{where}"'
                )
        inner_matchers = [_compile_matcher(item, where) for item in values]

    def match(value: Any, present: bool) -> bool:
        return present and value is not None and not any(m(value, True) for m in inner_matchers)

    return match


def _numeric(operand: Any, where: str) -> Matcher:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise InvalidEventPatternError(
            f'Value of numeric must be an array of one or two operator/number pairs at "{where}"'
        )
    bounds: list[tuple[str, float]] = []
    for i in range(0, len(operand), 2):
        operator, number = operand[i], operand[i + 1]
        if operator not in _NUMERIC_OPERATORS:
            raise InvalidEventPatternError(
                f'Unrecognized numeric range operator: {operator} at "{where}"'
            )
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise InvalidEventPatternError(f'Value of {operator} must be numeric at "{where}"')
        if abs(number) > _NUMERIC_LIMIT:
            raise InvalidEventPatternError(
                f'Value of {operator} must be between -5.0E9 and 5.0E9 inclusive at "{where}"'
            )
        bounds.append((operator, float(number)))
    if len(bounds) == 2:
        (low_op, low), (high_op, high) = bounds
        if low_op not in (">", ">=") or high_op not in ("<", "<=") or low >= high:
            raise InvalidEventPatternError(
                f'Bad numeric range operator at "{where}"; give a lower bound (> or >=) '
                "then a larger upper bound (< or <=)"
            )
    compare = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }

    def match(value: Any, present: bool) -> bool:
        if not present or isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return all(compare[op](float(value), bound) for op, bound in bounds)

    return match


def _exists(operand: Any, where: str) -> Matcher:
    if not isinstance(operand, bool):
        raise InvalidEventPatternError(
            f'exists match pattern must be either true or false at "{where}"'
        )

    def match(value: Any, present: bool) -> bool:
        return present if operand else not present

    return match


def _cidr(operand: Any, where: str) -> Matcher:
    text = _string_operand(operand, "cidr", where)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidEventPatternError(f'Malformed CIDR, one "/" required at "{where}"') from exc

    def match(value: Any, present: bool) -> bool:
        if not present or not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in network
        except ValueError:
            return False

    return match


_OPERATORS: dict[str, Callable[[Any, str], Matcher]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "exists": _exists,
    "cidr": _cidr,
}
