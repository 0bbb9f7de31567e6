"""Who a request's access key is, and the temporary credentials STS hands out.

A key STS did not issue is the principal the identities file gives it
(`lambic.project.identities`), else the default account's root user (without a file
the local cloud has one account, `LOCAL_ACCOUNT_ID`, and accepts any key). A key from
AssumeRole is that role's session until it expires; one from GetSessionToken is the
caller it was issued to.
Issued sessions are kept in SQLite so credentials stay valid across a restart, as AWS's
do.

Errors: `StsError` carries STS's error code, HTTP status and message.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lambic.project.account import LOCAL_ACCOUNT_ID
from lambic.project.identities import Identities
from lambic.project.sqlite import SQLiteStore
from lambic.services.base import ServiceError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    access_key TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    token TEXT NOT NULL,
    arn TEXT NOT NULL,
    user_id TEXT NOT NULL,
    account TEXT NOT NULL,
    expires REAL NOT NULL
);
"""
# STS's constraints (botocore's model: roleSessionNameType, roleDurationSecondsType,
# durationSecondsType, arnType).
_SESSION_NAME = re.compile(r"[\w+=,.@-]*")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class StsError(ServiceError):
    """An STS request failed; rendered as STS's XML `ErrorResponse`."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation_error(name: str, value: object, constraint: str) -> StsError:
    return StsError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
        f"constraint: {constraint}",
    )


@dataclass(frozen=True)
class Identity:
    """GetCallerIdentity's answer for one access key."""

    arn: str
    user_id: str
    account: str


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret: str
    token: str
    expires: float


class SessionStore(SQLiteStore):
    """The SQL behind `Sessions`; called under its lock."""

    SCHEMA = _SCHEMA

    def save(self, credentials: Credentials, identity: Identity) -> None:
        self.conn.execute(
            "INSERT INTO sessions (access_key, secret, token, arn, user_id, account, expires) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                credentials.access_key,
                credentials.secret,
                credentials.token,
                identity.arn,
                identity.user_id,
                identity.account,
                credentials.expires,
            ),
        )

    def find(self, access_key: str) -> tuple[Identity, float] | None:
        row = self.conn.execute(
            "SELECT arn, user_id, account, expires FROM sessions WHERE access_key = ?",
            (access_key,),
        ).fetchone()
        return (Identity(row[0], row[1], row[2]), float(row[3])) if row else None

    def forget_expired(self, now: float) -> None:
        self.conn.execute("DELETE FROM sessions WHERE expires < ?", (now,))


class Sessions:
    """Identities behind access keys, and the sessions STS issues."""

    def __init__(
        self,
        store: SessionStore,
        *,
        clock: Callable[[], float] = time.time,
        identities: Identities | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._identities = identities

    def close(self) -> None:
        with self._lock:
            self._store.close()

    def identity(self, access_key: str | None) -> Identity:
        """Who signs with `access_key`; an expired session's key is refused as AWS does."""
        found = None
        if access_key and access_key.startswith("ASIA"):
            with self._lock:
                found = self._store.find(access_key)
        if found is None:
            if self._identities is not None:
                principal = self._identities.principal(access_key or "")
                if principal is None:
                    principal = self._identities.default
                return Identity(principal.arn, principal.user_id, principal.account.account_id)
            # Any other key is the local account's root user (its UserId is the account).
            return Identity(
                f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:root", LOCAL_ACCOUNT_ID, LOCAL_ACCOUNT_ID
            )
        identity, expires = found
        if expires < self._clock():
            raise StsError(
                "ExpiredToken", "The security token included in the request is expired", status=403
            )
        return identity

    def assume_role(
        self, role_arn: str, session_name: str, duration: int | None
    ) -> tuple[Credentials, Identity]:
        """A role session: credentials and the assumed-role identity they carry."""
        if not 20 <= len(role_arn) <= 2048:
            raise validation_error(
                "roleArn",
                role_arn,
                "Member must have length "
                + (
                    "greater than or equal to 20"
                    if len(role_arn) < 20
                    else "less than or equal to 2048"
                ),
            )
        _check_session_name(session_name)
        seconds = _duration("durationSeconds", duration, 900, 43200, 3600)
        match = _ROLE_ARN.fullmatch(role_arn)
        if match is None:
            raise validation_error("roleArn", role_arn, "Member must be a valid IAM role ARN")
        account, role = match.group(1), match.group(3)
        role_id = "AROA" + _stable_id(role_arn, 17)
        identity = Identity(
            f"arn:aws:sts::{account}:assumed-role/{role}/{session_name}",
            f"{role_id}:{session_name}",
            account,
        )
        return self._issue(identity, seconds), identity

    def session_token(self, access_key: str | None, duration: int | None) -> Credentials:
        """GetSessionToken: credentials acting as the caller (root sessions last an hour)."""
        caller = self.identity(access_key)
        seconds = _duration("durationSeconds", duration, 900, 129600, 43200)
        if caller.arn.endswith(":root"):
            seconds = min(seconds, 3600)  # AWS caps the account owner's sessions at an hour
        return self._issue(caller, seconds)

    def _issue(self, identity: Identity, seconds: int) -> Credentials:
        now = self._clock()
        credentials = Credentials(
            "ASIA" + "".join(secrets.choice(_ALPHABET) for _ in range(16)),
            base64.b64encode(secrets.token_bytes(30)).decode(),
            base64.b64encode(b"lambic-local-session:" + secrets.token_bytes(96)).decode(),
            now + seconds,
        )
        with self._lock:
            self._store.forget_expired(now)
            self._store.save(credentials, identity)
        return credentials


def _check_session_name(name: str) -> None:
    if len(name) < 2:
        raise validation_error(
            "roleSessionName", name, "Member must have length greater than or equal to 2"
        )
    if len(name) > 64:
        raise validation_error(
            "roleSessionName", name, "Member must have length less than or equal to 64"
        )
    if not _SESSION_NAME.fullmatch(name):
        raise validation_error(
            "roleSessionName", name, "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )


def _duration(name: str, value: int | None, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if value < low:
        raise validation_error(
            name, value, f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise validation_error(name, value, f"Member must have value less than or equal to {high}")
    return value


def _stable_id(text: str, length: int) -> str:
    """An IAM-style unique id derived from `text`: the same role gets the same id."""
    digest = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(digest).decode()[:length]
