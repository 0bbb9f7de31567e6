"""Recursive-descent parser for DynamoDB's condition, update and projection expressions.

Precedence, lowest first, as DynamoDB documents it: OR, AND, NOT, then comparisons,
BETWEEN, IN and functions, with parentheses overriding. `#name` and `:value`
placeholders are substituted while parsing and recorded in `Substitutions`, which a
request shares across its expressions so that an unused placeholder can be reported
with AWS's ValidationException afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lambic.services.dynamodb.errors import SerializationError, ValidationError
from lambic.services.dynamodb.expressions._lexer import Token, tokenize
from lambic.services.dynamodb.expressions._reserved import RESERVED_WORDS
from lambic.services.dynamodb.expressions.ast import (
    And,
    Arithmetic,
    Between,
    Compare,
    Condition,
    Function,
    IfNotExists,
    In,
    ListAppend,
    Literal,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    SetValue,
    Size,
    UpdateAction,
    UpdateExpression,
)
from lambic.services.dynamodb.expressions.checks import check_condition, check_tokens
from lambic.services.dynamodb.expressions.updates import check_static_types
from lambic.services.dynamodb.types import AttributeValue, decode_binary, validate_value, value_type

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
_UPDATE_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
_MAX_EXPRESSION_BYTES = 4096
_MAX_PATH_DEPTH = 32  # elements of one document path
_MAX_LIST_INDEX = 2**31 - 1
_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


class Substitutions:
    """ExpressionAttributeNames / Values of one request, and which of them were used."""

    def __init__(self, names: object, values: object) -> None:
        if names is not None and not isinstance(names, dict):
            raise ValidationError("ExpressionAttributeNames must be a map")
        if values is not None and not isinstance(values, dict):
            raise ValidationError("ExpressionAttributeValues must be a map")
        self.names: dict[str, str] = dict(names or {})
        for key, name in self.names.items():
            if not isinstance(name, str):
                # A JSON number or object where AWS's model has a string.
                raise SerializationError(
                    "NUMBER_VALUE cannot be converted to String"
                    if isinstance(name, int | float)
                    else "Start of structure or map found where not expected."
                )
            if not _NAME_KEY.fullmatch(key):
                raise ValidationError(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
        self.values: dict[str, AttributeValue] = {}
        for key, value in (values or {}).items():
            if not _VALUE_KEY.fullmatch(key):
                raise ValidationError(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
            self.values[key] = validate_value(value)
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self.names_given = names is not None
        self.values_given = values is not None

    def check_all_used(self) -> None:
        """AWS rejects placeholders no expression used; we mirror it."""
        unused_names = sorted(set(self.names) - self.used_names)
        if unused_names:
            raise ValidationError(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: "
                "{" + ", ".join(unused_names) + "}"
            )
        unused_values = sorted(set(self.values) - self.used_values)
        if unused_values:
            raise ValidationError(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: "
                "{" + ", ".join(unused_values) + "}"
            )


class _Parser:
    def __init__(self, text: object, label: str, subs: Substitutions) -> None:
        if not isinstance(text, str):
            raise ValidationError(f"Invalid {label}: The expression must be a string")
        if not text.strip():
            raise ValidationError(f"Invalid {label}: The expression can not be empty;")
        size = len(text.encode("utf-8"))
        if size > _MAX_EXPRESSION_BYTES:
            raise ValidationError(
                f"Invalid {label}: Expression size has exceeded the maximum allowed size; "
                f"expression size: {size}"
            )
        self.text = text
        self.label = label
        self.subs = subs
        self.tokens = tokenize(text, label)
        self.pos = 0

    # ---- token helpers --------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_op(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def is_keyword(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text.upper() == word

    def expect_op(self, text: str) -> None:
        if not self.is_op(text):
            raise self.syntax_error()
        self.advance()

    def syntax_error(self) -> ValidationError:
        token = self.tok
        start = self.tokens[self.pos - 1].offset if self.pos > 0 else token.offset
        end = token.offset + (0 if token.kind == "eof" else len(token.text))
        near = self.text[start:end]
        return ValidationError(
            f'Invalid {self.label}: Syntax error; token: "{token.text}", near: "{near}"'
        )

    def expect_end(self) -> None:
        if self.tok.kind != "eof":
            raise self.syntax_error()

    # ---- paths and operands -----------------------------------------------------------

    def path_name(self) -> str:
        token = self.tok
        if token.kind == "nameref":
            self.advance()
            if token.text not in self.subs.names:
                raise ValidationError(
                    f"Invalid {self.label}: An expression attribute name used in the document "
                    f"path is not defined; attribute name: {token.text}"
                )
            self.subs.used_names.add(token.text)
            return self.subs.names[token.text]
        if token.kind == "name":
            if token.text.upper() in RESERVED_WORDS:
                raise ValidationError(
                    f"Invalid {self.label}: Attribute name is a reserved keyword; reserved "
                    f"keyword: {token.text}"
                )
            self.advance()
            return token.text
        raise self.syntax_error()

    def path(self) -> Path:
        elements: list[PathElement] = [self.path_name()]
        while True:
            if self.is_op("."):
                self.advance()
                elements.append(self.path_name())
            elif self.is_op("["):
                self.advance()
                if self.tok.kind != "index":
                    raise self.syntax_error()
                index = int(self.advance().text)
                if index > _MAX_LIST_INDEX:
                    raise ValidationError(
                        f"Invalid {self.label}: List index is not within the allowable range; "
                        f"index: [{index}]"
                    )
                elements.append(index)
                self.expect_op("]")
            else:
                break
        if len(elements) > _MAX_PATH_DEPTH:
            raise ValidationError(
                f"Invalid {self.label}: The document path has too many nesting levels; "
                f"nesting levels: {len(elements)}"
            )
        return Path(tuple(elements))

    def literal(self) -> Literal:
        token = self.advance()
        if token.text not in self.subs.values:
            raise ValidationError(
                f"Invalid {self.label}: An expression attribute value used in expression is "
                f"not defined; attribute value: {token.text}"
            )
        self.subs.used_values.add(token.text)
        return Literal(self.subs.values[token.text], token.text)

    def is_call(self) -> bool:
        return self.tok.kind == "name" and self.peek().kind == "op" and self.peek().text == "("

    def operand(self) -> Operand:
        if self.tok.kind == "valueref":
            return self.literal()
        if self.is_call():
            name = self.tok.text
            if name in CONDITION_FUNCTIONS:
                raise ValidationError(
                    f"Invalid {self.label}: The function is not allowed to be used this way in "
                    f"an expression; function: {name}"
                )
            self.check_function_name(name)
            return self.size()
        return self.path()

    def check_function_name(self, name: str) -> None:
        if name in UPDATE_FUNCTIONS:
            raise ValidationError(
                f"Invalid {self.label}: The function is not allowed in a condition expression; "
                f"function: {name}"
            )
        if name != "size":
            raise ValidationError(f"Invalid {self.label}: Invalid function name; function: {name}")

    def size(self) -> Operand:
        """`size(path)`; `size(:v)` is computed here, as its value is already known."""
        self.advance()
        self.expect_op("(")
        args = [self.operand()]
        while self.is_op(","):
            self.advance()
            args.append(self.operand())
        self.expect_op(")")
        if len(args) != 1:
            raise ValidationError(
                f"Invalid {self.label}: Incorrect number of operands for operator or function; "
                f"operator or function: size, number of operands: {len(args)}"
            )
        argument = args[0]
        if isinstance(argument, Path):
            return Size(argument)
        tag = "N" if isinstance(argument, Size) else value_type(argument.value)
        if tag in ("N", "BOOL", "NULL") or not isinstance(argument, Literal):
            raise ValidationError(
                f"Invalid {self.label}: Incorrect operand type for operator or function; "
                f"operator or function: size, operand type: {tag}"
            )
        inner = argument.value[tag]
        length = len(decode_binary(inner)) if tag == "B" else len(inner)
        return Literal({"N": str(length)}, argument.placeholder)

    # ---- conditions -------------------------------------------------------------------

    def condition(self) -> Condition:
        return self._left_chain("OR", self.conjunction, Or)

    def conjunction(self) -> Condition:
        return self._left_chain("AND", self.negation, And)

    def _left_chain(
        self,
        keyword: str,
        operand: Callable[[], Condition],
        node: Callable[[Condition, Condition], Condition],
    ) -> Condition:
        """`a KEYWORD b KEYWORD c` as node(node(a, b), c): AND and OR group to the left."""
        left = operand()
        while self.is_keyword(keyword):
            self.advance()
            left = node(left, operand())
        return left

    def negation(self) -> Condition:
        if self.is_keyword("NOT"):
            self.advance()
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Condition:
        if self.is_op("("):
            self.advance()
            inner = self.condition()
            self.expect_op(")")
            return inner
        if self.is_call() and self.tok.text in CONDITION_FUNCTIONS:
            return self.function()
        if self.is_call():
            self.check_function_name(self.tok.text)
        left = self.operand()
        if self.tok.kind == "op" and self.tok.text in _COMPARATORS:
            op = self.advance().text
            return Compare(op, left, self.operand())
        if self.is_keyword("BETWEEN"):
            self.advance()
            low = self.operand()
            if not self.is_keyword("AND"):
                raise self.syntax_error()
            self.advance()
            return Between(left, low, self.operand())
        if self.is_keyword("IN"):
            self.advance()
            self.expect_op("(")
            candidates = [self.operand()]
            while self.is_op(","):
                self.advance()
                candidates.append(self.operand())
            self.expect_op(")")
            if len(candidates) > 100:
                raise ValidationError(
                    f"Invalid {self.label}: The IN operator is provided with too many operands; "
                    f"number of operands: {len(candidates)}"
                )
            return In(left, tuple(candidates))
        raise self.syntax_error()

    def function(self) -> Function:
        name = self.advance().text
        self.expect_op("(")
        args: list[Operand] = [self.operand()]
        while self.is_op(","):
            self.advance()
            args.append(self.operand())
        self.expect_op(")")
        if len(args) != CONDITION_FUNCTIONS[name]:
            raise ValidationError(
                f"Invalid {self.label}: Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        if name in ("attribute_exists", "attribute_not_exists") and not (isinstance(args[0], Path)):
            raise ValidationError(
                f"Invalid {self.label}: Operator or function requires a document path; "
                f"operator or function: {name}"
            )
        return Function(name, tuple(args))

    # ---- update expressions -----------------------------------------------------------

    def update(self) -> UpdateExpression:
        actions: list[UpdateAction] = []
        seen: set[str] = set()
        while self.tok.kind != "eof":
            clause = self.tok.text.upper() if self.tok.kind == "name" else ""
            if clause not in _UPDATE_CLAUSES:
                raise self.syntax_error()
            if clause in seen:
                raise ValidationError(
                    f'Invalid {self.label}: The "{clause}" section can only be used once in an '
                    "update expression;"
                )
            seen.add(clause)
            self.advance()
            actions.append(self.update_action(clause))
            while self.is_op(","):
                self.advance()
                actions.append(self.update_action(clause))
        return UpdateExpression(tuple(actions))

    def update_action(self, clause: str) -> UpdateAction:
        path = self.path()
        if clause == "SET":
            self.expect_op("=")
            return UpdateAction("SET", path, self.set_value())
        if clause == "REMOVE":
            return UpdateAction("REMOVE", path)
        if self.tok.kind != "valueref":
            raise self.syntax_error()
        return UpdateAction(clause, path, self.literal())

    def set_value(self) -> SetValue:
        left = self.set_operand()
        if self.is_op("+") or self.is_op("-"):
            op = self.advance().text
            return Arithmetic(op, left, self.set_operand())
        return left

    def set_operand(self) -> SetValue:
        if self.tok.kind == "valueref":
            return self.literal()
        if self.is_call():
            name = self.advance().text
            self.expect_op("(")
            if name == "if_not_exists":
                path = self.path()
                self.expect_op(",")
                default = self.set_operand()
                self.expect_op(")")
                return IfNotExists(path, default)
            if name == "list_append":
                first = self.set_operand()
                self.expect_op(",")
                second = self.set_operand()
                self.expect_op(")")
                if isinstance(first, ListAppend) or isinstance(second, ListAppend):
                    # Only if_not_exists may be nested (in list_append or itself).
                    raise ValidationError(
                        f"Invalid {self.label}: The function is not allowed to be used this "
                        "way in an expression; function: list_append"
                    )
                return ListAppend(first, second)
            raise ValidationError(f"Invalid {self.label}: Invalid function name; function: {name}")
        return self.path()

    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.is_op(","):
            self.advance()
            paths.append(self.path())
        return paths


def parse_condition(text: object, label: str, subs: Substitutions) -> Condition:
    """Parse a ConditionExpression / FilterExpression / KeyConditionExpression."""
    parser = _Parser(text, label, subs)
    check_tokens(parser.text, label)
    result = parser.condition()
    parser.expect_end()
    check_condition(result, label)
    return result


def parse_update(text: object, subs: Substitutions) -> UpdateExpression:
    parser = _Parser(text, "UpdateExpression", subs)
    result = parser.update()
    parser.expect_end()
    _check_overlaps(result)
    check_static_types(result)
    return result


def parse_projection(text: object, subs: Substitutions) -> list[Path]:
    parser = _Parser(text, "ProjectionExpression", subs)
    result = parser.projection()
    parser.expect_end()
    _check_path_overlaps(result, "ProjectionExpression")
    return result


def _check_overlaps(update: UpdateExpression) -> None:
    _check_path_overlaps([action.path for action in update.actions], "UpdateExpression")


def _check_path_overlaps(paths: list[Path], label: str) -> None:
    """AWS refuses two paths where one is the other or contains it (overlap), or where
    they use one attribute as both a map and a list (conflict: `a.b` and `a[1]`)."""
    for i, first in enumerate(paths):
        for second in paths[i + 1 :]:
            a, b = first.elements, second.elements
            shortest = min(len(a), len(b))
            split = next((k for k in range(shortest) if a[k] != b[k]), shortest)
            if split < shortest and isinstance(a[split], int) != isinstance(b[split], int):
                raise ValidationError(
                    f"Invalid {label}: Two document paths conflict with each other; must remove "
                    f"or rewrite one of these paths; path one: {_render(a)}, path two: "
                    f"{_render(b)}"
                )
            if a[:shortest] == b[:shortest]:
                raise ValidationError(
                    f"Invalid {label}: Two document paths overlap with each other; must remove "
                    f"or rewrite one of these paths; path one: {_render(a)}, path two: "
                    f"{_render(b)}"
                )


def _render(elements: tuple[PathElement, ...]) -> str:
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in elements) + "]"
