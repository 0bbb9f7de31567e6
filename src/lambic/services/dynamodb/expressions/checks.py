"""Checks DynamoDB makes on a condition expression before reading any item.

Two passes, each raising AWS's ValidationException with its own wording:
- `check_tokens`, on the token stream: balanced parentheses, no redundant pair
  (`((a < b))`), at most 300 operators. It runs before the recursive parser, so an
  expression nested thousands deep is refused instead of exhausting the stack.
- `check_condition`, on the parsed tree: operand types that can be judged from the
  expression alone (a list compared with `<`, `begins_with` of a number, BETWEEN
  bounds of two types or in the wrong order) and operands that must differ
  (`contains(a, a)`).
"""

from __future__ import annotations

import functools
import sys

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions._lexer import tokenize
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
    Size,
)
from lambic.services.dynamodb.types import ordering_key, value_type

MAX_OPERATORS = 300
_OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_ORDERED = ("S", "N", "B")
# Frames the recursive-descent parser uses per nesting level, with room to spare.
_FRAMES_PER_LEVEL = 8


@functools.lru_cache(maxsize=2048)
def check_tokens(expression: str, label: str) -> None:
    """Parentheses and operator count, judged on tokens (see the module docstring).

    Cached like `tokenize`: applications send the same few expressions over and over
    (a refused one raises, which the cache does not keep)."""
    tokens = tokenize(expression, label)
    stack: list[int] = []
    pairs: dict[int, int] = {}
    operators = 0
    depth = 0
    for i, token in enumerate(tokens):
        if token.kind == "op":
            if token.text == "(":
                stack.append(i)
                depth = max(depth, len(stack))
            elif token.text == ")":
                if not stack:
                    return  # the parser reports the stray ")" as a syntax error
                pairs[stack.pop()] = i
            elif token.text in _COMPARATORS:
                operators += 1
        elif token.kind == "name":
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if token.text.upper() in _OPERATOR_WORDS or (
                following is not None and following.kind == "op" and following.text == "("
            ):
                operators += 1
        if operators > MAX_OPERATORS:
            raise ValidationError(
                f"Invalid {label}: The expression contains too many operators; operator count: "
                f"{operators}"
            )
    if stack:
        raise ValidationError(f'Invalid {label}: Syntax error; token: "<EOF>", near: ")"')
    for opening, closing in pairs.items():
        if pairs.get(opening + 1) == closing - 1:
            raise ValidationError(f"Invalid {label}: The expression has redundant parentheses;")
    needed = depth * _FRAMES_PER_LEVEL + 200
    if sys.getrecursionlimit() < needed + 1000:
        # Nesting is bounded by the operator limit above; never lowered again, so
        # concurrent parsers cannot pull the limit from under each other.
        sys.setrecursionlimit(needed + 1000)


def check_condition(condition: Condition, label: str) -> None:
    """Static operand checks over a parsed condition (this runs on every request, so
    the common path only tests types)."""
    if isinstance(condition, Compare):
        left, right = condition.left, condition.right
        if isinstance(left, Path) and left == right:
            _distinct(condition.op, left, right, label)
        if condition.op != "=" and condition.op != "<>":
            _ordered(condition.op, left, label)
            _ordered(condition.op, right, label)
    elif isinstance(condition, And | Or):
        check_condition(condition.left, label)
        check_condition(condition.right, label)
    elif isinstance(condition, Not):
        check_condition(condition.operand, label)
    elif isinstance(condition, Between):
        _ordered("BETWEEN", condition.operand, label)
        _ordered("BETWEEN", condition.low, label)
        _ordered("BETWEEN", condition.high, label)
        _between_bounds(condition.low, condition.high, label)
    elif isinstance(condition, Function):
        _function(condition, label)


def _type_error(label: str, kind: str, name: str, tag: str) -> ValidationError:
    return ValidationError(
        f"Invalid {label}: Incorrect operand type for operator or function; {kind}: {name}, "
        f"operand type: {tag}"
    )


def _ordered(op: str, operand: Operand, label: str) -> None:
    if type(operand) is Literal and value_type(operand.value) not in _ORDERED:
        raise _type_error(label, "operator", op, value_type(operand.value))


def _distinct(name: str, first: Operand, second: Operand, label: str) -> None:
    if isinstance(first, Path) and first == second:
        shown = ", ".join(f"[{e}]" if isinstance(e, int) else e for e in first.elements)
        raise ValidationError(
            f"Invalid {label}: The first operand must be distinct from the remaining operands "
            f"for this operator or function; operator: {name}, first operand: [{shown}]"
        )


def _shown(literal: Literal) -> str:
    tag = value_type(literal.value)
    return f"AttributeValue: {{{tag}:{literal.value[tag]}}}"


def _between_bounds(low: Operand, high: Operand, label: str) -> None:
    if not (isinstance(low, Literal) and isinstance(high, Literal)):
        return
    if value_type(low.value) != value_type(high.value):
        raise ValidationError(
            f"Invalid {label}: The BETWEEN operator requires same data type for lower and upper "
            f"bounds; lower bound operand: {_shown(low)}, upper bound operand: {_shown(high)}"
        )
    low_key, high_key = ordering_key(low.value), ordering_key(high.value)
    if low_key is not None and high_key is not None and low_key[1] > high_key[1]:
        raise ValidationError(
            f"Invalid {label}: The BETWEEN operator requires upper bound to be greater than or "
            f"equal to lower bound; lower bound operand: {_shown(low)}, upper bound operand: "
            f"{_shown(high)}"
        )


def _function(node: Function, label: str) -> None:
    name, args = node.name, node.args
    if len(args) == 2:
        _distinct(name, args[0], args[1], label)
    if name == "begins_with":
        for operand in args:
            if isinstance(operand, Literal) and value_type(operand.value) not in ("S", "B"):
                raise _type_error(label, "operator or function", name, value_type(operand.value))
    elif name == "attribute_type" and not isinstance(args[1], Literal):
        raise _type_error(label, "operator or function", name, "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")


def attribute_heads(condition: Condition) -> set[str]:
    """The top-level attribute names a condition reads (`a.b[1]` reads `a`)."""
    heads: set[str] = set()
    pending: list[Condition] = [condition]
    while pending:
        node = pending.pop()
        operands: tuple[Operand, ...] = ()
        if isinstance(node, (And, Or)):
            pending += [node.left, node.right]
        elif isinstance(node, Not):
            pending.append(node.operand)
        elif isinstance(node, Compare):
            operands = (node.left, node.right)
        elif isinstance(node, Between):
            operands = (node.operand, node.low, node.high)
        elif isinstance(node, In):
            operands = (node.operand, *node.candidates)
        else:
            operands = node.args
        for operand in operands:
            path = operand.path if isinstance(operand, Size) else operand
            if isinstance(path, Path):
                heads.add(str(path.elements[0]))
    return heads
