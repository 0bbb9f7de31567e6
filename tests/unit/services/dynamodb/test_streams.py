"""Stream records and shard iterators."""

from __future__ import annotations

import base64
import json
import time

import pytest

from lambic.project.sqlite import open_database
from lambic.services.dynamodb.errors import ExpiredIteratorError, ValidationError
from lambic.services.dynamodb.store import DynamoDBStore
from lambic.services.dynamodb.streams import (
    StreamsApi,
    build_record,
    parse_sequence_number,
    sequence_number,
)
from lambic.services.dynamodb.tables import parse_create_table


def test_sequence_numbers_are_fixed_width_increasing_decimals() -> None:
    numbers = [sequence_number(n) for n in (1, 2, 10, 999)]
    assert numbers == sorted(numbers)
    assert {len(n) for n in numbers} == {21}
    assert parse_sequence_number(numbers[2]) == 10
    with pytest.raises(ValidationError):
        parse_sequence_number("12x")


def test_record_images_follow_the_view_type() -> None:
    table = parse_create_table(
        {
            "TableName": "t-old",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
        }
    )
    keys = {"pk": {"S": "a"}}
    record = build_record(table, "MODIFY", keys, {**keys, "v": {"N": "1"}}, {**keys})
    assert record["dynamodb"]["OldImage"] == {**keys, "v": {"N": "1"}}
    assert "NewImage" not in record["dynamodb"]
    assert record["eventVersion"] == "1.1"


def test_iterators_expire_after_fifteen_minutes() -> None:
    api = StreamsApi(DynamoDBStore(open_database(None)))
    stale = json.dumps({"a": "arn", "p": 0, "t": time.time() - 16 * 60})
    token = base64.urlsafe_b64encode(stale.encode()).decode()
    with pytest.raises(ExpiredIteratorError):
        api.get_records({"ShardIterator": token})
    with pytest.raises(ValidationError, match="Invalid ShardIterator"):
        api.get_records({"ShardIterator": "garbage!"})
