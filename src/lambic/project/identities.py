"""The local cloud's identities: accounts, their canonical users and access keys.

Without configuration the local cloud has one account (`account.LOCAL_ACCOUNT_ID`)
and any access key is its root user, as today. An identities file (JSON, given by
`lambic services --identities FILE` or the `LAMBIC_IDENTITIES` variable, which
`lambic local`'s services read too) lists more accounts, each with the keys that sign
as it, so requests of different keys are different principals: S3 buckets and
objects belong to the account that created them, and another account reaches them
only through ACL grants or a bucket policy, as on AWS.

    {"accounts": [
      {"account_id": "111122223333",
       "canonical_user_id": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
       "display_name": "alice", "email": "alice@example.com",
       "access_keys": [{"access_key_id": "AKIAALICE", "secret_access_key": "alice-secret"},
                       {"access_key_id": "AKIAALICEBOB", "secret_access_key": "s",
                        "user_name": "bob"}]}]}

A key without `user_name` is the account's root user (`arn:aws:iam::<id>:root`); with
one it is that IAM user (`arn:aws:iam::<id>:user/<name>`, or the `arn` given). Keys
not in the file stay the default account's, unless the services require
authentication (`--require-auth`). An account listed with the default account's id
(`000000000000`) gives that account its canonical id, name and email.

    >>> identities = parse_identities('{"accounts": [{"account_id": "111122223333", '
    ...     '"canonical_user_id": "c1", "display_name": "alice", "email": "a@example.com", '
    ...     '"access_keys": [{"access_key_id": "AK1", "secret_access_key": "s1"}]}]}')
    >>> identities.principal("AK1").arn
    'arn:aws:iam::111122223333:root'
    >>> identities.principal("other") is None
    True
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_CANONICAL_USER_ID, LOCAL_DISPLAY_NAME
from lambic.project.errors import ProjectError

__all__ = [
    "DEFAULT_ACCOUNT",
    "IDENTITIES_ENV",
    "Account",
    "Identities",
    "IdentitiesError",
    "Principal",
    "configured_identities",
    "load_identities",
    "parse_identities",
]

#: The environment variable naming an identities file (`--identities` wins over it).
IDENTITIES_ENV = "LAMBIC_IDENTITIES"

_ACCOUNT_ID = re.compile(r"\d{12}")
# IAM's rules: access key ids 16-128 word characters (we accept shorter local ones),
# user names [\w+=,.@-]{1,64}.
_ACCESS_KEY = re.compile(r"\w{1,128}")
_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class IdentitiesError(ProjectError):
    """The identities file cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Account:
    """An AWS account as S3 and STS show it."""

    account_id: str
    canonical_id: str
    display_name: str
    email: str = ""


@dataclass(frozen=True)
class Principal:
    """Who signs with a key: an account's root user or one of its IAM users."""

    account: Account
    arn: str
    # STS GetCallerIdentity's UserId: the account id for the root user, else an
    # IAM-style unique id ("AIDA...").
    user_id: str

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(":root")


def root_principal(account: Account) -> Principal:
    return Principal(account, f"arn:aws:iam::{account.account_id}:root", account.account_id)


#: The account of every key the local cloud does not know (the one account of old).
DEFAULT_ACCOUNT = Account(LOCAL_ACCOUNT_ID, LOCAL_CANONICAL_USER_ID, LOCAL_DISPLAY_NAME)


class Identities:
    """The configured accounts and keys; lookups by key, canonical id, email, account id."""

    def __init__(
        self, accounts: Iterable[Account], keys: Mapping[str, tuple[str, Principal]]
    ) -> None:
        self.accounts = tuple(accounts)
        self._keys = dict(keys)
        self._by_canonical = {a.canonical_id: a for a in self.accounts}
        self._by_email = {a.email.lower(): a for a in self.accounts if a.email}
        self._by_id = {a.account_id: a for a in self.accounts}
        default = self._by_id.get(LOCAL_ACCOUNT_ID, DEFAULT_ACCOUNT)
        if default is DEFAULT_ACCOUNT:
            self._by_canonical.setdefault(default.canonical_id, default)
            self._by_id[default.account_id] = default
        #: The root user of the default account: unknown keys sign as it.
        self.default = root_principal(default)

    def principal(self, access_key: str) -> Principal | None:
        """Who `access_key` is; None for a key not in the file."""
        found = self._keys.get(access_key)
        return found[1] if found else None

    def secrets(self) -> dict[str, str]:
        """Access key id → secret, for signature checks."""
        return {key: secret for key, (secret, _) in self._keys.items()}

    def by_canonical_id(self, canonical_id: str) -> Account | None:
        return self._by_canonical.get(canonical_id)

    def by_email(self, email: str) -> Account | None:
        return self._by_email.get(email.lower())

    def by_account_id(self, account_id: str) -> Account | None:
        return self._by_id.get(account_id)


def parse_identities(text: str, source: str = "identities file") -> Identities:
    """Validate an identities document (see the module docstring); IdentitiesError says
    which entry is wrong and how."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise IdentitiesError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
        raise IdentitiesError(f'{source}: expected {{"accounts": [...]}} at the top level')
    accounts: list[Account] = []
    keys: dict[str, tuple[str, Principal]] = {}
    seen: dict[str, dict[str, str]] = {"account_id": {}, "canonical_user_id": {}, "email": {}}
    for index, raw in enumerate(document["accounts"]):
        where = f"{source}: accounts[{index}]"
        account = _account(raw, where)
        for field, value in (
            ("account_id", account.account_id),
            ("canonical_user_id", account.canonical_id),
            ("email", account.email.lower()),
        ):
            if value and value in seen[field]:
                raise IdentitiesError(
                    f"{where}.{field} {value!r} is also {seen[field][value]}'s; each account "
                    "needs its own"
                )
            seen[field][value] = f"accounts[{index}]"
        accounts.append(account)
        for key_index, entry in enumerate(_list(raw, "access_keys", where)):
            key_where = f"{where}.access_keys[{key_index}]"
            access_key, secret, principal = _access_key(entry, account, key_where)
            if access_key in keys:
                raise IdentitiesError(
                    f"{key_where}.access_key_id {access_key!r} is listed twice; a key signs "
                    "as one principal"
                )
            keys[access_key] = (secret, principal)
    return Identities(accounts, keys)


def load_identities(path: Path) -> Identities:
    """Read and validate the identities file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IdentitiesError(
            f"Cannot read the identities file {path}: {exc.strerror or exc}"
        ) from exc
    return parse_identities(text, str(path))


def configured_identities(
    path: Path | None = None, environ: Mapping[str, str] = os.environ
) -> Identities | None:
    """The identities of `path`, else of the file `LAMBIC_IDENTITIES` names; None when
    neither is set (one account, any key: the local cloud's default)."""
    if path is None:
        named = environ.get(IDENTITIES_ENV, "").strip()
        if not named:
            return None
        path = Path(named)
    return load_identities(path)


def _list(raw: dict[str, Any], field: str, where: str) -> list[Any]:
    value = raw.get(field, [])
    if not isinstance(value, list):
        raise IdentitiesError(f"{where}.{field} must be a list")
    return value


def _text(raw: dict[str, Any], field: str, where: str, *, required: bool = True) -> str:
    value = raw.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise IdentitiesError(f"{where}.{field} must be a non-empty string")
    return value


def _check_fields(raw: dict[str, Any], fields: frozenset[str], where: str) -> None:
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise IdentitiesError(
            f"{where} has unknown field {unknown[0]!r}; the fields are " + ", ".join(sorted(fields))
        )


def _account(raw: object, where: str) -> Account:
    if not isinstance(raw, dict):
        raise IdentitiesError(f"{where} must be an object with account_id, canonical_user_id, ...")
    _check_fields(raw, _ACCOUNT_FIELDS, where)
    account_id = _text(raw, "account_id", where)
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise IdentitiesError(
            f"{where}.account_id must be 12 digits (an AWS account id), got {account_id!r}"
        )
    canonical = _text(raw, "canonical_user_id", where)
    if any(c.isspace() for c in canonical) or len(canonical) > 256:
        raise IdentitiesError(
            f"{where}.canonical_user_id must be up to 256 characters without spaces "
            "(S3's are 64 hex digits)"
        )
    email = _text(raw, "email", where, required=False)
    if email and not _EMAIL.fullmatch(email):
        raise IdentitiesError(f"{where}.email {email!r} is not an email address")
    display = _text(raw, "display_name", where, required=False) or account_id
    return Account(account_id, canonical, display, email)


_ACCOUNT_FIELDS = frozenset(
    {"account_id", "canonical_user_id", "display_name", "email", "access_keys"}
)
_KEY_FIELDS = frozenset({"access_key_id", "secret_access_key", "user_name", "arn"})


def _access_key(raw: object, account: Account, where: str) -> tuple[str, str, Principal]:
    if not isinstance(raw, dict):
        raise IdentitiesError(f"{where} must be an object with access_key_id and secret_access_key")
    _check_fields(raw, _KEY_FIELDS, where)
    access_key = _text(raw, "access_key_id", where)
    if not _ACCESS_KEY.fullmatch(access_key):
        raise IdentitiesError(
            f"{where}.access_key_id must be letters, digits or '_' (at most 128), got "
            f"{access_key!r}"
        )
    secret = _text(raw, "secret_access_key", where)
    user = _text(raw, "user_name", where, required=False)
    if user and not _USER_NAME.fullmatch(user):
        raise IdentitiesError(f"{where}.user_name {user!r} is not a valid IAM user name")
    arn = _text(raw, "arn", where, required=False)
    if not user:
        if arn:
            raise IdentitiesError(f"{where}.arn needs a user_name (a key without one is root)")
        return access_key, secret, root_principal(account)
    arn = arn or f"arn:aws:iam::{account.account_id}:user/{user}"
    if not arn.startswith(f"arn:aws:iam::{account.account_id}:user/"):
        raise IdentitiesError(
            f"{where}.arn must be a user of account {account.account_id} "
            f"(arn:aws:iam::{account.account_id}:user/...), got {arn!r}"
        )
    return access_key, secret, Principal(account, arn, "AIDA" + _stable_id(arn, 17))


def _stable_id(text: str, length: int) -> str:
    """An IAM-style unique id derived from `text`: the same user keeps the same id."""
    digest = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(digest).decode()[:length]
