"""The identities file: accounts and keys read, and every mistake named with its fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambic.project.identities import (
    DEFAULT_ACCOUNT,
    IdentitiesError,
    configured_identities,
    load_identities,
    parse_identities,
)


def _account(**changes: Any) -> dict[str, Any]:
    account: dict[str, Any] = {
        "account_id": "111122223333",
        "canonical_user_id": "c" * 64,
        "display_name": "alice",
        "email": "alice@example.com",
        "access_keys": [{"access_key_id": "AKIAALICE", "secret_access_key": "s"}],
    }
    account.update(changes)
    return account


def _parse(*accounts: dict[str, Any]) -> Any:
    return parse_identities(json.dumps({"accounts": list(accounts)}), "ids.json")


def test_keys_sign_as_their_account_root_or_named_user() -> None:
    user_key = {"access_key_id": "AKIABOB", "secret_access_key": "t", "user_name": "bob"}
    identities = _parse(
        _account(access_keys=[{"access_key_id": "AKIAALICE", "secret_access_key": "s"}, user_key])
    )
    root = identities.principal("AKIAALICE")
    assert (root.arn, root.user_id, root.is_root) == (
        "arn:aws:iam::111122223333:root",
        "111122223333",
        True,
    )
    bob = identities.principal("AKIABOB")
    assert bob.arn == "arn:aws:iam::111122223333:user/bob"
    assert bob.user_id.startswith("AIDA") and not bob.is_root
    assert identities.secrets() == {"AKIAALICE": "s", "AKIABOB": "t"}
    assert identities.by_email("ALICE@example.com") is root.account
    assert identities.by_canonical_id("c" * 64) is root.account
    assert identities.principal("unknown") is None
    assert identities.default.account == DEFAULT_ACCOUNT


def test_an_entry_for_the_default_account_renames_it() -> None:
    identities = _parse(_account(account_id="000000000000", display_name="local"))
    assert identities.default.account.display_name == "local"
    assert identities.default.account.canonical_id == "c" * 64


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "ids.json: not valid JSON"),
        ('{"users": []}', 'expected {"accounts": [...]}'),
        (json.dumps({"accounts": [_account(account_id="1234")]}), "account_id must be 12 digits"),
        (json.dumps({"accounts": [_account(canonical_user_id="a b")]}), "without spaces"),
        (json.dumps({"accounts": [_account(email="nope")]}), "is not an email address"),
        (json.dumps({"accounts": [_account(colour="red")]}), "unknown field 'colour'"),
        (
            json.dumps({"accounts": [_account(), _account(canonical_user_id="d" * 64)]}),
            "accounts[1].account_id '111122223333' is also accounts[0]'s",
        ),
        (
            json.dumps(
                {
                    "accounts": [
                        _account(),
                        _account(
                            account_id="444455556666",
                            canonical_user_id="d" * 64,
                            email="bob@example.com",
                        ),
                    ]
                }
            ),
            "access_key_id 'AKIAALICE' is listed twice",
        ),
        (
            json.dumps({"accounts": [_account(access_keys=[{"access_key_id": "AK"}])]}),
            "access_keys[0].secret_access_key must be a non-empty string",
        ),
        (
            json.dumps(
                {
                    "accounts": [
                        _account(
                            access_keys=[
                                {
                                    "access_key_id": "AK",
                                    "secret_access_key": "s",
                                    "user_name": "bob",
                                    "arn": "arn:aws:iam::999999999999:user/bob",
                                }
                            ]
                        )
                    ]
                }
            ),
            "arn must be a user of account 111122223333",
        ),
    ],
)
def test_mistakes_are_named_with_their_entry(document: str, message: str) -> None:
    with pytest.raises(IdentitiesError) as caught:
        parse_identities(document, "ids.json")
    assert message in str(caught.value)


def test_the_file_comes_from_the_option_else_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    path.write_text(json.dumps({"accounts": [_account()]}))
    assert configured_identities(None, {}) is None
    from_env = configured_identities(None, {"LAMBIC_IDENTITIES": str(path)})
    assert from_env is not None and from_env.principal("AKIAALICE") is not None
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"accounts": []}))
    chosen = configured_identities(other, {"LAMBIC_IDENTITIES": str(path)})
    assert chosen is not None and chosen.principal("AKIAALICE") is None
    with pytest.raises(IdentitiesError, match="Cannot read the identities file"):
        load_identities(tmp_path / "missing.json")
