"""The CBOR codec against RFC 8949: Appendix A's examples and Appendix F's malformed items."""

from __future__ import annotations

import math
from typing import Any

import pytest

from lambic.services._cbor import MAX_DEPTH, CBORDecodeError, Simple, Tagged, dumps, loads

# RFC 8949 Appendix A: (value, encoding) pairs the encoder writes exactly (shortest form,
# definite lengths) and the decoder reads back.
ROUND_TRIP: list[tuple[Any, str]] = [
    (0, "00"),
    (1, "01"),
    (10, "0a"),
    (23, "17"),
    (24, "1818"),
    (25, "1819"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"),
    (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (0.0, "f90000"),
    (-0.0, "f98000"),
    (1.0, "f93c00"),
    (1.1, "fb3ff199999999999a"),
    (1.5, "f93e00"),
    (65504.0, "f97bff"),
    (100000.0, "fa47c35000"),
    (3.4028234663852886e38, "fa7f7fffff"),
    (1.0e300, "fb7e37e43c8800759c"),
    (5.960464477539063e-8, "f90001"),
    (0.00006103515625, "f90400"),
    (-4.0, "f9c400"),
    (-4.1, "fbc010666666666666"),
    (math.inf, "f97c00"),
    (-math.inf, "f9fc00"),
    (False, "f4"),
    (True, "f5"),
    (None, "f6"),
    (Simple(16), "f0"),
    (Simple(255), "f8ff"),
    (Tagged(0, "2013-03-21T20:04:00Z"), "c074323031332d30332d32315432303a30343a30305a"),
    (Tagged(1, 1363896240), "c11a514b67b0"),
    (Tagged(1, 1363896240.5), "c1fb41d452d9ec200000"),
    (Tagged(23, b"\x01\x02\x03\x04"), "d74401020304"),
    (Tagged(24, bytes.fromhex("6449455446")), "d818456449455446"),
    (
        Tagged(32, "http://www.example.com"),
        "d82076687474703a2f2f7777772e6578616d706c652e636f6d",
    ),
    (Tagged(2, bytes.fromhex("010000000000000000")), "c249010000000000000000"),
    (Tagged(3, bytes.fromhex("010000000000000000")), "c349010000000000000000"),
    (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ('"\\', "62225c"),
    ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"),
    ("\U00010151", "64f0908591"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    (
        {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"},
        "a56161614161626142616361436164614461656145",
    ),
]

# Appendix A's other encodings of values already listed: wider floats and indefinite
# lengths, which a decoder must accept.
DECODE_ONLY: list[tuple[Any, str]] = [
    (math.inf, "fa7f800000"),
    (-math.inf, "faff800000"),
    (math.inf, "fb7ff0000000000000"),
    (-math.inf, "fbfff0000000000000"),
    (None, "f7"),  # undefined
    (b"\x01\x02\x03\x04\x05", "5f42010243030405ff"),
    ("streaming", "7f657374726561646d696e67ff"),
    ([], "9fff"),
    ([1, [2, 3], [4, 5]], "9f018202039f0405ffff"),
    ([1, [2, 3], [4, 5]], "9f01820203820405ff"),
    ([1, [2, 3], [4, 5]], "83018202039f0405ff"),
    ([1, [2, 3], [4, 5]], "83019f0203ff820405"),
    (list(range(1, 26)), "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff"),
    ({"a": 1, "b": [2, 3]}, "bf61610161629f0203ffff"),
    (["a", {"b": "c"}], "826161bf61626163ff"),
    ({"Fun": True, "Amt": -2}, "bf6346756ef563416d7421ff"),
]


@pytest.mark.parametrize(("value", "encoded"), ROUND_TRIP, ids=[e for _, e in ROUND_TRIP])
def test_appendix_a_examples_encode_and_decode(value: Any, encoded: str) -> None:
    assert dumps(value).hex() == encoded
    decoded = loads(bytes.fromhex(encoded))
    assert decoded == value
    assert type(decoded) is type(value)
    if isinstance(value, float):  # -0.0 == 0.0: the sign must survive too
        assert math.copysign(1, decoded) == math.copysign(1, value)


@pytest.mark.parametrize(("value", "encoded"), DECODE_ONLY, ids=[e for _, e in DECODE_ONLY])
def test_appendix_a_other_encodings_decode(value: Any, encoded: str) -> None:
    assert loads(bytes.fromhex(encoded)) == value


@pytest.mark.parametrize("encoded", ["f97e00", "fa7fc00000", "fb7ff8000000000000"])
def test_nan_of_every_width_decodes_and_encodes_as_half(encoded: str) -> None:
    assert math.isnan(loads(bytes.fromhex(encoded)))
    assert dumps(math.nan).hex() == "f97e00"


# RFC 8949 Appendix F: not well-formed, each refused as CBORDecodeError.
MALFORMED = [
    "",  # nothing
    "18",  # truncated arguments
    "1901",
    "1a010203",
    "1b01020304050607",
    "38",
    "58",
    "78",
    "98",
    "9a01ff00",
    "b8",
    "d8",
    "f8",
    "f900",
    "fa0000",
    "fb000000",
    "41",  # truncated content
    "61",
    "5affffffff00",
    "5bffffffffffffffff010203",
    "7affffffff00",
    "81",  # truncated arrays and maps
    "818181818181818181",
    "8200",
    "a1",
    "a20102",
    "a100",
    "a2000000",
    "5f4100",  # indefinite without break
    "7f6100",
    "9f",
    "9f0102",
    "bf",
    "bf01020102",
    "819f",
    "9f8000",
    "1c",  # reserved additional information
    "1d",
    "1e",
    "3c",
    "5c",
    "7c",
    "9c",
    "bc",
    "dc",
    "fc",
    "1f",  # indefinite length on a major type that has none
    "3f",
    "df",
    "f800",  # two-byte simple values below 32
    "f81f",
    "5f00ff",  # indefinite-string chunks of another type, or themselves indefinite
    "5f21ff",
    "5f6100ff",
    "5f80ff",
    "5fc000ff",
    "5f5f4100ffff",
    "7f4100ff",
    "7f7f6100ffff",
    "ff",  # break outside an indefinite item
    "81ff",
    "8200ff",
    "a1ff",
    "a1ff00",
    "a100ff",
    "a20000ff",
    "9f81ff",
    "bf00ff",
    "bfff00ff",
    "0000",  # trailing bytes
    "62c328",  # text that is not UTF-8
    "a18000",  # a map key that is an array
]


@pytest.mark.parametrize("encoded", MALFORMED)
def test_not_well_formed_items_are_refused(encoded: str) -> None:
    with pytest.raises(CBORDecodeError):
        loads(bytes.fromhex(encoded))


def test_nesting_beyond_the_limit_is_refused_not_recursed() -> None:
    assert loads(b"\x81" * MAX_DEPTH + b"\x00") is not None
    with pytest.raises(CBORDecodeError, match="Nesting"):
        loads(b"\x81" * 10_000 + b"\x00")


def test_a_huge_declared_length_is_refused_without_allocating() -> None:
    with pytest.raises(CBORDecodeError, match="exceeds"):
        loads(bytes.fromhex("9bffffffffffffffff"))


def test_unencodable_values_are_refused() -> None:
    with pytest.raises(TypeError):
        dumps(object())
    with pytest.raises(ValueError, match="64-bit"):
        dumps(2**64)
