"""The parsed form of DynamoDB expressions.

Placeholders are already substituted: a `Path` holds real attribute names and list
indexes, a `Literal` holds the attribute value from ExpressionAttributeValues.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambic.services.dynamodb.types import AttributeValue

PathElement = str | int


@dataclass(frozen=True, slots=True)
class Path:
    """A document path: `a.b[2].c` is ("a", "b", 2, "c")."""

    elements: tuple[PathElement, ...]

    def render(self) -> str:
        out = ""
        for element in self.elements:
            if isinstance(element, int):
                out += f"[{element}]"
            else:
                out += ("." if out else "") + element
        return out


@dataclass(frozen=True, slots=True)
class Literal:
    value: AttributeValue
    placeholder: str


@dataclass(frozen=True, slots=True)
class Size:
    path: Path


Operand = Path | Literal | Size


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    candidates: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Function:
    """attribute_exists, attribute_not_exists, attribute_type, begins_with, contains."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Or:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


Condition = Compare | Between | In | Function | And | Or | Not


# ---- update expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IfNotExists:
    path: Path
    default: SetValue


@dataclass(frozen=True, slots=True)
class ListAppend:
    first: SetValue
    second: SetValue


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: str  # + or -
    left: SetValue
    right: SetValue


SetValue = Path | Literal | IfNotExists | ListAppend | Arithmetic


@dataclass(frozen=True, slots=True)
class UpdateAction:
    """One action: kind SET (value), REMOVE (no value), ADD / DELETE (a Literal)."""

    kind: str
    path: Path
    value: SetValue | None = None


@dataclass(frozen=True, slots=True)
class UpdateExpression:
    actions: tuple[UpdateAction, ...]
