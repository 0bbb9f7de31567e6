"""One S3 request on its way through the handlers: who, which bucket and key."""

from __future__ import annotations

from dataclasses import dataclass

from lambic.project.identities import Principal
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.s3.engine import RequestContext, S3Engine


@dataclass
class Call:
    request: ServiceRequest
    engine: S3Engine
    bucket: str
    key: str | None
    query: dict[str, str]
    context: RequestContext
    # No Authorization header and no presigned query: a browser or curl.
    anonymous: bool
    # What the client used to reach us, for Location values.
    base_url: str
    # Who signed it, when identities are configured (`principals`): the key's principal,
    # or the default account's root for a key not in the file. None: anonymous, or no
    # identities (one account, as always).
    principal: Principal | None = None


def xml_response(
    body: bytes, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> ServiceResponse:
    return ServiceResponse(status, [("Content-Type", "application/xml"), *(headers or [])], body)


def empty_response(
    status: int = 200, headers: list[tuple[str, str]] | None = None
) -> ServiceResponse:
    return ServiceResponse(status, headers or [], b"")
