"""Attribute values: number normalisation, order-preserving key encoding, sizes."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.types import (
    encode_key_value,
    encode_number,
    item_size,
    normalize_number,
    validate_value,
    values_equal,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("+7", "7"),
        (".5", "0.5"),
        ("-1.0E-3", "-0.001"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    ],
)
def test_numbers_are_normalised_as_dynamodb_returns_them(text: str, expected: str) -> None:
    assert normalize_number(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        ("Infinity", "The parameter cannot be converted to a numeric value: Infinity"),
        (" 1", "The parameter cannot be converted to a numeric value:  1"),
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        (
            "1e126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
    ],
)
def test_invalid_numbers_raise_awss_messages(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_number(text)
    assert excinfo.value.message == message


def test_trailing_zeros_do_not_count_as_significant_digits() -> None:
    assert normalize_number("1" + "0" * 50) == "1" + "0" * 50


def test_number_encoding_sorts_numerically() -> None:
    rng = random.Random(7)
    values = [Decimal(0), Decimal("1e125"), Decimal("-1e125"), Decimal("1e-130")]
    values += [Decimal(rng.uniform(-1e6, 1e6)).quantize(Decimal("0.0001")) for _ in range(500)]
    values += [Decimal("-1.2"), Decimal("-1.23"), Decimal("1.2"), Decimal("1.23"), Decimal(12)]
    by_bytes = sorted(values, key=encode_number)
    assert by_bytes == sorted(values)


def test_equal_numbers_encode_identically() -> None:
    assert encode_key_value({"N": normalize_number("1.500")}) == encode_key_value({"N": "1.5"})


def test_string_keys_sort_by_utf8_bytes() -> None:
    words = ["a", "B", "é", "z", "ab", "", "\U0001f600"]
    assert sorted(words, key=lambda w: encode_key_value({"S": w})) == sorted(
        words, key=lambda w: w.encode()
    )


def test_sets_compare_without_order_and_numbers_by_value() -> None:
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert values_equal({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]})
    assert not values_equal({"N": "1"}, {"S": "1"})


def test_validate_value_rejects_two_types_and_empty_sets() -> None:
    with pytest.raises(ValidationError, match="more than one datatypes"):
        validate_value({"S": "a", "N": "1"})
    with pytest.raises(ValidationError) as excinfo:
        validate_value({"SS": []})
    assert excinfo.value.message == (
        "One or more parameter values were invalid: An string set  may not be empty"
    )
    with pytest.raises(ValidationError, match="Null attribute value types must have"):
        validate_value({"NULL": False})


def test_item_size_follows_documented_rules() -> None:
    assert item_size({"ab": {"S": "xyz"}}) == 5
    assert item_size({"b": {"BOOL": True}}) == 2
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1


def test_documents_nested_past_32_levels_are_rejected() -> None:
    value: dict[str, object] = {"S": "leaf"}
    for _ in range(32):
        value = {"L": [value]}
    validate_value(value)
    with pytest.raises(ValidationError, match="nested levels beyond supported limit"):
        validate_value({"M": {"deeper": value}})
