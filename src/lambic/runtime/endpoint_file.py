"""Who serves a stage's local services: the state lock and the endpoint file.

The local services keep a stage's data in `.lambic/state/<stage>/` (SQLite files and
S3's blobs). Each engine assumes it alone writes there (S3's blob files beside its
index, SQS receipt handles, stream sequence numbers), so exactly one process at a
time opens engines over a stage's state; every other process reaches them over HTTP.

    services.lock   an exclusive `flock` held by the process whose engines have the
                    state open: `lambic local`, or `lambic invoke` for one invocation.
                    The kernel drops it when that process exits, however it exits, so
                    a crash never leaves a stage locked. The holder writes its pid
                    into it, only so that messages can name it.
    local.json      `{"url": ..., "pid": ...}`, written by `lambic local` once its edge
                    listens and removed when it stops cleanly.

Why a lock and not only the pid in local.json: the file can only be written once the
edge listens, so between `lambic local` opening its engines and writing the file a
second process would find no file and open a second set of engines; and two processes
that both find no file would both write one. `flock` is atomic, so of two processes
starting together exactly one wins. local.json answers the other question: where to
reach the winner. A file whose pid is dead or whose URL does not answer (a killed
`lambic local`) is ignored and replaced by the next `lambic local`.

    lock = ServicesLock(paths.services_lock("dev"))
    if lock.try_acquire():      # nobody has the engines open: open them here
        ...
        lock.release()
    endpoint = live_endpoint(paths.local_endpoint("dev"))   # or None
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

__all__ = [
    "LocalEndpoint",
    "ServicesLock",
    "live_endpoint",
    "read_endpoint",
    "remove_endpoint",
    "write_endpoint",
]


@dataclass(frozen=True)
class LocalEndpoint:
    """A running `lambic local`'s services: their URL and that process's pid."""

    url: str
    pid: int


def read_endpoint(path: Path) -> LocalEndpoint | None:
    """The endpoint file as written (None if absent or unreadable), live or not."""
    try:
        data = json.loads(path.read_text("utf-8"))
        return LocalEndpoint(url=str(data["url"]), pid=int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_endpoint(path: Path, *, timeout: float = 2.0) -> LocalEndpoint | None:
    """The endpoint file's services if its process is alive and its URL answers."""
    endpoint = read_endpoint(path)
    if endpoint is None or not _process_alive(endpoint.pid) or not _answers(endpoint.url, timeout):
        return None
    return endpoint


def write_endpoint(path: Path, url: str, pid: int | None = None) -> LocalEndpoint:
    """Record `url` as this process's services (written whole: readers never see half)."""
    endpoint = LocalEndpoint(url, os.getpid() if pid is None else pid)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{endpoint.pid}")
    temporary.write_text(json.dumps({"url": endpoint.url, "pid": endpoint.pid}) + "\n", "utf-8")
    os.replace(temporary, path)
    return endpoint


def remove_endpoint(path: Path, pid: int | None = None) -> None:
    """Remove the endpoint file if it still names `pid` (default: this process)."""
    endpoint = read_endpoint(path)
    if endpoint is not None and endpoint.pid == (os.getpid() if pid is None else pid):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class ServicesLock:
    """The exclusive lock on one state directory's service engines (see the module doc)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def try_acquire(self) -> bool:
        """Take the lock without waiting; False if another process holds it."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Opened without truncating: the holder's pid must survive a failed attempt.
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def holder(self) -> int | None:
        """The pid the current holder wrote, if any (for messages only)."""
        try:
            return int(self.path.read_text("utf-8").strip())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            # Closing the descriptor releases the flock.
            handle.close()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _answers(url: str, timeout: float) -> bool:
    """Any HTTP answer counts: the edge is listening (a dead port refuses at once)."""
    import http.client  # here: `lambic services` and `lambic local` start without it

    parts = urlsplit(url)
    if not parts.hostname or parts.port is None:
        return False
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return True
