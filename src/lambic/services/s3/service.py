"""The S3 service object the edge serves, and its factory."""

from __future__ import annotations

from pathlib import Path

from lambic.project.identities import Identities
from lambic.project.sqlite import Durability, open_database
from lambic.services._metering import Meter
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.s3._blobs import BlobStore, FileBlobStore, MemoryBlobStore
from lambic.services.s3._metering import stored_bytes
from lambic.services.s3.engine import S3Engine
from lambic.services.s3.protocol import S3Protocol, is_upload
from lambic.services.s3.store import S3Store


class S3Service:
    """S3 on the edge port: `handle` speaks REST-XML; `engine` is for in-process users."""

    name = "s3"

    def __init__(self, engine: S3Engine) -> None:
        self.engine = engine
        self._protocol = S3Protocol(engine)

    @property
    def spool_directory(self) -> str | None:
        """The edge writes large uploads here (`SpoolingService`); see `_blobs`."""
        return self.engine.blobs.spool_directory

    def takes_upload(self, head: ServiceRequest) -> bool:
        """PutObject, UploadPart and POST form uploads: bodies up to 5 GiB (`SpoolingService`)."""
        return is_upload(head)

    def refuse_at_head(self, head: ServiceRequest) -> ServiceResponse | None:
        """An unsigned request the bucket does not allow, refused before its body
        (`SpoolingService`), as S3 answers it instead of 100 Continue."""
        return self._protocol.refuse_at_head(head)

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        return await self._protocol.handle(request)

    def use_meter(self, meter: Meter | None, database: Path | None) -> None:
        """Count requests by pricing class into `meter`, and sample what `database`
        (this service's SQLite file) stores."""
        self._protocol.meter = meter
        if meter is not None and database is not None:
            meter.sample(lambda: stored_bytes(database))

    def close(self) -> None:
        self.engine.flush_discards()
        self.engine.store.conn.close()


def create_service(
    state_dir: Path | None,
    *,
    durability: Durability = "normal",
    meter: Meter | None = None,
    identities: Identities | None = None,
) -> S3Service:
    """S3 with state in `<state_dir>/s3.sqlite3` + `<state_dir>/s3-blobs/`, or in memory;
    requests and storage are metered into `meter` when given; with `identities`,
    buckets and objects belong to the accounts that made them (`principals`).

    >>> service = create_service(None)
    >>> service.engine.create_bucket("photos")
    True
    """
    blobs: BlobStore
    if state_dir is None:
        conn = open_database(None)
        blobs = MemoryBlobStore()
    else:
        conn = open_database(state_dir / "s3.sqlite3", durability=durability)
        blobs = FileBlobStore(state_dir / "s3-blobs")
    service = S3Service(S3Engine(S3Store(conn), blobs, identities=identities))
    if meter is not None:
        service.use_meter(meter, None if state_dir is None else state_dir / "s3.sqlite3")
    return service
