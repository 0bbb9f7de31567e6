"""EventBridge pattern matching: Lambic's matcher against moto's, pattern by pattern.

moto's server answers TestEventPattern without a `Result` (moto 5.x), so the oracle is
moto's in-process `EventPattern` matcher, the code its rules use to route events.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern as MotoEventPattern

from lambic.services.events.patterns import compile_pattern

EVENT: dict[str, Any] = {
    "id": "1",
    "source": "aws.ec2",
    "detail-type": "x",
    "account": "1",
    "time": "2020-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "state": "terminated",
        "c": 5,
        "x": 301.8,
        "ip": "10.0.0.123",
        "tags": ["prod", "web"],
        "meta": {"o": "ops"},
        "note": None,
    },
}

PATTERNS: list[dict[str, Any]] = [
    {"source": ["aws.ec2"]},
    {"source": ["aws.s3"]},
    {"detail": {"state": [{"prefix": "term"}]}},
    {"detail": {"state": [{"suffix": "nated"}]}},
    {"detail": {"state": [{"anything-but": "running"}]}},
    {"detail": {"state": [{"anything-but": ["terminated"]}]}},
    {"detail": {"state": [{"anything-but": {"prefix": "term"}}]}},
    {"detail": {"c": [{"numeric": [">", 0, "<=", 5]}]}},
    {"detail": {"c": [{"numeric": [">", 5]}]}},
    {"detail": {"x": [{"numeric": ["=", 301.8]}]}},
    {"detail": {"c": [5]}},
    {"detail": {"c": ["5"]}},
    {"detail": {"missing": [{"exists": False}]}},
    {"detail": {"state": [{"exists": True}]}},
    {"detail": {"meta": [{"exists": True}]}},
    {"detail": {"tags": ["web"]}},
    {"detail": {"note": [None]}},
    {"detail": {"missing": [{"anything-but": "x"}]}},
    {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}},
    {"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}},
    {"source": [{"wildcard": "aws.*"}]},
    {"$or": [{"source": ["x"]}, {"detail": {"c": [5]}}]},
    {"detail": {"meta": {"o": ["ops"]}}},
]


@pytest.mark.parametrize("pattern", PATTERNS, ids=[json.dumps(p) for p in PATTERNS])
def test_lambic_and_moto_agree_on_whether_the_pattern_matches(pattern: dict[str, Any]) -> None:
    expected = MotoEventPattern.load(json.dumps(pattern)).matches_event(EVENT)
    assert compile_pattern(pattern).matches(EVENT) is expected
