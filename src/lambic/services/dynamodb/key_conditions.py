"""Query key conditions: their normal form, their checks, the seek they become; filters.

Any Query: a comparison may name the value first (`attribute_first` turns it round),
and a filter may not name a key attribute of the queried table or index (`check_filter`).
`seek` turns a key condition into where the Query reads: the partition's encoded hash
key plus a range on the encoded sort key (`types.encode_key_value` keeps DynamoDB's
order in bytes), refusing what DynamoDB refuses in its own words.

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
from lambic.services.dynamodb.tables import IndexDefinition, TableDefinition
from lambic.services.dynamodb.types import (
    AttributeValue,
    encode_key_value,
    ordering_key,
    value_type,
)


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


_SQL_OPS = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def seek(
    condition: Condition, table: TableDefinition, index: IndexDefinition | None
) -> tuple[bytes, str, tuple[Any, ...]]:
    """Where a Query reads: (encoded hash key, SQL on the sort column, its parameters).

    `condition` is attribute-first (`attribute_first`). The sort column is the table's
    `rk`, or an index's `e.irk`; DynamoDB's messages for keys it cannot use are raised
    here.
    """
    if index is not None and index.multi_attribute:
        return _multi_attribute_seek(condition, index, table.attribute_types)
    hash_name = index.hash_keys[0] if index else table.hash_key
    range_name = table.range_key
    if index is not None:
        range_name = index.range_keys[0] if index.range_keys else None
    hash_value, range_condition = _split_key_condition(
        condition, hash_name, range_name, table.attribute_types
    )
    where, params = _range_sql(range_condition, "e.irk" if index else "rk")
    return encode_key_value(hash_value), where, params


def _split_key_condition(
    condition: Condition, hash_name: str, range_name: str | None, types: dict[str, str]
) -> tuple[AttributeValue, Condition | None]:
    parts = [condition.left, condition.right] if isinstance(condition, And) else [condition]
    if len(parts) == 2 and any(isinstance(p, And) for p in parts):
        raise ValidationError("Conditions can be of length 1 or 2 only")
    hash_value: AttributeValue | None = None
    range_condition: Condition | None = None
    # `seek`'s caller has put every comparison attribute-first (`attribute_first`).
    for part in parts:
        attribute = _key_attribute(part)
        if attribute == hash_name:
            if hash_value is not None:
                raise ValidationError(
                    "KeyConditionExpressions must only contain one condition per key"
                )
            if not isinstance(part, Compare) or part.op != "=":
                raise ValidationError("Query key condition not supported")
            assert isinstance(part.right, Literal)  # guaranteed by _key_attribute
            hash_value = part.right.value
        elif range_name is not None and attribute == range_name:
            if range_condition is not None:
                raise ValidationError(
                    "KeyConditionExpressions must only contain one condition per key"
                )
            range_condition = part
        else:
            # Without a sort key there is no element to miss: AWS just refuses the shape.
            raise ValidationError(
                f"Query condition missed key schema element: {range_name}"
                if attribute is not None and range_name is not None
                else "Query key condition not supported"
            )
    if hash_value is None:
        raise ValidationError(f"Query condition missed key schema element: {hash_name}")
    _check_key_types(hash_value, types[hash_name])
    if range_condition is not None and range_name is not None:
        _check_operands(range_condition, types[range_name])
    return hash_value, range_condition


def _multi_attribute_seek(
    condition: Condition, index: IndexDefinition, types: dict[str, str]
) -> tuple[bytes, str, tuple[Any, ...]]:
    """(ihk, SQL on e.irk, parameters) of a query on a multi-attribute GSI key."""
    parts: dict[str, Condition] = {}
    for part in conjuncts(condition):
        attribute = _key_attribute(part)
        if attribute is None:
            raise ValidationError("Query key condition not supported")
        if attribute in parts:
            raise ValidationError("KeyConditionExpressions must only contain one condition per key")
        if attribute in types:
            _check_operands(part, types[attribute])
        parts[attribute] = part
    ihk = hash_key(index, parts)
    # Each RANGE condition gets the classic checks (<> refused, BETWEEN bounds in order);
    # a single RANGE attribute also keeps the classic encoding, hence the classic seek.
    where, params = "", ()
    for name in index.range_keys:
        if name in parts:
            where, params = _range_sql(parts[name], "e.irk")
    if len(index.range_keys) > 1:
        where, params = range_where(index, parts)
    return ihk, where, params


def _key_attribute(part: Condition) -> str | None:
    """The attribute a key-condition part constrains, if it has a supported shape."""
    if isinstance(part, Compare) and isinstance(part.right, Literal):
        target = part.left
    elif (
        isinstance(part, Between)
        and isinstance(part.low, Literal)
        and isinstance(part.high, Literal)
    ):
        target = part.operand
    elif (
        isinstance(part, Function)
        and part.name == "begins_with"
        and isinstance(part.args[1], Literal)
    ):
        target = part.args[0]
    else:
        if isinstance(part, Function):
            raise ValidationError(f"Invalid operator used in KeyConditionExpression: {part.name}")
        if isinstance(part, Compare | Between):
            return None
        raise ValidationError(
            "Invalid operator used in KeyConditionExpression: " + type(part).__name__.upper()
        )
    if isinstance(target, Path) and len(target.elements) > 1:
        raise ValidationError("KeyConditionExpressions cannot have conditions on nested attributes")
    if isinstance(target, Path):
        return str(target.elements[0])
    return None


def _literals(condition: Condition) -> list[AttributeValue]:
    if isinstance(condition, Compare) and isinstance(condition.right, Literal):
        return [condition.right.value]
    if isinstance(condition, Between):
        return [x.value for x in (condition.low, condition.high) if isinstance(x, Literal)]
    if isinstance(condition, Function) and isinstance(condition.args[1], Literal):
        return [condition.args[1].value]
    return []


def _check_operands(part: Condition, expected: str) -> None:
    """A sort-key condition's values must have the key's type; begins_with takes no N."""
    for literal in _literals(part):
        _check_key_types(literal, expected)
    if isinstance(part, Function) and expected == "N":
        raise ValidationError(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or "
            "function; operator or function: begins_with, operand type: N"
        )


def _check_key_types(value: AttributeValue, expected: str) -> None:
    if value_type(value) != expected:
        raise ValidationError(
            "One or more parameter values were invalid: Condition parameter type does not "
            "match schema type"
        )


def _range_sql(condition: Condition | None, column: str) -> tuple[str, tuple[Any, ...]]:
    if condition is None:
        return "", ()
    if isinstance(condition, Compare) and isinstance(condition.right, Literal):
        if condition.op not in _SQL_OPS:
            raise ValidationError("Unsupported operator on KeyConditionExpression: <>")
        return f" AND {column} {_SQL_OPS[condition.op]} ?", (
            encode_key_value(condition.right.value),
        )
    if (
        isinstance(condition, Between)
        and isinstance(condition.low, Literal)
        and isinstance(condition.high, Literal)
    ):
        low, high = condition.low.value, condition.high.value
        low_key, high_key = ordering_key(low), ordering_key(high)
        if low_key is not None and high_key is not None and low_key[1] > high_key[1]:
            raise ValidationError(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
                "greater than or equal to lower bound; lower bound operand: AttributeValue: "
                f"{render_value(low)}, upper bound operand: AttributeValue: "
                f"{render_value(high)}"
            )
        return f" AND {column} >= ? AND {column} <= ?", (
            encode_key_value(low),
            encode_key_value(high),
        )
    assert isinstance(condition, Function) and isinstance(condition.args[1], Literal)
    prefix = encode_key_value(condition.args[1].value)
    upper = successor(prefix)
    if upper is None:
        return f" AND {column} >= ?", (prefix,)
    return f" AND {column} >= ? AND {column} < ?", (prefix, upper)


def render_value(value: AttributeValue) -> str:
    tag, inner = next(iter(value.items()))
    return "{" + f"{tag}:{inner}" + "}"


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
