"""Splitting a DynamoDB expression into tokens.

Token kinds: "name" (bare attribute name or keyword), "nameref" (`#n`), "valueref"
(`:v`), "index" (the digits inside `[3]`), "op" (punctuation and comparators), "eof".
Each token keeps its offset so syntax errors can quote the text near it as AWS does.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lambic.services.dynamodb.errors import ValidationError

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<nameref>\#[A-Za-z0-9_]+)
  | (?P<valueref>:[A-Za-z0-9_]+)
  | (?P<index>\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|<=|>=|!=?|[=<>()\[\],.+\-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    offset: int


@functools.lru_cache(maxsize=2048)
def tokenize(expression: str, label: str) -> tuple[Token, ...]:
    """Tokens of `expression`; an unknown character is AWS's "Invalid character" error.

    Cached: applications send the same few expressions over and over.
    """
    tokens: list[Token] = []
    position = 0
    length = len(expression)
    while position < length:
        match = _TOKEN.match(expression, position)
        if match is None:
            char = expression[position]
            raise ValidationError(
                f"Invalid {label}: Invalid character encountered; character: {char}, "
                f'near: "{expression[max(0, position - 1) : position + 2]}"'
            )
        kind = match.lastgroup or "ws"
        if kind == "name" and match.group().startswith("_"):
            # A bare name starts with a letter (`_a` needs a #placeholder).
            start = tokens[-1].offset if tokens else position
            raise ValidationError(
                f'Invalid {label}: Syntax error; token: "{match.group()}", near: '
                f'"{expression[start : match.end()]}"'
            )
        if kind != "ws":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("eof", "<EOF>", length))
    return tuple(tokens)
