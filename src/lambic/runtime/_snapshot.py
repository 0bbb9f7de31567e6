"""Immutable copies of a project's code: what `lambic local` actually runs.

On AWS a function runs a deployed package (`/var/task`) that later edits cannot
touch. Execution environments import the user's code when they start, so if they
imported straight from the project directory, an environment started after a broken
edit (a scale-out, a cold start after idle) would run the broken file even though
the reload was refused. Each load therefore runs from a snapshot:

    project dir --copy (code + data files, no config/state/caches/VCS)--> <base>/<n>/
        manifest read from the snapshot, environments' task root = the snapshot

The config file is not copied: `.lambic/config.json` holds every function's
environment variables (secrets among them), and a Lambda package holds none of it;
the local cloud reads it from the project as it takes the snapshot.

Only a good snapshot replaces the previous one; a few older ones are kept while
in-flight invocations may still read files from them, and all are removed on close.
A root is named after its process id, so one left by a killed process is removed by
the next `lambic local`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from lambic.runtime._log_lines import PathRewrite

__all__ = ["CodeSnapshots", "snapshot_base"]

# The directories a deployment package would not contain. Hidden directories (.git,
# .venv, .lambic with its config and state, .chalice) are skipped as a rule.
#: Directories neither copied into snapshots nor watched for changes (hidden ones too).
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "venv", "site-packages"})
_KEEP = 3
# Files above this size (data sets, models...) are hard-linked instead of copied, so a
# reload stays fast and cheap; code is small and always copied, because editors that
# rewrite a file in place would otherwise change the snapshot too.
_LINK_ABOVE_BYTES = 1024 * 1024


_PREFIX = "lambic-task-"


def snapshot_base() -> Path:
    """Where snapshot roots are made: /var/tmp when writable, else the temp directory.

    Not /tmp by preference: an isolated environment has a private /tmp over the real
    one, and a task root outside it needs no bind mount on the cold-start path.
    """
    if os.access("/var/tmp", os.W_OK | os.X_OK):
        return Path("/var/tmp")
    return Path(tempfile.gettempdir())


def _remove_orphans() -> None:
    """Remove snapshot roots left by `lambic local` processes that were killed (-9)."""
    base = snapshot_base()
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            pid_text = entry.name[len(_PREFIX) :].split("-", 1)[0]
            if not entry.name.startswith(_PREFIX) or not pid_text.isdigit():
                continue
            try:
                os.kill(int(pid_text), 0)
            except ProcessLookupError:
                shutil.rmtree(entry, ignore_errors=True)
            except OSError:
                continue  # alive, but another user's: not ours to touch


def _copy_or_link(src: str, dst: str) -> object:
    if not src.endswith(".py"):
        try:
            if os.stat(src).st_size > _LINK_ABOVE_BYTES:
                os.link(src, dst)
                return dst
        except OSError:
            pass  # another filesystem, or no hard links here: copy instead
    return shutil.copy2(src, dst)


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = set()
    for name in names:
        if name in SKIPPED_DIRS or (name.startswith(".") and Path(directory, name).is_dir()):
            skipped.add(name)
    return skipped


class CodeSnapshots:
    """Numbered snapshots of one project directory under a private temporary directory."""

    def __init__(self, source: Path) -> None:
        self.source = source
        _remove_orphans()
        self.root = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=snapshot_base()))
        self._taken: list[Path] = []
        #: Maps snapshot paths (every one starts with the root) back to `source`.
        self.rewrite = PathRewrite(f"{self.root}{os.sep}", str(source))

    def take(self) -> Path:
        """Copy the project now; returns the snapshot directory (blocking: use a thread)."""
        target = self.root / str(len(self._taken) + 1)
        shutil.copytree(
            self.source,
            target,
            ignore=_ignore,
            ignore_dangling_symlinks=True,
            symlinks=False,
            copy_function=_copy_or_link,
        )
        self._taken.append(target)
        return target

    def discard(self, snapshot: Path) -> None:
        """Drop a snapshot that was not used (its code failed to load)."""
        shutil.rmtree(snapshot, ignore_errors=True)

    def prune(self) -> None:
        """Remove all but the newest few snapshots (older code may still be finishing)."""
        for old in self._taken[:-_KEEP]:
            shutil.rmtree(old, ignore_errors=True)

    def close(self) -> None:
        """Remove every snapshot."""
        with contextlib.suppress(OSError):
            shutil.rmtree(self.root, ignore_errors=True)
