"""Request-field checks shared by the item operations (placeholders, ReturnValues, limits)."""

from __future__ import annotations

from typing import Any

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions import Substitutions, parse_projection
from lambic.services.dynamodb.expressions.ast import Path
from lambic.services.dynamodb.tables import validate_table_name


def substitutions(request: dict[str, Any], *expression_fields: str) -> Substitutions:
    """The request's placeholders, checked the way DynamoDB checks them up front."""
    names = request.get("ExpressionAttributeNames")
    values = request.get("ExpressionAttributeValues")
    uses_expressions = any(request.get(f) is not None for f in expression_fields)
    if names is not None:
        if not uses_expressions:
            raise ValidationError(
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        if not names:
            raise ValidationError("ExpressionAttributeNames must not be empty")
    if values is not None:
        if not uses_expressions:
            raise ValidationError(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
        if not values:
            raise ValidationError("ExpressionAttributeValues must not be empty")
    return Substitutions(names, values)


def return_values(request: dict[str, Any], allowed: tuple[str, ...]) -> str:
    value = request.get("ReturnValues", "NONE")
    if value not in ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"):
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at 'returnValues' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, "
            "NONE, UPDATED_NEW]"
        )
    if value not in allowed:
        raise ValidationError("Return values set to invalid value")
    return str(value)


def return_on_failure(request: dict[str, Any]) -> bool:
    value = request.get("ReturnValuesOnConditionCheckFailure", "NONE")
    if value not in ("NONE", "ALL_OLD"):
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at "
            "'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must "
            "satisfy enum value set: [ALL_OLD, NONE]"
        )
    return bool(value == "ALL_OLD")


def projection(request: dict[str, Any], subs: Substitutions) -> list[Path] | None:
    """ProjectionExpression, or the legacy AttributesToGet, as a list of paths."""
    expression = request.get("ProjectionExpression")
    legacy = request.get("AttributesToGet")
    if expression is not None and legacy is not None:
        raise ValidationError(
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{ProjectionExpression}"
        )
    if expression is not None:
        return parse_projection(expression, subs)
    if legacy is not None:
        if not isinstance(legacy, list) or not legacy:
            raise ValidationError(
                f"1 validation error detected: Value '{legacy}' at 'attributesToGet' failed to "
                "satisfy constraint: Member must have length greater than or equal to 1"
            )
        duplicates = sorted({name for name in legacy if legacy.count(name) > 1})
        if duplicates:
            raise ValidationError(
                "One or more parameter values were invalid: Duplicate value in attribute name: "
                + duplicates[0]
            )
        return [Path((str(name),)) for name in legacy]
    return None


def table_name(request: dict[str, Any]) -> str:
    """The request's TableName, checked against AWS's length and character rules."""
    return validate_table_name(request.get("TableName"))


def list_limit(request: dict[str, Any], constraint: str) -> int:
    """`Limit` of ListTables / ListStreams (1-100, default 100); AWS words `constraint` per call."""
    limit = request.get("Limit", 100)
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ValidationError(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {constraint}"
        )
    return limit
