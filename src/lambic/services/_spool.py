"""Request bodies written to a file as they arrive, for the edge's large uploads.

The edge opens a `BodySpool` in the addressed service's spool directory when a request
is an upload (`SpoolingService.takes_upload`), writes each piece of body httptools
hands it, and passes the finished file on as `ServiceRequest.body_file`. Memory stays
at one read's worth whatever the body's size; a spool abandoned mid-body is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid

from lambic.services.base import SpooledBody

__all__ = ["BodySpool"]


class BodySpool:
    """A request body being written to a file as it arrives (`SpooledBody` once done).

    `sha256`: also hash it, when the client declared a payload hash to check.
    """

    __slots__ = ("_digest", "_fd", "path", "size")

    def __init__(self, directory: str, sha256: bool) -> None:
        self.path = os.path.join(directory, f"spool-{uuid.uuid4().hex}")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._digest = hashlib.sha256() if sha256 else None
        self.size = 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if self._digest is not None:
            self._digest.update(data)
        self.size += len(data)

    def finish(self) -> SpooledBody:
        os.close(self._fd)
        self._fd = -1
        digest = self._digest.hexdigest() if self._digest is not None else None
        return SpooledBody(self.path, self.size, digest)

    def discard(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
