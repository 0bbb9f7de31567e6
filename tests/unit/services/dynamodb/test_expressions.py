"""Expression parsing, precedence, evaluation, updates and projection."""

from __future__ import annotations

from typing import Any

import pytest

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions import (
    Substitutions,
    apply_update,
    evaluate,
    parse_condition,
    parse_projection,
    parse_update,
    project,
)
from lambic.services.dynamodb.expressions.ast import And, Not, Or

ITEM: dict[str, Any] = {
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "l": {"L": [{"N": "1"}, {"M": {"x": {"S": "deep"}}}]},
    "ss": {"SS": ["a", "b"]},
    "b": {"B": "AAEC"},
}


def _subs(**values: Any) -> Substitutions:
    return Substitutions(None, {f":{k}": v for k, v in values.items()} or None)


def _holds(expression: str, **values: Any) -> bool:
    return evaluate(parse_condition(expression, "ConditionExpression", _subs(**values)), ITEM)


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    tree = parse_condition("a = :v OR b = :v AND NOT c = :v", "C", _subs(v={"N": "1"}))
    assert isinstance(tree, Or)
    assert isinstance(tree.right, And)
    assert isinstance(tree.right.right, Not)


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("n = :v", {"v": {"N": "5.0"}}, True),
        ("n <> :v", {"v": {"N": "5"}}, False),
        ("absent <> :v", {"v": {"N": "5"}}, True),
        ("absent = :v", {"v": {"N": "5"}}, False),
        ("n < :v", {"v": {"S": "9"}}, False),
        ("s > :v", {"v": {"S": "hell"}}, True),
        ("n BETWEEN :a AND :b", {"a": {"N": "1"}, "b": {"N": "5"}}, True),
        ("n IN (:a, :b)", {"a": {"N": "1"}, "b": {"N": "5"}}, True),
        ("l[1].x = :v", {"v": {"S": "deep"}}, True),
        ("size(l) = :v", {"v": {"N": "2"}}, True),
        ("size(s) > :v", {"v": {"N": "4"}}, True),
        ("contains(ss, :v)", {"v": {"S": "a"}}, True),
        ("contains(s, :v)", {"v": {"S": "ell"}}, True),
        ("contains(l, :v)", {"v": {"N": "1"}}, True),
        ("begins_with(s, :v)", {"v": {"S": "he"}}, True),
        ("attribute_type(ss, :v)", {"v": {"S": "SS"}}, True),
        ("attribute_exists(l[1].x) AND attribute_not_exists(l[5])", {}, True),
        ("NOT (n = :a OR n = :b)", {"a": {"N": "1"}, "b": {"N": "2"}}, True),
    ],
)
def test_condition_semantics(expression: str, values: dict[str, Any], expected: bool) -> None:
    assert _holds(expression, **values) is expected


def test_placeholders_are_substituted_and_tracked() -> None:
    subs = Substitutions({"#s": "s", "#u": "unused"}, {":v": {"S": "hello"}})
    assert evaluate(parse_condition("#s = :v", "ConditionExpression", subs), ITEM)
    with pytest.raises(ValidationError) as excinfo:
        subs.check_all_used()
    assert excinfo.value.message == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}"
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "name = :v",
            "Invalid ConditionExpression: Attribute name is a reserved keyword; "
            "reserved keyword: name",
        ),
        (
            "#x = :v",
            "Invalid ConditionExpression: An expression attribute name used in the "
            "document path is not defined; attribute name: #x",
        ),
        (
            "a = :zz",
            "Invalid ConditionExpression: An expression attribute value used in "
            "expression is not defined; attribute value: :zz",
        ),
        ("a = ", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "= "'),
        ("foo(a)", "Invalid ConditionExpression: Invalid function name; function: foo"),
        ("", "Invalid ConditionExpression: The expression can not be empty;"),
    ],
)
def test_condition_errors_use_awss_words(expression: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_condition(expression, "ConditionExpression", _subs(v={"N": "1"}))
    assert excinfo.value.message == message


def test_update_evaluates_operands_against_the_old_item() -> None:
    update = parse_update("SET a = b, b = a", Substitutions(None, None))
    result = apply_update(update, {"a": {"N": "1"}, "b": {"N": "2"}})
    assert result == {"a": {"N": "2"}, "b": {"N": "1"}}


def test_update_arithmetic_keeps_38_digits() -> None:
    update = parse_update("SET n = n + :v", _subs(v={"N": "0.0000000000000000000000000000001"}))
    result = apply_update(update, {"n": {"N": "1"}})
    assert result["n"] == {"N": "1.0000000000000000000000000000001"}


def test_update_sets_nested_paths_and_appends_past_list_end() -> None:
    update = parse_update("SET m.k = :v, l[9] = :v", _subs(v={"S": "x"}))
    result = apply_update(update, {"m": {"M": {}}, "l": {"L": []}})
    assert result == {"m": {"M": {"k": {"S": "x"}}}, "l": {"L": [{"S": "x"}]}}


def test_update_into_missing_parent_is_invalid() -> None:
    update = parse_update("SET m.k = :v", _subs(v={"S": "x"}))
    with pytest.raises(ValidationError) as excinfo:
        apply_update(update, {})
    assert excinfo.value.message == (
        "The document path provided in the update expression is invalid for update"
    )


def test_delete_emptying_a_set_removes_the_attribute() -> None:
    update = parse_update("DELETE ss :v", _subs(v={"SS": ["a", "b"]}))
    assert apply_update(update, {"ss": {"SS": ["a", "b"]}}) == {}


def test_update_clause_twice_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_update("SET a = :v SET b = :v", _subs(v={"N": "1"}))
    assert excinfo.value.message == (
        'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'
    )


def test_projection_of_nested_paths_and_list_elements() -> None:
    paths = parse_projection("l[1].x, s, nope", Substitutions(None, None))
    assert project(ITEM, paths) == {
        "l": {"L": [{"M": {"x": {"S": "deep"}}}]},
        "s": {"S": "hello"},
    }


def test_expressions_over_4_kb_are_rejected() -> None:
    text = " OR ".join(["a = :v"] * 700)
    with pytest.raises(ValidationError, match="Expression size has exceeded the maximum"):
        parse_condition(text, "ConditionExpression", _subs(v={"N": "1"}))
