from __future__ import annotations

from typing import Any

import pytest

from lambic.services.events.patterns import InvalidEventPatternError, compile_pattern

EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.123",
        "tags": ["prod", "web"],
        "meta": {"owner": "ops"},
        "note": None,
    },
}


def matches(pattern: dict[str, Any], event: dict[str, Any] = EC2_EVENT) -> bool:
    return compile_pattern(pattern).matches(event)


def test_matches_literal_values_and_nested_fields() -> None:
    assert matches({"source": ["aws.ec2"], "detail": {"state": ["terminated", "stopped"]}})
    assert not matches({"source": ["aws.s3"]})
    assert not matches({"detail": {"state": ["running"]}})


def test_a_field_holding_a_list_matches_when_any_element_does() -> None:
    assert matches({"detail": {"tags": ["web"]}})
    assert not matches({"detail": {"tags": ["db"]}})


def test_numbers_match_numbers_by_value_not_strings() -> None:
    assert matches({"detail": {"c-count": [5.0]}})
    assert not matches({"detail": {"c-count": ["5"]}})
    assert not matches({"detail": {"state": [5]}})


def test_null_matches_a_null_value_but_not_a_missing_field() -> None:
    assert matches({"detail": {"note": [None]}})
    assert not matches({"detail": {"missing": [None]}})


def test_prefix_and_suffix_with_and_without_case_folding() -> None:
    assert matches({"detail": {"state": [{"prefix": "term"}]}})
    assert matches({"detail": {"state": [{"suffix": "nated"}]}})
    assert matches({"detail": {"state": [{"prefix": {"equals-ignore-case": "TERM"}}]}})
    assert matches({"detail": {"state": [{"suffix": {"equals-ignore-case": "NATED"}}]}})
    assert not matches({"detail": {"state": [{"prefix": "TERM"}]}})


def test_equals_ignore_case_and_wildcard() -> None:
    assert matches({"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}})
    assert matches({"source": [{"wildcard": "aws.*"}]})
    assert matches({"detail": {"instance-id": [{"wildcard": "i-*0"}]}})
    assert not matches({"detail": {"instance-id": [{"wildcard": "i-*9"}]}})
    assert matches({"k": [{"wildcard": r"a\*b"}]}, {"k": "a*b"})
    assert not matches({"k": [{"wildcard": r"a\*b"}]}, {"k": "axxb"})


def test_anything_but_values_lists_and_prefixes() -> None:
    assert matches({"detail": {"state": [{"anything-but": "running"}]}})
    assert not matches({"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}})
    assert not matches({"detail": {"state": [{"anything-but": {"prefix": "term"}}]}})
    assert matches({"detail": {"state": [{"anything-but": {"suffix": "ing"}}]}})
    assert not matches({"detail": {"c-count": [{"anything-but": [5, 6]}]}})
    assert not matches(
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "TERMINATED"}}]}}
    )


def test_anything_but_does_not_match_an_absent_field() -> None:
    assert not matches({"detail": {"missing": [{"anything-but": "x"}]}})


def test_numeric_ranges() -> None:
    assert matches({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}})
    assert not matches({"detail": {"d-count": [{"numeric": ["<", 3]}]}})
    assert matches({"detail": {"x-limit": [{"numeric": ["=", 301.8]}]}})
    assert not matches({"detail": {"state": [{"numeric": [">", 0]}]}})


def test_exists_true_and_false() -> None:
    assert matches({"detail": {"state": [{"exists": True}]}})
    assert matches({"detail": {"missing": [{"exists": False}]}})
    assert not matches({"detail": {"state": [{"exists": False}]}})
    # exists applies to leaves: an object-valued field is not a leaf.
    assert not matches({"detail": {"meta": [{"exists": True}]}})
    assert matches({"nothing": {"deeper": [{"exists": False}]}})


def test_cidr_matches_ip_addresses() -> None:
    assert matches({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}})
    assert not matches({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}})


def test_or_combines_alternatives_at_any_level() -> None:
    pattern = {"detail": {"$or": [{"c-count": [{"numeric": [">", 10]}]}, {"d-count": [3]}]}}
    assert matches(pattern)
    pattern = {"$or": [{"source": ["aws.s3"]}, {"detail-type": ["nope"]}]}
    assert not matches(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ({"source": "aws.ec2"}, "must be an object or an array"),
        ({"source": []}, "Empty arrays are not allowed"),
        ({"source": [{"prefix": "a", "suffix": "b"}]}, "Only one key allowed"),
        ({"source": [{"bogus": "a"}]}, "Unrecognized match type bogus"),
        ({"n": [{"numeric": [">", "x"]}]}, "must be numeric"),
        ({"n": [{"numeric": ["<", 5, ">", 1]}]}, "Bad numeric range"),
        ({"n": [{"exists": "yes"}]}, "either true or false"),
        ({"n": [{"cidr": "not-an-ip"}]}, "CIDR"),
        ({"$or": [{"a": ["b"]}]}, "$or"),
    ],
)
def test_invalid_patterns_are_rejected_with_aws_wording(
    pattern: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidEventPatternError, match="Event pattern is not valid") as caught:
        compile_pattern(pattern)
    assert reason in str(caught.value)


def test_pattern_may_be_given_as_json_text() -> None:
    assert compile_pattern('{"source": ["aws.ec2"]}').matches(EC2_EVENT)
    with pytest.raises(InvalidEventPatternError):
        compile_pattern("{not json")
