"""A policy statement's `Condition` block, decided against a request's context.

IAM's rules, as its documentation states them: every operator in the block must hold,
and every key under an operator; a key with several policy values holds when any value
matches, except under a negated operator (`StringNotEquals`, `NotIpAddress`...), where
it holds only when none does. A key missing from the request makes the comparison
false, and a negated one true; `...IfExists` holds when the key is missing, and `Null`
tests exactly that. `ForAnyValue:` / `ForAllValues:` compare a multi-valued key.

Keys are case-insensitive; the context (`Context`) answers a key with its values, or
None when the request does not carry it. An operator this module does not know makes
the condition false, so an unknown Allow grants nothing and an unknown Deny denies
nothing (PutBucketPolicy accepted it, as AWS does for operators of other services).
"""

from __future__ import annotations

import datetime
import fnmatch
import ipaddress
from collections.abc import Callable, Mapping
from typing import Protocol

Compare = Callable[[str, str], bool]


class Context(Protocol):
    def values(self, key: str) -> list[str] | None:
        """The request's values for a condition key (lower-cased), None when absent."""
        ...


def _like(value: str, pattern: str) -> bool:
    # IAM's wildcards: * and ?, nothing else (no [ranges] as fnmatch would read them).
    escaped = pattern.replace("[", "[[]")
    return fnmatch.fnmatchcase(value, escaped)


def _number(text: str) -> float:
    return float(text)


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(value: str, policy: str) -> bool:
        try:
            return test(_number(value), _number(policy))
        except ValueError:
            return False

    return compare


def _time(text: str) -> float:
    if text.lstrip("-").isdigit():
        return float(text)
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _date(test: Callable[[float, float], bool]) -> Compare:
    def compare(value: str, policy: str) -> bool:
        try:
            return test(_time(value), _time(policy))
        except ValueError:
            return False

    return compare


def _ip(value: str, policy: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(policy, strict=False)
    except ValueError:
        return False


def _bool(value: str, policy: str) -> bool:
    return value.lower() == policy.lower()


# operator -> (comparison, negated)
_OPERATORS: dict[str, tuple[Compare, bool]] = {
    "stringequals": (lambda v, p: v == p, False),
    "stringnotequals": (lambda v, p: v == p, True),
    "stringequalsignorecase": (lambda v, p: v.lower() == p.lower(), False),
    "stringnotequalsignorecase": (lambda v, p: v.lower() == p.lower(), True),
    "stringlike": (_like, False),
    "stringnotlike": (_like, True),
    "numericequals": (_numeric(lambda a, b: a == b), False),
    "numericnotequals": (_numeric(lambda a, b: a == b), True),
    "numericlessthan": (_numeric(lambda a, b: a < b), False),
    "numericlessthanequals": (_numeric(lambda a, b: a <= b), False),
    "numericgreaterthan": (_numeric(lambda a, b: a > b), False),
    "numericgreaterthanequals": (_numeric(lambda a, b: a >= b), False),
    "dateequals": (_date(lambda a, b: a == b), False),
    "datenotequals": (_date(lambda a, b: a == b), True),
    "datelessthan": (_date(lambda a, b: a < b), False),
    "datelessthanequals": (_date(lambda a, b: a <= b), False),
    "dategreaterthan": (_date(lambda a, b: a > b), False),
    "dategreaterthanequals": (_date(lambda a, b: a >= b), False),
    "bool": (_bool, False),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    "arnequals": (lambda v, p: v == p, False),
    "arnnotequals": (lambda v, p: v == p, True),
    "arnlike": (_like, False),
    "arnnotlike": (_like, True),
}


def holds(block: Mapping[str, object], context: Context) -> bool:
    """Whether a statement's whole `Condition` block holds for the request."""
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            return False
        for key, wanted in keys.items():
            policy_values = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
            if not _holds(operator, str(key).lower(), policy_values, context):
                return False
    return True


def _holds(operator: str, key: str, wanted: list[str], context: Context) -> bool:
    name = operator.lower()
    qualifier = ""
    if ":" in name:
        qualifier, name = name.split(":", 1)
    values = context.values(key)
    if name == "null":
        # "true": the key must be absent; "false": present.
        return any((values is None) == (w.lower() == "true") for w in wanted)
    if_exists = name.endswith("ifexists")
    if if_exists:
        name = name[: -len("ifexists")]
    known = _OPERATORS.get(name)
    if known is None:
        return False
    compare, negated = known
    if values is None:
        if if_exists or qualifier == "forallvalues":
            return True
        return negated
    if qualifier == "forallvalues":
        return all(_one(v, wanted, compare, negated) for v in values)
    # ForAnyValue and a plain single-valued key alike: some request value matches.
    return any(_one(v, wanted, compare, negated) for v in values)


def _one(value: str, wanted: list[str], compare: Compare, negated: bool) -> bool:
    if negated:
        return not any(compare(value, w) for w in wanted)
    return any(compare(value, w) for w in wanted)
