"""DynamoDB's expression language: tokenizer → parser (AST) → evaluator / updater.

Data flow: the protocol hands expression strings plus ExpressionAttributeNames/Values
to `parse_*`, which substitute placeholders into an AST; the engine evaluates
conditions with `evaluate`, trims items with `project` and rewrites them with
`apply_update`.
"""

from lambic.services.dynamodb.expressions.evaluator import evaluate, project, resolve
from lambic.services.dynamodb.expressions.parser import (
    Substitutions,
    parse_condition,
    parse_projection,
    parse_update,
)
from lambic.services.dynamodb.expressions.updates import apply_update

__all__ = [
    "Substitutions",
    "apply_update",
    "evaluate",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "project",
    "resolve",
]
