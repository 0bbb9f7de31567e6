"""Local STS: who is calling (GetCallerIdentity) and temporary credentials (AssumeRole,
GetSessionToken), so code that asks STS for its account works against the edge.

Data flow: edge → `StsService.handle` → `sessions.Sessions` (issued credentials, kept in
SQLite) → XML in STS's query shape. STS operations that are not served locally answer
AWS's `NotImplemented` (docs/internals.md lists them).
"""

from __future__ import annotations

from pathlib import Path

from lambic.project.sqlite import Durability, open_database
from lambic.services.sts.service import StsService
from lambic.services.sts.sessions import Identity, Sessions, SessionStore, StsError


def create_service(state_dir: Path | None, *, durability: Durability = "normal") -> StsService:
    """STS whose issued sessions live in `<state_dir>/sts.sqlite3` (in memory when None)."""
    path = None if state_dir is None else state_dir / "sts.sqlite3"
    return StsService(Sessions(SessionStore(open_database(path, durability=durability))))


__all__ = ["Identity", "SessionStore", "Sessions", "StsError", "StsService", "create_service"]
