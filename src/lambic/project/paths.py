"""Where a project keeps what Lambic writes: one definition of every path.

```
<project>/
  app.py
  .chalice/config.json          a Chalice project's configuration, read when there
                                is no .lambic/config.json (Chalice's own layout)
  .lambic/
    config.json                 the project's configuration (config.py)
    state/<stage>/              the local cloud's state for one stage:
      logs.sqlite3              function logs and usage (runtime's log store)
      local.json                where a running `lambic local` serves this stage's
                                services ({"url", "pid"}; runtime.endpoint_file)
      services.lock             held by the one process whose engines have this
                                state open (runtime.endpoint_file)
      events.sqlite3            accepted asynchronous events (durable queue)
      schedules.sqlite3         schedule anchors
      stream_checkpoints.sqlite3
      <service>.sqlite3, s3-blobs/   the local services
    deployed/<stage>.json       what `lambic deploy` created (deploy's records)
    cache/                      downloaded wheels and other rebuildable files
```

    >>> paths = ProjectPaths(Path("/srv/app"))
    >>> paths.state_dir("dev")
    PosixPath('/srv/app/.lambic/state/dev')
    >>> paths.local_endpoint("dev")
    PosixPath('/srv/app/.lambic/state/dev/local.json')
    >>> paths.deployed_record("prod")
    PosixPath('/srv/app/.lambic/deployed/prod.json')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CHALICE_DIR",
    "LAMBIC_DIR",
    "LOCAL_ENDPOINT_FILE",
    "LOG_STORE_FILE",
    "SERVICES_LOCK_FILE",
    "ProjectPaths",
]

#: The directory, inside a project, that holds everything Lambic writes.
LAMBIC_DIR = ".lambic"
#: A Chalice project's directory: its config.json is read when Lambic's is absent.
CHALICE_DIR = ".chalice"
#: The runtime's log and usage store, inside a stage's state directory.
LOG_STORE_FILE = "logs.sqlite3"
#: Where a running `lambic local` serves a stage's services, inside its state directory.
LOCAL_ENDPOINT_FILE = "local.json"
#: The lock held by the process whose service engines have a state directory open.
SERVICES_LOCK_FILE = "services.lock"


@dataclass(frozen=True)
class ProjectPaths:
    """The paths of one project directory (nothing is created here)."""

    root: Path

    @property
    def lambic_dir(self) -> Path:
        return self.root / LAMBIC_DIR

    @property
    def config_file(self) -> Path:
        """`.lambic/config.json`, else a Chalice project's `.chalice/config.json` if it
        has one (Chalice's keys mean the same here), else where Lambic's would be."""
        lambic = self.lambic_dir / "config.json"
        chalice = self.root / CHALICE_DIR / "config.json"
        return chalice if not lambic.exists() and chalice.exists() else lambic

    @property
    def config_name(self) -> str:
        """The config file as the user knows it, for messages: `.lambic/config.json`."""
        return str(self.config_file.relative_to(self.root))

    @property
    def cache_dir(self) -> Path:
        return self.lambic_dir / "cache"

    def state_dir(self, stage: str) -> Path:
        """The local cloud's state for `stage` (services, logs, queues, schedules)."""
        return self.lambic_dir / "state" / stage

    def local_issuer_key(self, stage: str) -> Path:
        """The RSA key the local Cognito issuer signs `stage`'s tokens with."""
        return self.state_dir(stage) / "local-issuer-key.json"

    def log_store(self, stage: str) -> Path:
        return self.state_dir(stage) / LOG_STORE_FILE

    def local_endpoint(self, stage: str) -> Path:
        """Where a running `lambic local` for `stage` serves its services (URL + pid)."""
        return self.state_dir(stage) / LOCAL_ENDPOINT_FILE

    def services_lock(self, stage: str) -> Path:
        """Held by whichever process has `stage`'s service engines open."""
        return self.state_dir(stage) / SERVICES_LOCK_FILE

    def deployed_record(self, stage: str) -> Path:
        """What `lambic deploy --stage STAGE` created, written only by deploy's records."""
        return self.lambic_dir / "deployed" / f"{stage}.json"
