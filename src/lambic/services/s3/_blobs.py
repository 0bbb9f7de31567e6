"""Where object bytes live: files under `<state>/s3-blobs/`, or memory for tests.

Blob names are random ids, never derived from the object key, so no key (`../x`,
`/etc/passwd`, a NUL) can address a file outside the blob directory. A blob is
written to `tmp/` and renamed into place, and the metadata pointing at it is
committed only after the rename, so a crash leaves at worst an unreferenced file
(swept at startup), never an object pointing at half-written bytes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

_BLOB_ID = re.compile(r"[0-9a-f]{32}")

CHUNK = 256 * 1024
CACHE_OBJECT_BYTES = 64 * 1024
CACHE_TOTAL_BYTES = 32 * 1024 * 1024


class BlobStore(Protocol):
    """Immutable byte blobs addressed by opaque ids."""

    def put(self, data: bytes) -> str: ...

    def adopt(self, path: str) -> str:
        """Make the finished file at `path` (in `spool_directory`) a blob, by rename."""
        ...

    @property
    def spool_directory(self) -> str | None:
        """Where large request bodies are written as they arrive (the edge's spool)."""
        ...

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> bytes: ...

    def iter_range(self, blob_id: str, start: int, end: int) -> Iterator[bytes]: ...

    def concat(self, blob_ids: Iterable[str]) -> str: ...

    def copy(self, blob_id: str) -> str: ...

    def delete(self, blob_id: str) -> None: ...

    def referenced_only(self, live: set[str]) -> None: ...


def new_blob_id() -> str:
    return uuid.uuid4().hex


class FileBlobStore:
    """Blobs as files `<root>/<id[:2]>/<id>`; fan-out keeps directories small.

    Paths are built as strings (not `pathlib`): a PUT of a small object is dominated
    by per-call overhead, and this is its hottest path.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)
        self._tmp = os.path.join(self._root, "tmp")
        os.makedirs(self._tmp, exist_ok=True)
        # Anything left in tmp/ was being written when the process died.
        for leftover in os.listdir(self._tmp):
            os.unlink(os.path.join(self._tmp, leftover))
        self._made: set[str] = set()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached_bytes = 0

    def _path(self, blob_id: str) -> str:
        # Ids are generated here (hex); refuse anything else so a corrupted database
        # row can never point outside the blob directory either.
        if _BLOB_ID.fullmatch(blob_id) is None:
            raise ValueError(f"not a blob id: {blob_id!r}")
        return f"{self._root}/{blob_id[:2]}/{blob_id}"

    def _final(self, tmp: str, blob_id: str) -> str:
        target = self._path(blob_id)
        fan = blob_id[:2]
        if fan not in self._made:
            os.makedirs(os.path.join(self._root, fan), exist_ok=True)
            self._made.add(fan)
        os.replace(tmp, target)
        return blob_id

    def put(self, data: bytes) -> str:
        blob_id = new_blob_id()
        tmp = f"{self._tmp}/{blob_id}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)
        return self._final(tmp, blob_id)

    @property
    def spool_directory(self) -> str:
        # tmp/: on the blobs' file system (a rename is instant) and swept at startup, so
        # a spooled upload cut short by a crash leaves nothing behind either.
        return self._tmp

    def adopt(self, path: str) -> str:
        if os.path.dirname(path) != self._tmp:
            raise ValueError(f"not a spooled file: {path!r}")
        return self._final(path, new_blob_id())

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> bytes:
        cached = self._cache.get(blob_id)
        if cached is not None:
            self._cache.move_to_end(blob_id)
            return cached[start:end] if start or end is not None else cached
        with open(self._path(blob_id), "rb") as handle:
            if start or end is not None:
                handle.seek(start)
                return handle.read() if end is None else handle.read(end - start)
            data = handle.read()
        self._remember(blob_id, data)
        return data

    def _remember(self, blob_id: str, data: bytes) -> None:
        # Blobs never change once written, so a small read cache needs no invalidation
        # beyond forgetting deleted ids; it spares small GETs an open/read/close.
        if len(data) > CACHE_OBJECT_BYTES:
            return
        self._cache[blob_id] = data
        self._cached_bytes += len(data)
        while self._cached_bytes > CACHE_TOTAL_BYTES:
            _, evicted = self._cache.popitem(last=False)
            self._cached_bytes -= len(evicted)

    def iter_range(self, blob_id: str, start: int, end: int) -> Iterator[bytes]:
        # Opened before the first chunk is asked for, so a concurrent overwrite that
        # unlinks the file cannot cut a download short (POSIX keeps the inode alive).
        handle = open(self._path(blob_id), "rb")  # noqa: SIM115 - closed by the generator
        return _file_chunks(handle, start, end)

    def concat(self, blob_ids: Iterable[str]) -> str:
        blob_id = new_blob_id()
        tmp = f"{self._tmp}/{blob_id}"
        with open(tmp, "wb") as out:
            for part in blob_ids:
                with open(self._path(part), "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
        return self._final(tmp, blob_id)

    def copy(self, blob_id: str) -> str:
        new_id = new_blob_id()
        tmp = f"{self._tmp}/{new_id}"
        try:
            # Blobs are immutable, so a hard link is a safe, instant copy.
            os.link(self._path(blob_id), tmp)
        except OSError:
            shutil.copyfile(self._path(blob_id), tmp)
        return self._final(tmp, new_id)

    def delete(self, blob_id: str) -> None:
        cached = self._cache.pop(blob_id, None)
        if cached is not None:
            self._cached_bytes -= len(cached)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(blob_id))

    def referenced_only(self, live: set[str]) -> None:
        """Remove blob files no metadata row points at (left by a crash mid-write)."""
        for fan in os.listdir(self._root):
            folder = os.path.join(self._root, fan)
            if fan == "tmp" or not os.path.isdir(folder):
                continue
            for name in os.listdir(folder):
                if name not in live:
                    os.unlink(os.path.join(folder, name))


def _file_chunks(handle: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


class MemoryBlobStore:
    """Blobs in a dict: the in-memory mode used by tests and `--in-memory`."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        blob_id = new_blob_id()
        self._blobs[blob_id] = bytes(data)
        return blob_id

    @property
    def spool_directory(self) -> None:
        return None  # in-memory mode: bodies stay in memory, as everything else

    def adopt(self, path: str) -> str:
        with open(path, "rb") as handle:
            blob_id = self.put(handle.read())
        os.unlink(path)
        return blob_id

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> bytes:
        data = self._blobs[blob_id]
        return data[start:end] if start or end is not None else data

    def iter_range(self, blob_id: str, start: int, end: int) -> Iterator[bytes]:
        data = self._blobs[blob_id]
        return iter(
            [data[offset : min(end, offset + CHUNK)] for offset in range(start, end, CHUNK)]
        )

    def concat(self, blob_ids: Iterable[str]) -> str:
        return self.put(b"".join(self._blobs[part] for part in blob_ids))

    def copy(self, blob_id: str) -> str:
        return self.put(self._blobs[blob_id])

    def delete(self, blob_id: str) -> None:
        self._blobs.pop(blob_id, None)

    def referenced_only(self, live: set[str]) -> None:
        for blob_id in set(self._blobs) - live:
            del self._blobs[blob_id]
