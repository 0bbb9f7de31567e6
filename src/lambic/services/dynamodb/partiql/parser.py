"""DynamoDB's PartiQL subset, parsed into statements the engine already knows how to run.

Statements (what DynamoDB accepts):

    SELECT * | path, ... FROM "table"[."index"] [WHERE condition]
    INSERT INTO "table" VALUE {'pk': 'a', 'n': 1}
    UPDATE "table" SET path = value [, ...] [SET ...] [REMOVE path, ...] WHERE condition
        [RETURNING ALL|MODIFIED OLD|NEW *]
    DELETE FROM "table" WHERE condition [RETURNING ALL OLD *]

Values are PartiQL literals ('text', 12.5, true, null, [list], {'map': 1}, <<'set'>>)
or `?` parameters. A WHERE condition is rendered as a DynamoDB condition expression
(paths become `#n` names, values `:v` placeholders), so it is checked and evaluated by
the same code as ConditionExpression and FilterExpression; its top-level AND terms stay
separate so the executor can pick out the key equalities.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.types import AttributeValue, normalize_number, validate_value

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><<|>>|<=|>=|<>|!=|[=<>()\[\]{},.:?*+\-])
    """,
    re.VERBOSE,
)
_COMPARATORS = frozenset({"=", "<>", "!=", "<", "<=", ">", ">="})
_CONDITION_FUNCTIONS = {
    "begins_with": 2,
    "contains": 2,
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
}

Path = tuple[str | int, ...]


def malformed(detail: str) -> ValidationError:
    return ValidationError(f"Statement wasn't well formed, can't be processed: {detail}")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass
class Placeholders:
    """ExpressionAttributeNames / Values collected while rendering a statement."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)

    def name(self, text: str) -> str:
        for key, known in self.names.items():
            if known == text:
                return key
        key = f"#n{len(self.names)}"
        self.names[key] = text
        return key

    def value(self, value: AttributeValue) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = value
        return key

    def path(self, path: Path) -> str:
        out = self.name(str(path[0]))
        for element in path[1:]:
            out += f"[{element}]" if isinstance(element, int) else "." + self.name(element)
        return out


@dataclass(frozen=True)
class Term:
    """One top-level AND term of a WHERE clause: its expression text and, for a simple
    `path op value` comparison, its parts (so key equalities can be recognised)."""

    text: str
    heads: frozenset[str]
    op: str | None = None
    path: Path | None = None
    value: AttributeValue | None = None


@dataclass
class Statement:
    kind: str  # SELECT | INSERT | UPDATE | DELETE
    table: str
    index: str | None = None
    projection: list[Path] | None = None  # None: *
    where: list[Term] = field(default_factory=list)
    item: AttributeValue | None = None  # INSERT's VALUE
    sets: list[tuple[Path, str]] = field(default_factory=list)  # UPDATE SET path = expr
    removes: list[Path] = field(default_factory=list)
    returning: str | None = None  # ALL_NEW, UPDATED_OLD...
    placeholders: Placeholders = field(default_factory=Placeholders)


def parse(text: object, parameters: object) -> Statement:
    """One PartiQL statement with its `?` parameters bound."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(
            "1 validation error detected: Value null at 'statement' failed to satisfy "
            "constraint: Member must not be null"
        )
    if parameters is not None and not isinstance(parameters, list):
        raise malformed("Parameters must be a list")
    return _Parser(text, [validate_value(p) for p in parameters or []]).statement()


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise malformed(f"Unexpected character: {text[position]}")
        if match.lastgroup != "ws":
            tokens.append(Token(match.lastgroup or "", match.group()))
        position = match.end()
    tokens.append(Token("eof", ""))
    return tokens


class _Parser:
    def __init__(self, text: str, parameters: list[AttributeValue]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.parameters = parameters
        self.used_parameters = 0
        self.out = Placeholders()

    # ---- tokens -------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.upper() in words

    def is_op(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def expect_word(self, word: str) -> None:
        if not self.is_word(word):
            raise malformed(f"Expected {word}, found: {self.tok.text or 'end of statement'}")
        self.advance()

    def expect_op(self, text: str) -> None:
        if not self.is_op(text):
            raise malformed(f"Expected {text}, found: {self.tok.text or 'end of statement'}")
        self.advance()

    # ---- statements ---------------------------------------------------------------------

    def statement(self) -> Statement:
        if self.is_word("SELECT"):
            result = self.select()
        elif self.is_word("INSERT"):
            result = self.insert()
        elif self.is_word("UPDATE"):
            result = self.update()
        elif self.is_word("DELETE"):
            result = self.delete()
        else:
            raise malformed(f"Unsupported statement: {self.tok.text}")
        if self.tok.kind != "eof":
            raise malformed(f"Unexpected token: {self.tok.text}")
        if self.used_parameters != len(self.parameters):
            raise ValidationError("Number of parameters in request and statement don't match.")
        result.placeholders = self.out
        return result

    def identifier(self) -> str:
        token = self.advance()
        if token.kind == "quoted":
            return token.text[1:-1].replace('""', '"')
        if token.kind == "word":
            return token.text
        raise malformed(f"Expected an identifier, found: {token.text or 'end of statement'}")

    def select(self) -> Statement:
        self.advance()
        projection: list[Path] | None
        if self.is_op("*"):
            self.advance()
            projection = None
        else:
            projection = [self.path()]
            while self.is_op(","):
                self.advance()
                projection.append(self.path())
        self.expect_word("FROM")
        table = self.identifier()
        index = None
        if self.is_op("."):
            self.advance()
            index = self.identifier()
        statement = Statement("SELECT", table, index, projection)
        if self.is_word("WHERE"):
            self.advance()
            statement.where = self.where()
        return statement

    def insert(self) -> Statement:
        self.advance()
        self.expect_word("INTO")
        table = self.identifier()
        self.expect_word("VALUE")
        item = self.value()
        if "M" not in item:
            raise malformed("INSERT's VALUE must be a map (tuple)")
        return Statement("INSERT", table, item=item)

    def update(self) -> Statement:
        self.advance()
        statement = Statement("UPDATE", self.identifier())
        while self.is_word("SET", "REMOVE"):
            clause = self.advance().text.upper()
            while True:
                path = self.path()
                if clause == "SET":
                    self.expect_op("=")
                    statement.sets.append((path, self.set_value()))
                else:
                    statement.removes.append(path)
                if not self.is_op(","):
                    break
                self.advance()
        if not statement.sets and not statement.removes:
            raise malformed("UPDATE needs a SET or REMOVE clause")
        self.expect_word("WHERE")
        statement.where = self.where()
        statement.returning = self.returning()
        return statement

    def delete(self) -> Statement:
        self.advance()
        self.expect_word("FROM")
        statement = Statement("DELETE", self.identifier())
        self.expect_word("WHERE")
        statement.where = self.where()
        statement.returning = self.returning()
        return statement

    def returning(self) -> str | None:
        if not self.is_word("RETURNING"):
            return None
        self.advance()
        scope = self.advance().text.upper()
        age = self.advance().text.upper()
        self.expect_op("*")
        if scope not in ("ALL", "MODIFIED") or age not in ("OLD", "NEW"):
            raise malformed(
                "RETURNING takes ALL OLD *, ALL NEW *, MODIFIED OLD * or MODIFIED NEW *"
            )
        return f"{'ALL' if scope == 'ALL' else 'UPDATED'}_{age}"

    # ---- paths, values --------------------------------------------------------------------

    def path(self) -> Path:
        elements: list[str | int] = [self.identifier()]
        while True:
            if self.is_op("."):
                self.advance()
                elements.append(self.identifier())
            elif self.is_op("["):
                self.advance()
                token = self.advance()
                if token.kind != "number" or not token.text.isdigit():
                    raise malformed(f"Expected a list index, found: {token.text}")
                elements.append(int(token.text))
                self.expect_op("]")
            else:
                return tuple(elements)

    def value(self) -> AttributeValue:
        token = self.advance()
        if token.kind == "string":
            return {"S": token.text[1:-1].replace("''", "'")}
        if token.kind == "number":
            return {"N": normalize_number(token.text)}
        if token.kind == "op" and token.text == "?":
            if self.used_parameters >= len(self.parameters):
                raise ValidationError("Number of parameters in request and statement don't match.")
            self.used_parameters += 1
            return self.parameters[self.used_parameters - 1]
        if token.kind == "word" and token.text.upper() in ("TRUE", "FALSE"):
            return {"BOOL": token.text.upper() == "TRUE"}
        if token.kind == "word" and token.text.upper() == "NULL":
            return {"NULL": True}
        if token.kind == "op" and token.text == "[":
            return {"L": self.sequence("]")}
        if token.kind == "op" and token.text == "<<":
            return _set(self.sequence(">>"))
        if token.kind == "op" and token.text == "{":
            members: dict[str, AttributeValue] = {}
            while not self.is_op("}"):
                key = self.value()
                if "S" not in key:
                    raise malformed("A map key must be a string")
                self.expect_op(":")
                members[key["S"]] = self.value()
                if not self.is_op(","):
                    break
                self.advance()
            self.expect_op("}")
            return {"M": members}
        raise malformed(f"Expected a value, found: {token.text or 'end of statement'}")

    def sequence(self, closing: str) -> list[AttributeValue]:
        items: list[AttributeValue] = []
        while not self.is_op(closing):
            items.append(self.value())
            if not self.is_op(","):
                break
            self.advance()
        self.expect_op(closing)
        return items

    def is_value_start(self) -> bool:
        token = self.tok
        return (
            token.kind in ("string", "number")
            or (token.kind == "op" and token.text in ("?", "[", "<<", "{"))
            or (token.kind == "word" and token.text.upper() in ("TRUE", "FALSE", "NULL"))
        )

    def set_value(self) -> str:
        """The right side of SET, rendered as UpdateExpression text."""
        left = self.set_operand()
        if self.is_op("+") or self.is_op("-"):
            op = self.advance().text
            return f"{left} {op} {self.set_operand()}"
        return left

    def set_operand(self) -> str:
        if self.is_value_start():
            return self.out.value(self.value())
        if self.tok.kind == "word" and self.tokens[self.pos + 1].text == "(":
            name = self.advance().text.lower()
            if name not in ("list_append", "if_not_exists"):
                raise malformed(f"Unsupported function in SET: {name}")
            self.expect_op("(")
            first = self.set_operand()
            self.expect_op(",")
            second = self.set_operand()
            self.expect_op(")")
            return f"{name}({first}, {second})"
        return self.out.path(self.path())

    # ---- WHERE ----------------------------------------------------------------------------

    def where(self) -> list[Term]:
        """A condition as its top-level AND terms (one term when ORs join it)."""
        disjuncts = [self.conjunction()]
        while self.is_word("OR"):
            self.advance()
            disjuncts.append(self.conjunction())
        if len(disjuncts) == 1:
            return disjuncts[0]
        text = " OR ".join(_joined(terms) for terms in disjuncts)
        return [Term(text, frozenset().union(*(t.heads for d in disjuncts for t in d)))]

    def conjunction(self) -> list[Term]:
        terms = [self.term()]
        while self.is_word("AND"):
            self.advance()
            terms.append(self.term())
        return terms

    def term(self) -> Term:
        if self.is_word("NOT"):
            self.advance()
            inner = self.term()
            return Term(f"NOT {_group(inner.text)}", inner.heads)
        if self.is_op("("):
            self.advance()
            terms = self.where()
            self.expect_op(")")
            return Term(_joined(terms), frozenset().union(*(t.heads for t in terms)))
        word = self.tok.text.lower() if self.tok.kind == "word" else ""
        if word in _CONDITION_FUNCTIONS and self.tokens[self.pos + 1].text == "(":
            self.advance()
            self.expect_op("(")
            args = [self.operand()]
            while self.is_op(","):
                self.advance()
                args.append(self.operand())
            self.expect_op(")")
            return Term(f"{word}({', '.join(a.text for a in args)})", _heads(args))
        left = self.operand()
        if self.is_word("IS"):
            self.advance()
            negated = self.is_word("NOT")
            if negated:
                self.advance()
            self.expect_word("MISSING")
            function = "attribute_exists" if negated else "attribute_not_exists"
            return Term(f"{function}({left.text})", _heads([left]))
        if self.tok.kind == "op" and self.tok.text in _COMPARATORS:
            op = self.advance().text
            op = "<>" if op == "!=" else op
            right = self.operand()
            text = f"{left.text} {op} {right.text}"
            if left.plain and right.literal is not None:
                return Term(text, _heads([left]), op, left.path, right.literal)
            if right.plain and left.literal is not None:
                return Term(text, _heads([right]), _flip(op), right.path, left.literal)
            return Term(text, _heads([left, right]))
        if self.is_word("BETWEEN"):
            self.advance()
            low = self.operand()
            self.expect_word("AND")
            high = self.operand()
            text = f"{left.text} BETWEEN {low.text} AND {high.text}"
            return Term(text, _heads([left, low, high]))
        if self.is_word("IN"):
            self.advance()
            closing = "]" if self.is_op("[") else ")"
            self.advance()
            candidates = [self.operand()]
            while self.is_op(","):
                self.advance()
                candidates.append(self.operand())
            self.expect_op(closing)
            text = f"{left.text} IN ({', '.join(c.text for c in candidates)})"
            return Term(text, _heads([left, *candidates]))
        raise malformed(f"Unexpected token: {self.tok.text or 'end of statement'}")

    def operand(self) -> Operand:
        if self.is_value_start():
            value = self.value()
            return Operand(self.out.value(value), None, False, value)
        if self.is_word("SIZE") and self.tokens[self.pos + 1].text == "(":
            self.advance()
            self.expect_op("(")
            path = self.path()
            self.expect_op(")")
            return Operand(f"size({self.out.path(path)})", path, False)
        path = self.path()
        return Operand(self.out.path(path), path, True)


@dataclass(frozen=True)
class Operand:
    text: str
    path: Path | None  # the path read, if any
    plain: bool  # a bare path (not size(...))
    literal: AttributeValue | None = None


def _joined(terms: list[Term]) -> str:
    return _group(" AND ".join(t.text for t in terms))


def _group(text: str) -> str:
    """`text` in parentheses, unless it already is one group (DynamoDB refuses `((a))`)."""
    depth = 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and position < len(text) - 1:
            break
    else:
        if text.startswith("(") and text.endswith(")"):
            return text
    return f"({text})"


def _flip(op: str) -> str:
    return {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)


def _heads(operands: list[Operand]) -> frozenset[str]:
    return frozenset(str(o.path[0]) for o in operands if o.path is not None)


def _set(members: list[AttributeValue]) -> AttributeValue:
    kinds = {next(iter(m)) for m in members}
    if len(kinds) != 1 or not kinds <= {"S", "N", "B"}:
        raise malformed("A set's members must all be strings, numbers or binaries")
    kind = kinds.pop()
    tag = kind + "S"
    if kind == "B":
        return {tag: [base64.b64encode(base64.b64decode(m["B"])).decode() for m in members]}
    return {tag: [m[kind] for m in members]}
