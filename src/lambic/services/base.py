"""What every local service shares: the request and response the edge hands around.

The edge (`edge.py`) turns an HTTP request into a `ServiceRequest`, picks the service
the way an AWS client addresses it, awaits `Service.handle`, and writes the
`ServiceResponse` back. A service never sees the socket, so each one can be tested by
calling `handle` directly, and the edge can be tested with a fake service.

Errors: `ServiceError` is the root of the layer. Services turn their own failures into
the AWS error shape of their protocol before returning; anything that escapes is a
bug, and the edge answers it with a 500 `InternalError` in the service's shape.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, TypeVar, overload, runtime_checkable
from urllib.parse import parse_qsl, unquote

if TYPE_CHECKING:
    from lambic.project.identities import Principal

_T = TypeVar("_T")


class ServiceError(Exception):
    """Root of the services layer's exceptions."""


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued HTTP headers; `[name]` gives the first value.

    HTTP header names are case-insensitive and AWS clients vary the case
    (`x-amz-target` vs `X-Amz-Target`), so lookups fold case.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)
        self._index: dict[str, list[str]] = {}
        for name, value in self._items:
            self._index.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()][0]

    @overload
    def get(self, name: str, /) -> str | None: ...

    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...

    def get(self, name: str, /, default: object = None) -> object:
        # Mapping.get goes through __getitem__ and a KeyError; this is every
        # request's hottest call, so it looks up directly.
        values = self._index.get(name.lower())
        return values[0] if values else default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get_all(self, name: str) -> list[str]:
        """Every value sent for `name`, in order (e.g. repeated `x-amz-meta-*`)."""
        return list(self._index.get(name.lower(), ()))

    def raw_items(self) -> list[tuple[str, str]]:
        """The headers exactly as received, names in their original case."""
        return list(self._items)


@dataclass(frozen=True)
class SigningContext:
    """A verified SigV4 signature's parts, for services that check more signatures.

    S3's signed streaming uploads sign every chunk with the same key, chaining from
    the request's (seed) signature; the edge fills this in after verifying the seed.
    """

    key: bytes
    timestamp: str
    scope: str
    seed_signature: str


@dataclass(frozen=True)
class SpooledBody:
    """A request body the edge wrote to a file instead of memory (large S3 uploads).

    The file lives in the service's spool directory (`SpoolingService`), on the same
    file system as its blobs, so a service keeps it by renaming it into place. Whatever
    is left at `path` once the request is answered is removed by the edge.
    `sha256`: the body's hex SHA-256 when the client declared one to check, else None.
    """

    path: str
    size: int
    sha256: str | None = None

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


@dataclass(frozen=True)
class ServiceRequest:
    """One HTTP request as a service sees it.

    `path` and `query_string` are raw (still percent-encoded): S3 keys and SigV4
    canonical requests depend on the exact bytes the client sent. A large upload's
    body is in `body_file` instead of `body` (which is then empty). `principal`: who
    signed it, when the edge verified a configured identity's key (None: anonymous,
    or the default account).
    """

    method: str
    path: str
    query_string: str
    headers: Headers
    body: bytes
    client_host: str = "127.0.0.1"
    host: str = ""
    signing: SigningContext | None = None
    body_file: SpooledBody | None = None
    principal: Principal | None = None

    @cached_property
    def query_params(self) -> list[tuple[str, str]]:
        """Decoded query parameters in order; a bare `?uploads` gives ("uploads", "")."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    @cached_property
    def query(self) -> dict[str, str]:
        """Decoded query parameters, the last value winning for a repeated name."""
        return dict(self.query_params)

    @cached_property
    def decoded_path(self) -> str:
        return unquote(self.path)


@dataclass
class ServiceResponse:
    """What a service answers. `stream`, when set, is sent instead of `body`."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None


class Service(Protocol):
    """A local AWS service behind the edge port."""

    name: str

    async def handle(self, request: ServiceRequest) -> ServiceResponse: ...

    def close(self) -> None: ...


@runtime_checkable
class SpoolingService(Protocol):
    """A service with uploads (S3): requests `takes_upload` names may be as large as the
    service's upload limit, and are given as files (`ServiceRequest.body_file`) written
    under `spool_directory` as they arrive; None keeps them in memory."""

    @property
    def spool_directory(self) -> str | None: ...

    def takes_upload(self, head: ServiceRequest) -> bool:
        """Whether this request (headers only, empty body) carries an upload."""
        ...

    def refuse_at_head(self, head: ServiceRequest) -> ServiceResponse | None:
        """The answer to a request (headers only) that asks `Expect: 100-continue` and
        is refused whatever its body (S3: an unsigned upload the bucket does not allow);
        None lets the body come."""
        ...
