"""Multi-attribute GSI keys: KeySchema validation, the key encoding's order, stored form."""

from __future__ import annotations

import base64
import json
import random
from decimal import Decimal
from typing import Any

import pytest

from lambic.services.dynamodb._keys import encode_key_values, escape_component, key_component
from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.tables import TableDefinition, parse_create_table
from lambic.services.dynamodb.types import AttributeValue, encode_key_value


def _gsi_request(key_schema: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    names = {"p"} | {name for name, _ in key_schema}
    return {
        "TableName": "matches",
        "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in names],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-many",
                "KeySchema": [{"AttributeName": n, "KeyType": t} for n, t in key_schema],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        **extra,
    }


def test_a_gsi_takes_four_hash_and_four_range_attributes_in_order() -> None:
    schema = [(f"h{i}", "HASH") for i in range(4)] + [(f"r{i}", "RANGE") for i in range(4)]
    table = parse_create_table(_gsi_request(schema))
    index = table.indexes["by-many"]
    assert index.hash_keys == ["h0", "h1", "h2", "h3"]
    assert index.range_keys == ["r0", "r1", "r2", "r3"]
    assert index.multi_attribute
    assert index.key_schema() == [{"AttributeName": n, "KeyType": t} for n, t in schema]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            [(f"h{i}", "HASH") for i in range(5)],
            "Invalid KeySchema: A KeySchema may contain at most 4 HASH KeySchemaElements; found 5",
        ),
        (
            [("h", "HASH")] + [(f"r{i}", "RANGE") for i in range(5)],
            "Invalid KeySchema: A KeySchema may contain at most 4 RANGE KeySchemaElements; found 5",
        ),
        (
            [("a", "HASH"), ("b", "RANGE"), ("c", "HASH")],
            "Invalid KeySchema: All HASH KeySchemaElements must precede all RANGE "
            "KeySchemaElements",
        ),
        (
            [("a", "HASH"), ("b", "HASH"), ("a", "RANGE")],
            "Invalid KeySchema: Two KeySchemaElements have the same name: a",
        ),
        (
            [("r", "RANGE"), ("h", "HASH")],
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
    ],
)
def test_bad_multi_attribute_key_schemas_are_refused(
    schema: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_create_table(_gsi_request(schema))
    assert excinfo.value.message == message


def test_a_local_secondary_index_keeps_one_hash_and_one_range_attribute() -> None:
    request = _gsi_request([("g", "HASH")])
    request["KeySchema"].append({"AttributeName": "s", "KeyType": "RANGE"})
    request["AttributeDefinitions"] += [
        {"AttributeName": "s", "AttributeType": "S"},
        {"AttributeName": "l", "AttributeType": "S"},
    ]
    request["LocalSecondaryIndexes"] = [
        {
            "IndexName": "by-l",
            "KeySchema": [
                {"AttributeName": "p", "KeyType": "HASH"},
                {"AttributeName": "l", "KeyType": "HASH"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    with pytest.raises(ValidationError) as excinfo:
        parse_create_table(request)
    assert excinfo.value.message == (
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
    )


def test_index_definitions_stored_before_multi_attribute_keys_still_load() -> None:
    table = parse_create_table(_gsi_request([("g", "HASH"), ("s", "RANGE")]))
    stored = table.to_json()
    stored["indexes"] = [
        {
            "name": "by-many",
            "kind": "GSI",
            "hash_key": "g",
            "range_key": "s",
            "projection": {"ProjectionType": "ALL"},
            "throughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        }
    ]
    loaded = TableDefinition.from_json(json.loads(json.dumps(stored)))
    assert loaded.indexes["by-many"].hash_keys == ["g"]
    assert loaded.indexes["by-many"].range_keys == ["s"]
    assert loaded == table


def _random_value(rng: random.Random) -> AttributeValue:
    kind = rng.choice("SNB")
    if kind == "N":
        return {"N": str(Decimal(rng.randint(-300, 300)) / 10)}
    raw = bytes(rng.choice(b"\x00\x01a\xffb") for _ in range(rng.randint(1, 4)))
    if kind == "B":
        return {"B": base64.b64encode(raw).decode()}
    return {"S": raw.decode("latin-1")}


def test_multi_attribute_keys_sort_as_tuples_of_their_attributes() -> None:
    # Tuple order: by the first attribute, then the next; ("a", "z") < ("ab", "a")
    # although "az" > "aba" as one string, and 0x00 / 0xff bytes inside values.
    rng = random.Random(7)
    for _ in range(2000):
        kinds = [rng.choice("SNB") for _ in range(3)]
        left, right = [], []
        for kind in kinds:
            a, b = _random_value(rng), _random_value(rng)
            while next(iter(a)) != kind:
                a = _random_value(rng)
            while next(iter(b)) != kind:
                b = _random_value(rng)
            left.append(a)
            right.append(b)
        expected = [encode_key_value(v) for v in left] < [encode_key_value(v) for v in right]
        assert (encode_key_values(left) < encode_key_values(right)) == expected


def test_a_prefix_of_attributes_is_a_prefix_of_bytes() -> None:
    first = {"S": "a\x00b"}
    whole = encode_key_values([first, {"N": "-1.5"}, {"S": "tournament"}])
    assert whole.startswith(key_component(encode_key_value(first)))
    # begins_with on the next attribute is a byte prefix too (escaped, unterminated).
    assert not whole.startswith(key_component(encode_key_value({"S": "a"})))
    second = key_component(encode_key_value({"N": "-1.5"}))
    partial = key_component(encode_key_value(first)) + second
    assert whole.startswith(partial + escape_component(encode_key_value({"S": "tour"})))
    assert not whole.startswith(partial + escape_component(encode_key_value({"S": "tow"})))
