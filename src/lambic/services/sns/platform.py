"""SNS mobile push: platform applications and their device endpoints, kept in SQLite.

A platform application (`app/GCM/name`) holds the push service's credentials; each
device registers an endpoint (`endpoint/GCM/name/<uuid>`) under it with its token.
Locally nothing reaches a push service: publishing to an enabled endpoint answers a
MessageId as AWS does and the message is dropped; a disabled one is refused with
`EndpointDisabled`, as AWS refuses it.

AWS's rules kept here: CreatePlatformEndpoint is idempotent for the same token and
the same attributes, and refuses the same token with different ones; deleting an
endpoint is idempotent; deleting an application deletes its endpoints; the
application's credentials are stored but never read back (AWS does not return them).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from lambic.project.sqlite import SQLiteStore
from lambic.services.sns.errors import SnsError, invalid_parameter, not_found

_SCHEMA = """
CREATE TABLE IF NOT EXISTS platform_applications (
    arn TEXT PRIMARY KEY,
    attributes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS platform_endpoints (
    arn TEXT PRIMARY KEY,
    application_arn TEXT NOT NULL,
    token TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS endpoints_by_application
    ON platform_endpoints (application_arn, token);
"""
# The push services SNS knows (CreatePlatformApplication's Platform).
PLATFORMS = frozenset(
    {
        "ADM",
        "APNS",
        "APNS_SANDBOX",
        "APNS_VOIP",
        "APNS_VOIP_SANDBOX",
        "BAIDU",
        "GCM",
        "MACOS",
        "MACOS_SANDBOX",
        "MPNS",
        "WNS",
    }
)
# Stored, never returned: the push service's secrets.
_SECRET_ATTRIBUTES = frozenset({"PlatformCredential", "PlatformPrincipal"})
_APPLICATION_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_ENDPOINT_ATTRIBUTES = frozenset({"CustomUserData", "Enabled", "Token"})


def application_not_found() -> SnsError:
    return not_found("PlatformApplication does not exist")


def endpoint_not_found() -> SnsError:
    return not_found("Endpoint does not exist")


@dataclass(frozen=True)
class Endpoint:
    arn: str
    application_arn: str
    attributes: dict[str, str]

    @property
    def enabled(self) -> bool:
        return self.attributes.get("Enabled", "true") == "true"


class PlatformStore(SQLiteStore):
    """The SQL of applications and endpoints (on SNS's connection, under SNS's lock)."""

    SCHEMA = _SCHEMA

    def application(self, arn: str) -> dict[str, str] | None:
        row = self.conn.execute(
            "SELECT attributes FROM platform_applications WHERE arn = ?", (arn,)
        ).fetchone()
        return dict(json.loads(row[0])) if row else None

    def applications(self) -> list[tuple[str, dict[str, str]]]:
        rows = self.conn.execute(
            "SELECT arn, attributes FROM platform_applications ORDER BY arn"
        ).fetchall()
        return [(str(r[0]), dict(json.loads(r[1]))) for r in rows]

    def save_application(self, arn: str, attributes: Mapping[str, str]) -> None:
        self.conn.execute(
            "INSERT INTO platform_applications (arn, attributes) VALUES (?, ?) "
            "ON CONFLICT(arn) DO UPDATE SET attributes = excluded.attributes",
            (arn, json.dumps(dict(attributes))),
        )

    def delete_application(self, arn: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM platform_endpoints WHERE application_arn = ?", (arn,))
            self.conn.execute("DELETE FROM platform_applications WHERE arn = ?", (arn,))

    def endpoint(self, arn: str) -> Endpoint | None:
        row = self.conn.execute(
            "SELECT arn, application_arn, attributes FROM platform_endpoints WHERE arn = ?",
            (arn,),
        ).fetchone()
        return _endpoint(row) if row else None

    def endpoint_by_token(self, application_arn: str, token: str) -> Endpoint | None:
        row = self.conn.execute(
            "SELECT arn, application_arn, attributes FROM platform_endpoints "
            "WHERE application_arn = ? AND token = ?",
            (application_arn, token),
        ).fetchone()
        return _endpoint(row) if row else None

    def endpoints(self, application_arn: str) -> list[Endpoint]:
        rows = self.conn.execute(
            "SELECT arn, application_arn, attributes FROM platform_endpoints "
            "WHERE application_arn = ? ORDER BY rowid",
            (application_arn,),
        ).fetchall()
        return [_endpoint(row) for row in rows]

    def save_endpoint(self, endpoint: Endpoint) -> None:
        self.conn.execute(
            "INSERT INTO platform_endpoints (arn, application_arn, token, attributes) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(arn) DO UPDATE SET token = excluded.token, "
            "attributes = excluded.attributes",
            (
                endpoint.arn,
                endpoint.application_arn,
                endpoint.attributes["Token"],
                json.dumps(endpoint.attributes),
            ),
        )

    def delete_endpoint(self, arn: str) -> None:
        self.conn.execute("DELETE FROM platform_endpoints WHERE arn = ?", (arn,))


def _endpoint(row: tuple[object, ...]) -> Endpoint:
    return Endpoint(str(row[0]), str(row[1]), dict(json.loads(str(row[2]))))


class Platforms:
    """Platform applications and endpoints of one account and region."""

    def __init__(
        self, store: PlatformStore, *, lock: threading.RLock, region: str, account: str
    ) -> None:
        self._store = store
        self._lock = lock
        self._prefix = f"arn:aws:sns:{region}:{account}:"

    # Applications ---------------------------------------------------------------------

    def create_application(self, name: str, platform: str, attributes: Mapping[str, str]) -> str:
        if not _APPLICATION_NAME.fullmatch(name):
            raise invalid_parameter(
                "Name Reason: must be 1 to 256 alphanumeric characters, hyphens, underscores "
                "or periods"
            )
        if platform not in PLATFORMS:
            raise invalid_parameter("Platform Reason: Platform must be one of "
                                    + ", ".join(sorted(PLATFORMS)))  # fmt: skip
        stored = {"Enabled": "true", **_enabled(attributes)}
        arn = f"{self._prefix}app/{platform}/{name}"
        with self._lock:
            self._store.save_application(arn, stored)
        return arn

    def application_attributes(self, arn: str) -> dict[str, str]:
        return {k: v for k, v in self._application(arn).items() if k not in _SECRET_ATTRIBUTES}

    def set_application_attributes(self, arn: str, attributes: Mapping[str, str]) -> None:
        with self._lock:
            stored = self._application(arn)
            stored.update(_enabled(attributes))
            self._store.save_application(arn, stored)

    def list_applications(self) -> list[tuple[str, dict[str, str]]]:
        with self._lock:
            applications = self._store.applications()
        return [
            (arn, {k: v for k, v in attrs.items() if k not in _SECRET_ATTRIBUTES})
            for arn, attrs in applications
        ]

    def delete_application(self, arn: str) -> None:
        with self._lock:  # idempotent, as AWS
            self._store.delete_application(arn)

    def _application(self, arn: str) -> dict[str, str]:
        with self._lock:
            stored = self._store.application(arn)
        if stored is None:
            raise application_not_found()
        return stored

    # Endpoints ------------------------------------------------------------------------

    def create_endpoint(
        self,
        application_arn: str,
        token: str,
        custom_user_data: str | None,
        attributes: Mapping[str, str],
    ) -> str:
        wanted = {"Enabled": "true", **_endpoint_attributes(attributes)}
        if custom_user_data is not None:
            wanted["CustomUserData"] = custom_user_data
        wanted["Token"] = token
        with self._lock:
            self._application(application_arn)
            existing = self._store.endpoint_by_token(application_arn, token)
            if existing is not None:
                if existing.attributes != wanted:
                    raise invalid_parameter(
                        f"Token Reason: Endpoint {existing.arn} already exists with the same "
                        "Token, but different attributes."
                    )
                return existing.arn
            platform_and_name = application_arn.split(":app/", 1)[1]
            arn = f"{self._prefix}endpoint/{platform_and_name}/{uuid.uuid4()}"
            self._store.save_endpoint(Endpoint(arn, application_arn, wanted))
        return arn

    def endpoint(self, arn: str) -> Endpoint:
        with self._lock:
            found = self._store.endpoint(arn)
        if found is None:
            raise endpoint_not_found()
        return found

    def set_endpoint_attributes(self, arn: str, attributes: Mapping[str, str]) -> None:
        with self._lock:
            endpoint = self.endpoint(arn)
            changed = {**endpoint.attributes, **_endpoint_attributes(attributes)}
            self._store.save_endpoint(Endpoint(arn, endpoint.application_arn, changed))

    def list_endpoints(self, application_arn: str) -> list[Endpoint]:
        with self._lock:
            self._application(application_arn)
            return self._store.endpoints(application_arn)

    def delete_endpoint(self, arn: str) -> None:
        with self._lock:  # idempotent, as AWS
            self._store.delete_endpoint(arn)

    def publish(self, arn: str) -> str:
        """The MessageId of a push to `arn` (not delivered: no push service locally)."""
        with self._lock:
            endpoint = self._store.endpoint(arn)
        if endpoint is None:
            raise invalid_parameter(
                "TargetArn Reason: No endpoint found for the target arn specified"
            )
        if not endpoint.enabled:
            raise SnsError("EndpointDisabled", "Endpoint is disabled")
        return str(uuid.uuid4())


def is_endpoint_arn(arn: str) -> bool:
    return ":endpoint/" in arn


def _enabled(attributes: Mapping[str, str]) -> dict[str, str]:
    """Attributes with `Enabled` spelled as AWS answers it ("true"/"false")."""
    out = {str(k): str(v) for k, v in attributes.items()}
    if "Enabled" in out:
        value = out["Enabled"].lower()
        if value not in ("true", "false"):
            raise invalid_parameter("Attributes Reason: Enabled must be true or false")
        out["Enabled"] = value
    return out


def _endpoint_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    out = _enabled(attributes)
    for name in out:
        if name not in _ENDPOINT_ATTRIBUTES:
            raise invalid_parameter(f"Attributes Reason: Invalid attribute name: {name}")
    return out
