"""Filter policies evaluated as AWS documents them, case by case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambic.services.sns.errors import SnsError
from lambic.services.sns.filters import matches_attributes, matches_body, parse_filter_policy
from lambic.services.sns.model import MessageAttribute


def _attrs(**values: Any) -> dict[str, MessageAttribute]:
    out = {}
    for name, value in values.items():
        if isinstance(value, list):
            out[name] = MessageAttribute("String.Array", json.dumps(value))
        elif isinstance(value, int | float):
            out[name] = MessageAttribute("Number", str(value))
        elif isinstance(value, bytes):
            out[name] = MessageAttribute("Binary", None, value)
        else:
            out[name] = MessageAttribute("String", value)
    return out


def _match(policy: dict[str, Any], **values: Any) -> bool:
    parsed = parse_filter_policy(json.dumps(policy))
    assert parsed is not None
    return matches_attributes(parsed, _attrs(**values))


@pytest.mark.parametrize(
    ("policy", "values", "expected"),
    [
        ({"color": ["red", "blue"]}, {"color": "blue"}, True),
        ({"color": ["red"]}, {"color": "Red"}, False),
        ({"color": ["red"]}, {}, False),
        ({"color": ["red"], "size": ["L"]}, {"color": "red", "size": "M"}, False),
        ({"color": [{"prefix": "re"}]}, {"color": "red"}, True),
        ({"file": [{"suffix": ".png"}]}, {"file": "a.png"}, True),
        ({"color": [{"equals-ignore-case": "RED"}]}, {"color": "rEd"}, True),
        ({"color": [{"anything-but": ["red", "blue"]}]}, {"color": "green"}, True),
        ({"color": [{"anything-but": "red"}]}, {"color": "red"}, False),
        ({"color": [{"anything-but": "red"}]}, {}, False),
        ({"color": [{"anything-but": {"prefix": "r"}}]}, {"color": "red"}, False),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5}, True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 6}, False),
        ({"n": [{"numeric": ["=", 3.0]}]}, {"n": 3}, True),
        ({"n": [100]}, {"n": 100}, True),
        ({"n": [100]}, {"n": "100"}, False),
        ({"n": [{"numeric": [">", 1]}]}, {"n": "5"}, False),
        ({"color": [{"exists": True}]}, {"color": "x"}, True),
        ({"color": [{"exists": False}]}, {}, True),
        ({"color": [{"exists": False}]}, {"color": "x"}, False),
        ({"tags": ["b"]}, {"tags": ["a", "b"]}, True),
        ({"tags": ["c"]}, {"tags": ["a", "b"]}, False),
        ({"data": ["AQI="]}, {"data": b"\x01\x02"}, False),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.7"}, True),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.1.7"}, False),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "not an ip"}, False),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": "2"}, True),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"a": "2"}, False),
        ({"x": ["y"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"x": "y", "a": "1"}, True),
    ],
)
def test_attribute_policies(policy: dict[str, Any], values: dict[str, Any], expected: bool) -> None:
    assert _match(policy, **values) is expected


def test_body_policies_nest_into_the_json_message() -> None:
    policy = parse_filter_policy(
        json.dumps({"order": {"status": ["paid"], "total": [{"numeric": [">", 10]}]}}),
        "MessageBody",
    )
    assert policy is not None
    assert matches_body(policy, {"order": {"status": "paid", "total": 11}})
    assert not matches_body(policy, {"order": {"status": "paid", "total": 9}})
    assert not matches_body(policy, {"order": {"status": "open", "total": 11}})
    assert not matches_body(policy, "a string")
    arrays = parse_filter_policy(json.dumps({"tags": ["x"]}), "MessageBody")
    assert arrays is not None
    assert matches_body(arrays, {"tags": ["w", "x"]})


def test_empty_policy_accepts_everything() -> None:
    assert parse_filter_policy("") is None
    assert parse_filter_policy("{}") is None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1]",
        json.dumps({"a": "scalar"}),
        json.dumps({"a": []}),
        json.dumps({"a": [{"regex": "x"}]}),
        json.dumps({"a": [{"numeric": ["~", 1]}]}),
        json.dumps({"a": [{"exists": "yes"}]}),
        json.dumps({"a": [{"cidr": "10.0.0.1"}]}),
        json.dumps({"a": {"nested": ["x"]}}),
        json.dumps({k: ["x"] for k in "abcdef"}),
        json.dumps({k: list(range(6)) for k in "abc"}),
    ],
)
def test_invalid_policies_are_rejected_with_invalid_parameter(text: str) -> None:
    with pytest.raises(SnsError) as caught:
        parse_filter_policy(text)
    assert caught.value.code == "InvalidParameter"
    assert caught.value.message.startswith("Invalid parameter: FilterPolicy: ")
