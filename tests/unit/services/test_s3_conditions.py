"""Policy `Condition` blocks decided as IAM documents them."""

from __future__ import annotations

import pytest

from lambic.services.s3.conditions import holds


class Keys:
    def __init__(self, **values: str | list[str]) -> None:
        self._values = {
            k.lower().replace("__", ":").replace("_", "-"): v if isinstance(v, list) else [v]
            for k, v in values.items()
        }

    def values(self, key: str) -> list[str] | None:
        return self._values.get(key)


SSE = "s3:x-amz-server-side-encryption"


@pytest.mark.parametrize(
    ("block", "present", "absent"),
    [
        ({"StringEquals": {SSE: "AES256"}}, True, False),
        # A negated operator holds when the key is missing (IAM's documented rule).
        ({"StringNotEquals": {SSE: "AES256"}}, False, True),
        ({"StringEqualsIfExists": {SSE: "aws:kms"}}, False, True),
        ({"Null": {SSE: "true"}}, False, True),
        ({"Null": {SSE: "false"}}, True, False),
        ({"StringLike": {SSE: "AES*"}}, True, False),
        ({"StringNotLike": {SSE: "aws:*"}}, True, True),
    ],
)
def test_operators_and_missing_keys(
    block: dict[str, dict[str, str]], present: bool, absent: bool
) -> None:
    assert holds(block, Keys(s3__x_amz_server_side_encryption="AES256")) is present
    assert holds(block, Keys()) is absent


def test_several_values_are_any_of_but_none_of_under_a_negated_operator() -> None:
    keys = Keys(s3__x_amz_acl="public-read")
    assert holds({"StringEquals": {"s3:x-amz-acl": ["private", "public-read"]}}, keys)
    assert not holds({"StringNotEquals": {"s3:x-amz-acl": ["private", "public-read"]}}, keys)
    assert holds({"StringNotEquals": {"s3:x-amz-acl": ["private", "authenticated-read"]}}, keys)


def test_every_operator_and_key_must_hold() -> None:
    keys = Keys(s3__prefix="home/", s3__max_keys="10")
    both = {"StringEquals": {"s3:prefix": "home/"}, "NumericLessThanEquals": {"s3:max-keys": "10"}}
    assert holds(both, keys)
    assert not holds({**both, "NumericLessThan": {"s3:max-keys": "10"}}, keys)


def test_addresses_dates_booleans_and_key_case() -> None:
    keys = Keys(aws__SourceIp="127.0.0.1", aws__CurrentTime="2026-01-02T00:00:00Z")
    assert holds({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, keys)
    assert holds({"NotIpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}, keys)
    assert holds({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, keys)
    assert holds({"Bool": {"aws:SecureTransport": "false"}}, Keys(aws__SecureTransport="false"))


def test_an_unknown_operator_never_holds() -> None:
    assert not holds(
        {"BinaryEquals": {SSE: "QUVTMjU2"}}, Keys(s3__x_amz_server_side_encryption="AES256")
    )
    assert not holds({"NoSuchOperator": {SSE: "x"}}, Keys())


def test_for_all_values_and_for_any_value_over_a_multi_valued_key() -> None:
    keys = Keys(s3__RequestObjectTagKeys=["team", "cost"])
    assert holds(
        {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "cost", "env"]}}, keys
    )
    assert not holds({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}}, keys)
    assert holds({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["cost"]}}, keys)
