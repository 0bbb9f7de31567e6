"""Tags on tables: TagResource, UntagResource, ListTagsOfResource and CreateTable's `Tags`.

A table carries at most 50 tags; keys are 1-128 characters and values 0-256, made of
letters, digits, white space and `_ . : / = + - @` (AWS's documented tag alphabet).
Only a table's ARN takes tags: an index's ARN or anything else is refused the way
DynamoDB refuses it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lambic.services.dynamodb.errors import ResourceNotFoundError, ValidationError

if TYPE_CHECKING:  # the engine imports this module for CreateTable's tags
    from lambic.services.dynamodb.engine import DynamoDBEngine, TableState

MAX_TAGS = 50
_ALLOWED = re.compile(r"[\w\s.:/=+\-@]*")
_TABLE_ARN = re.compile(r"arn:aws[\w-]*:dynamodb:[^:]+:\d+:table/([^/]+)")


def parse_tags(tags: object, field: str = "tags") -> dict[str, str]:
    """`Tags` ([{"Key", "Value"}...]) as a dict, each checked as DynamoDB checks it."""
    if tags is None:
        raise ValidationError(
            f"1 validation error detected: Value null at '{field}' failed to satisfy "
            "constraint: Member must not be null"
        )
    if not isinstance(tags, list):
        raise ValidationError(f"Invalid {field}: a list of tags is required")
    parsed: dict[str, str] = {}
    for position, tag in enumerate(tags, start=1):
        where = f"{field}.{position}.member"
        if not isinstance(tag, dict):
            raise ValidationError(f"Invalid tag at '{where}': a Key and a Value are required")
        key, value = tag.get("Key"), tag.get("Value")
        for name, text, longest, shortest in (("key", key, 128, 1), ("value", value, 256, 0)):
            _check_text(text, f"{where}.{name}", longest, shortest)
        parsed[str(key)] = str(value)
    return parsed


def _check_text(text: object, where: str, longest: int, shortest: int) -> None:
    if text is None:
        raise ValidationError(
            f"1 validation error detected: Value null at '{where}' failed to satisfy "
            "constraint: Member must not be null"
        )
    if not isinstance(text, str) or len(text) > longest or len(text) < shortest:
        bound = (
            f"less than or equal to {longest}"
            if isinstance(text, str) and len(text) > longest
            else f"greater than or equal to {shortest}"
        )
        raise ValidationError(
            f"1 validation error detected: Value '{text}' at '{where}' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    if not _ALLOWED.fullmatch(text):
        raise ValidationError(
            f"1 validation error detected: Value '{text}' at '{where}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
        )


def check_count(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise ValidationError(
            f"One or more parameter values were invalid: Too many tags attached to the "
            f"resource. Maximum allowed: {MAX_TAGS}"
        )


def _table_by_arn(engine: DynamoDBEngine, arn: object) -> TableState:
    if not isinstance(arn, str) or not arn:
        raise ValidationError("Invalid TableArn")
    if not arn.startswith("arn:"):
        raise ValidationError(f"Invalid TableArn: ARNs must start with 'arn:': {arn}")
    match = _TABLE_ARN.fullmatch(arn)
    if match is None:
        raise ValidationError(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    state = engine.find_table(match.group(1))
    if state is None:
        raise ResourceNotFoundError(f"Requested resource not found: ResourcArn: {arn} not found")
    return state


def tag_resource(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    with engine.lock:
        state = _table_by_arn(engine, request.get("ResourceArn"))
        added = parse_tags(request.get("Tags"))
        if not added:
            raise ValidationError("Atleast one Tag needs to be provided as Input.")
        tags = {**state.definition.tags, **added}
        check_count(tags)
        state.definition.tags = tags
        with engine.store.transaction():
            engine.store.save_table(state.definition)
    return {}


def untag_resource(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    with engine.lock:
        state = _table_by_arn(engine, request.get("ResourceArn"))
        keys = request.get("TagKeys")
        if not isinstance(keys, list):
            raise ValidationError(
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                "constraint: Member must not be null"
            )
        if not keys:
            raise ValidationError("Atleast one Tag Key needs to be provided as Input.")
        for key in keys:
            state.definition.tags.pop(str(key), None)
        with engine.store.transaction():
            engine.store.save_table(state.definition)
    return {}


def list_tags_of_resource(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    with engine.lock:
        state = _table_by_arn(engine, request.get("ResourceArn"))
        tags = [{"Key": k, "Value": v} for k, v in sorted(state.definition.tags.items())]
    return {"Tags": tags}
