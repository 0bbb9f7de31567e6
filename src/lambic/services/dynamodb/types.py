"""DynamoDB attribute values: validation, number normalisation, ordering, sizes, key encoding.

Items travel and are stored in DynamoDB's own JSON shape (`{"S": "x"}`, `{"N": "1.5"}`,
`{"M": {...}}`), so a stored item is rendered back without conversion. Numbers are
normalised on the way in exactly as DynamoDB does (38 significant digits, no exponent,
no trailing zeros: "1.50" → "1.5", "1e2" → "100", "-0" → "0").

Key attributes are also encoded as bytes whose `memcmp` order is DynamoDB's order
(numbers numerically, strings and binaries by their UTF-8/raw bytes), so SQLite's
B-tree on those bytes gives range-key order and `Query ... Limit 1` is an index seek.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Context, Decimal
from typing import Any

from lambic.services.dynamodb.errors import SerializationError, ValidationError

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

# DynamoDB keeps 38 significant digits; magnitudes from 1E-130 to 9.99...E+125.
NUMBER_CONTEXT = Context(prec=38)
# Sums and differences of two valid numbers (at most 38 digits within 1e-130..1e126)
# fit in 300 digits exactly, so overflow is judged on the true result.
EXACT_CONTEXT = Context(prec=300)
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_MAX_EXPONENT = 125
_MIN_EXPONENT = -130
MAX_ITEM_BYTES = 400 * 1024
# DynamoDB allows documents nested 32 levels deep.
MAX_NESTING = 32

SCALAR_TYPES = frozenset({"S", "N", "B"})
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
ALL_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_SET_NAMES = {"SS": "string", "NS": "number", "BS": "binary"}


def parse_number(text: object) -> Decimal:
    """DynamoDB's number from its wire text, or AWS's ValidationException."""
    if not isinstance(text, str):
        raise _wrong_json_type(text)
    if not _NUMBER_TEXT.fullmatch(text):
        raise ValidationError(f"The parameter cannot be converted to a numeric value: {text}")
    value = Decimal(text)
    if value.is_zero():
        return Decimal(0)
    adjusted = value.adjusted()
    # The range check comes first: normalising 1e100000000 would overflow Decimal.
    if adjusted <= _MAX_EXPONENT and adjusted >= _MIN_EXPONENT:
        digits = value.normalize(Context(prec=100)).as_tuple().digits
        if len(digits) > 38:
            raise ValidationError("Attempting to store more than 38 significant digits in a Number")
    if adjusted > _MAX_EXPONENT:
        raise ValidationError(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if adjusted < _MIN_EXPONENT:
        raise ValidationError(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return value


def _wrong_json_type(value: object) -> SerializationError:
    """What AWS's JSON deserializer says when a string member holds another JSON type."""
    if isinstance(value, bool):
        kind = "TRUE_VALUE" if value else "FALSE_VALUE"
    elif isinstance(value, int | float):
        kind = "NUMBER_VALUE"
    elif isinstance(value, dict):
        return SerializationError("Start of structure or map found where not expected.")
    elif isinstance(value, list):
        return SerializationError("Start of list found where not expected")
    else:
        kind = "VALUE_NULL"
    return SerializationError(f"{kind} cannot be converted to String")


def format_number(value: Decimal) -> str:
    """The canonical text DynamoDB returns for a number."""
    if value.is_zero():
        return "0"
    return format(value.normalize(NUMBER_CONTEXT), "f")


def normalize_number(text: object) -> str:
    return format_number(parse_number(text))


def number_result(value: Decimal) -> str:
    """An arithmetic result (`SET a = a + :v`, `ADD`), computed exactly with
    `EXACT_CONTEXT`: DynamoDB refuses one it cannot hold in 38 digits rather than
    rounding it."""
    if value.is_zero():
        return "0"
    digits = value.normalize(EXACT_CONTEXT).as_tuple().digits
    if len(digits) > 38 or value.adjusted() > _MAX_EXPONENT:
        raise ValidationError(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if value.adjusted() < _MIN_EXPONENT:
        raise ValidationError(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return format_number(value)


def decode_binary(text: object) -> bytes:
    if not isinstance(text, str):
        raise _wrong_json_type(text)
    # A malformed base64 string fails to deserialize, as in AWS's JSON parser.
    if len(text) % 4:
        raise SerializationError(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(text)}"
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SerializationError("Invalid Base64 character in a binary value") from exc


def value_type(value: AttributeValue) -> str:
    """The single type tag of a validated attribute value ("S", "N", "M"...)."""
    return next(iter(value))


def validate_value(value: object, depth: int = 0) -> AttributeValue:
    """Check one attribute value as DynamoDB does and return it normalised."""
    if depth > MAX_NESTING:
        raise ValidationError(
            "Nesting Levels have exceeded supported limits: "
            "Attributes in the item have nested levels beyond supported limit"
        )
    if not isinstance(value, dict) or not value:
        raise ValidationError(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise ValidationError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"
        )
    tag, inner = next(iter(value.items()))
    if tag == "S":
        if not isinstance(inner, str):
            raise _wrong_json_type(inner)
        return value
    if tag == "N":
        return {"N": normalize_number(inner)}
    if tag == "B":
        decode_binary(inner)
        return value
    if tag == "BOOL":
        if not isinstance(inner, bool):
            raise ValidationError("Invalid boolean value")
        return value
    if tag == "NULL":
        if inner is not True:
            raise ValidationError(
                "One or more parameter values were invalid: Null attribute value types must "
                "have the value of true"
            )
        return value
    if tag in SET_TYPES:
        return {tag: _validate_set(tag, inner)}
    if tag == "L":
        if not isinstance(inner, list):
            raise ValidationError("Invalid list value")
        return {"L": [validate_value(v, depth + 1) for v in inner]}
    if tag == "M":
        if not isinstance(inner, dict):
            raise ValidationError("Invalid map value")
        return {"M": {str(k): validate_value(v, depth + 1) for k, v in inner.items()}}
    raise ValidationError(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


def _validate_set(tag: str, members: object) -> list[str]:
    if not isinstance(members, list):
        raise ValidationError(f"Invalid {_SET_NAMES[tag]} set value")
    if not members:
        # AWS's text, double space included.
        raise ValidationError(
            f"One or more parameter values were invalid: An {_SET_NAMES[tag]} set  may not be empty"
        )
    if tag == "NS":
        normalized = [normalize_number(m) for m in members]
    else:
        for member in members:
            if not isinstance(member, str):
                raise ValidationError(f"Invalid {_SET_NAMES[tag]} set value")
            if tag == "BS":
                decode_binary(member)
        normalized = list(members)
    if len(set(normalized)) != len(normalized):
        raise ValidationError(
            "One or more parameter values were invalid: Input collection "
            f"[{', '.join(str(m) for m in members)}] contains duplicates."
        )
    return normalized


def validate_item(item: object) -> Item:
    """Validate and normalise every attribute of an item."""
    if not isinstance(item, dict):
        raise ValidationError("Item must be a map of attribute names to values")
    result: Item = {}
    for name, value in item.items():
        if name == "":
            raise ValidationError(
                "One or more parameter values were invalid: An AttributeValue may not contain "
                "an empty attribute name"
            )
        result[name] = validate_value(value)
    return result


# ---- comparison ---------------------------------------------------------------------


def values_equal(left: AttributeValue, right: AttributeValue) -> bool:
    """DynamoDB's `=`: same type and same value; sets compare as sets."""
    ltype, rtype = value_type(left), value_type(right)
    if ltype != rtype:
        return False
    lval, rval = left[ltype], right[rtype]
    if ltype == "N":
        return bool(Decimal(lval) == Decimal(rval))
    if ltype == "B":
        return decode_binary(lval) == decode_binary(rval)
    if ltype == "NS":
        return {Decimal(v) for v in lval} == {Decimal(v) for v in rval}
    if ltype == "BS":
        return {decode_binary(v) for v in lval} == {decode_binary(v) for v in rval}
    if ltype == "SS":
        return set(lval) == set(rval)
    if ltype == "L":
        return len(lval) == len(rval) and all(
            values_equal(a, b) for a, b in zip(lval, rval, strict=True)
        )
    if ltype == "M":
        return lval.keys() == rval.keys() and all(values_equal(lval[k], rval[k]) for k in lval)
    return bool(lval == rval)


def ordering_key(value: AttributeValue) -> tuple[str, Any] | None:
    """A Python-comparable key for `<`, `>`, BETWEEN; None for types that do not order."""
    tag = value_type(value)
    if tag == "N":
        return ("N", Decimal(value["N"]))
    if tag == "S":
        # UTF-8 byte order equals code point order, which is Python's str order.
        return ("S", value["S"])
    if tag == "B":
        return ("B", decode_binary(value["B"]))
    return None


# ---- sizes --------------------------------------------------------------------------


def value_size(value: AttributeValue) -> int:
    """Bytes a value counts for in DynamoDB's item size (documented sizing rules)."""
    tag, inner = next(iter(value.items()))
    if tag == "S":
        return len(inner.encode("utf-8"))
    if tag == "N":
        return _number_size(inner)
    if tag == "B":
        return len(decode_binary(inner))
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(m.encode("utf-8")) for m in inner)
    if tag == "NS":
        return sum(_number_size(m) for m in inner)
    if tag == "BS":
        return sum(len(decode_binary(m)) for m in inner)
    if tag == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    # M
    return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())


def _number_size(text: str) -> int:
    digits = len(text.replace("-", "").replace(".", "").strip("0")) or 1
    return (digits + 1) // 2 + 1


def item_size(item: Item) -> int:
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def check_item_size(item: Item) -> int:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationError("Item size has exceeded the maximum allowed size")
    return size


# ---- key encoding -------------------------------------------------------------------


def encode_key_value(value: AttributeValue) -> bytes:
    """Bytes whose memcmp order is DynamoDB's order for a key value of type S, N or B."""
    tag, inner = next(iter(value.items()))
    if tag == "S":
        return bytes(inner.encode("utf-8"))
    if tag == "B":
        return decode_binary(inner)
    return encode_number(Decimal(inner))


def encode_number(value: Decimal) -> bytes:
    """Order-preserving bytes for a DynamoDB number.

    Layout: a sign byte (negative 0x01 < zero 0x02 < positive 0x03), the decimal exponent
    offset into one byte, then the significant digits as ASCII. For negatives the
    exponent and digits are inverted and a terminator above every digit is appended, so
    that -1.2 sorts after -1.23.
    """
    if value.is_zero():
        return b"\x02"
    sign, digit_tuple, _ = value.normalize(NUMBER_CONTEXT).as_tuple()
    exponent = value.adjusted() - _MIN_EXPONENT  # 0..255
    digits = "".join(map(str, digit_tuple))
    if not sign:
        return b"\x03" + bytes((exponent,)) + digits.encode("ascii")
    inverted = "".join(chr(ord("9") - ord(d) + ord("0")) for d in digits)
    return b"\x01" + bytes((255 - exponent,)) + inverted.encode("ascii") + b"~"
