"""Where object bytes live: files under `<state>/s3-blobs/`, or memory for tests.

Blob names are random ids, never derived from the object key, so no key (`../x`,
`/etc/passwd`, a NUL) can address a file outside the blob directory. A blob is
written to `tmp/` and renamed into place, and the metadata pointing at it is
committed only after the rename, so a crash leaves at worst an unreferenced file
(swept at startup), never an object pointing at half-written bytes.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

CHUNK = 256 * 1024


class BlobStore(Protocol):
    """Immutable byte blobs addressed by opaque ids."""

    def put(self, data: bytes) -> str: ...

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> bytes: ...

    def iter_range(self, blob_id: str, start: int, end: int) -> Iterator[bytes]: ...

    def concat(self, blob_ids: Iterable[str]) -> str: ...

    def copy(self, blob_id: str) -> str: ...

    def delete(self, blob_id: str) -> None: ...

    def referenced_only(self, live: set[str]) -> None: ...


def new_blob_id() -> str:
    return uuid.uuid4().hex


class FileBlobStore:
    """Blobs as files `<root>/<id[:2]>/<id>`; fan-out keeps directories small."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        # Anything left in tmp/ was being written when the process died.
        for leftover in self._tmp.iterdir():
            leftover.unlink(missing_ok=True)
        self._made: set[str] = set()

    def _path(self, blob_id: str) -> Path:
        # Ids are generated here (hex); refuse anything else so a corrupted database
        # row can never point outside the blob directory either.
        if len(blob_id) != 32 or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.root / blob_id[:2] / blob_id

    def _final(self, tmp: Path, blob_id: str) -> str:
        target = self._path(blob_id)
        fan = blob_id[:2]
        if fan not in self._made:
            target.parent.mkdir(exist_ok=True)
            self._made.add(fan)
        os.replace(tmp, target)
        return blob_id

    def put(self, data: bytes) -> str:
        blob_id = new_blob_id()
        tmp = self._tmp / blob_id
        with open(tmp, "wb") as handle:
            handle.write(data)
        return self._final(tmp, blob_id)

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> bytes:
        with open(self._path(blob_id), "rb") as handle:
            if start:
                handle.seek(start)
            return handle.read() if end is None else handle.read(end - start)

    def iter_range(self, blob_id: str, start: int, end: int) -> Iterator[bytes]:
        # Opened before the first chunk is asked for, so a concurrent overwrite that
        # unlinks the file cannot cut a download short (POSIX keeps the inode alive).
        handle = open(self._path(blob_id), "rb")  # noqa: SIM115 - closed by the generator
        return _file_chunks(handle, start, end)

    def concat(self, blob_ids: Iterable[str]) -> str:
        blob_id = new_blob_id()
        tmp = self._tmp / blob_id
        with open(tmp, "wb") as out:
            for part in blob_ids:
                with open(self._path(part), "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
        return self._final(tmp, blob_id)

    def copy(self, blob_id: str) -> str:
        new_id = new_blob_id()
        tmp = self._tmp / new_id
        try:
            # Blobs are immutable, so a hard link is a safe, instant copy.
            os.link(self._path(blob_id), tmp)
        except OSError:
            shutil.copyfile(self._path(blob_id), tmp)
        return self._final(tmp, new_id)

    def delete(self, blob_id: str) -> None:
        self._path(blob_id).unlink(missing_ok=True)

    def referenced_only(self, live: set[str]) -> None:
        """Remove blob files no metadata row points at (left by a crash mid-write)."""
        for fan in self.root.iterdir():
            if fan.name == "tmp" or not fan.is_dir():
                continue
            for blob in fan.iterdir():
                if blob.name not in live:
                    blob.unlink(missing_ok=True)


def _file_chunks(handle: object, start: int, end: int) -> Iterator[bytes]:
    from io import BufferedReader

    if not isinstance(handle, BufferedReader):
        raise TypeError("expected a binary file")
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
