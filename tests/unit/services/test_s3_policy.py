"""Bucket policies as the local S3 reads them for unsigned requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambic.services.s3.errors import S3Error
from lambic.services.s3.policy import PolicyDocument


def _policy(*statements: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument.parse(json.dumps({"Statement": list(statements)}).encode())


ALLOW_SITE = {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::site/*",
}


def test_an_allow_to_everyone_grants_only_its_action_on_its_resources() -> None:
    policy = _policy(ALLOW_SITE)
    assert policy.allows_anonymous("s3:GetObject", "arn:aws:s3:::site/a/b.html")
    assert not policy.allows_anonymous("s3:PutObject", "arn:aws:s3:::site/a.html")
    assert not policy.allows_anonymous("s3:GetObject", "arn:aws:s3:::other/a.html")
    assert not policy.allows_anonymous("s3:ListBucket", "arn:aws:s3:::site")


def test_an_explicit_deny_wins_over_an_allow() -> None:
    deny = {**ALLOW_SITE, "Effect": "Deny", "Resource": "arn:aws:s3:::site/private/*"}
    policy = _policy(ALLOW_SITE, deny)
    assert policy.allows_anonymous("s3:GetObject", "arn:aws:s3:::site/index.html")
    assert not policy.allows_anonymous("s3:GetObject", "arn:aws:s3:::site/private/x")


@pytest.mark.parametrize(
    "statement",
    [
        {**ALLOW_SITE, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}},
        {**ALLOW_SITE, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    ],
)
def test_grants_to_someone_else_or_under_a_condition_do_not_open_the_bucket(
    statement: dict[str, Any],
) -> None:
    assert not _policy(statement).allows_anonymous("s3:GetObject", "arn:aws:s3:::site/a")


def test_wildcard_actions_and_the_aws_star_principal_match() -> None:
    policy = _policy({**ALLOW_SITE, "Principal": {"AWS": ["*"]}, "Action": ["s3:Get*"]})
    assert policy.allows_anonymous("s3:GetObject", "arn:aws:s3:::site/a")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "Policies must be valid JSON"),
        (b"{}", "Missing required field Statement"),
        (b'{"Statement": [{"Effect": "Maybe", "Principal": "*"}]}', "Invalid effect"),
    ],
)
def test_malformed_policies_are_refused_as_s3_refuses_them(body: bytes, message: str) -> None:
    with pytest.raises(S3Error, match=message) as refused:
        PolicyDocument.parse(body)
    assert (refused.value.code, refused.value.status) == ("MalformedPolicy", 400)
