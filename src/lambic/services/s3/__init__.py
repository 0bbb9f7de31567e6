"""S3-compatible object storage for the local cloud (REST-XML on the edge port).

Data flow: edge → `S3Service.handle` → `protocol` (addressing, dispatch, XML) →
`S3Engine` (semantics, listeners) → `S3Store` (SQLite metadata) + blob store
(`<state>/s3-blobs/`, bytes under random ids). Errors: `S3Error` (under the layer's
`ServiceError`) carries AWS's code, status and message.
"""

from __future__ import annotations

from lambic.services.s3.engine import ObjectEvent, ObjectListener, RequestContext, S3Engine
from lambic.services.s3.errors import S3Error
from lambic.services.s3.notifications import NotificationConfiguration, NotificationRule
from lambic.services.s3.service import S3Service, create_service

__all__ = [
    "NotificationConfiguration",
    "NotificationRule",
    "ObjectEvent",
    "ObjectListener",
    "RequestContext",
    "S3Engine",
    "S3Error",
    "S3Service",
    "create_service",
]
