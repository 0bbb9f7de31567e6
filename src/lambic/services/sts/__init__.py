"""Local STS: who is calling (GetCallerIdentity) and temporary credentials (AssumeRole,
GetSessionToken), so code that asks STS for its account works against the edge.

Data flow: edge → `StsService.handle` → `sessions.Sessions` (issued credentials, kept in
SQLite) → XML in STS's query shape. STS operations that are not served locally answer
AWS's `NotImplemented` (docs/internals.md lists them).
"""

from __future__ import annotations

from pathlib import Path

from lambic.project.identities import Identities
from lambic.project.sqlite import Durability, open_database
from lambic.services.sts.service import StsService
from lambic.services.sts.sessions import Identity, Sessions, SessionStore, StsError


def create_service(
    state_dir: Path | None,
    *,
    durability: Durability = "normal",
    identities: Identities | None = None,
) -> StsService:
    """STS whose issued sessions live in `<state_dir>/sts.sqlite3` (in memory when None);
    a key of `identities` is its principal, any other the default account's root."""
    path = None if state_dir is None else state_dir / "sts.sqlite3"
    store = SessionStore(open_database(path, durability=durability))
    return StsService(Sessions(store, identities=identities))


__all__ = ["Identity", "SessionStore", "Sessions", "StsError", "StsService", "create_service"]
