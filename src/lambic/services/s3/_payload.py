"""Reading an upload off the wire: aws-chunked framing, Content-MD5, checksums, metadata."""

from __future__ import annotations

from urllib.parse import parse_qsl

from lambic.services.base import Headers, ServiceRequest
from lambic.services.s3._chunked import decode_aws_chunked
from lambic.services.s3._wire import CHECKSUM_ALGORITHMS, verify_checksums, verify_content_md5
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import ObjectAttrs

# System headers S3 stores with an object and returns on GET/HEAD, by their
# canonical spelling.
STORED_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Content-Disposition",
    "Content-Language",
    "Cache-Control",
    "Expires",
    "x-amz-website-redirect-location",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-bucket-key-enabled",
)
_SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
MAX_METADATA_BYTES = 2048  # AWS: user-defined metadata is limited to 2 KB
MAX_PUT_BYTES = 5 * 1024 * 1024 * 1024
MAX_TAGS = 10


class UploadedBody:
    """The body of a PUT/UploadPart after framing is removed and integrity checked."""

    __slots__ = ("checksums", "data", "trailers")

    def __init__(self, data: bytes, checksums: dict[str, str], trailers: dict[str, str]) -> None:
        self.data = data
        self.checksums = checksums
        self.trailers = trailers


def read_upload(request: ServiceRequest) -> UploadedBody:
    headers = request.headers
    body = request.body
    trailers: dict[str, str] = {}
    sha_header = headers.get("x-amz-content-sha256", "")
    if sha_header.startswith("STREAMING-") or "aws-chunked" in headers.get("content-encoding", ""):
        decoded = decode_aws_chunked(body, request.signing)
        body, trailers = decoded.data, decoded.trailers
        declared = headers.get("x-amz-decoded-content-length")
        if declared is not None and declared.isdigit() and int(declared) != len(body):
            raise S3Error("IncompleteBody")
    if len(body) > MAX_PUT_BYTES:
        raise S3Error("EntityTooLarge", ProposedSize=len(body), MaxSizeAllowed=MAX_PUT_BYTES)
    md5 = headers.get("content-md5")
    if md5 is not None:
        verify_content_md5(md5, body)
    claimed: dict[str, str] = {}
    for algorithm in CHECKSUM_ALGORITHMS:
        name = f"x-amz-checksum-{algorithm.lower()}"
        value = trailers.get(name) or headers.get(name)
        if value:
            claimed[algorithm] = value
    verify_checksums(claimed, body)
    return UploadedBody(body, claimed, trailers)


def attrs_from_headers(headers: Headers, checksums: dict[str, str] | None = None) -> ObjectAttrs:
    """The object attributes a PUT / CreateMultipartUpload / REPLACE copy sets."""
    stored: dict[str, str] = {}
    for name in STORED_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        if name == "Content-Encoding":
            # aws-chunked is transfer framing, not a property of the object.
            value = ",".join(
                token for token in (t.strip() for t in value.split(",")) if token != "aws-chunked"
            )
            if not value:
                continue
        stored[name] = value
    stored.setdefault("Content-Type", "binary/octet-stream")
    sse = stored.get("x-amz-server-side-encryption")
    if sse is not None and sse not in _SSE_ALGORITHMS:
        raise S3Error(
            "InvalidArgument",
            "The encryption method specified is not supported",
            ArgumentName="x-amz-server-side-encryption",
            ArgumentValue=sse,
        )
    storage_class = headers.get("x-amz-storage-class")
    if storage_class and storage_class != "STANDARD":
        stored["x-amz-storage-class"] = storage_class
    metadata: dict[str, str] = {}
    size = 0
    for name, value in headers.raw_items():
        lower = name.lower()
        if lower.startswith("x-amz-meta-"):
            meta_name = lower[len("x-amz-meta-") :]
            metadata[meta_name] = value
            size += len(meta_name.encode()) + len(value.encode())
    if size > MAX_METADATA_BYTES:
        raise S3Error("MetadataTooLarge", Size=size, MaxSizeAllowed=MAX_METADATA_BYTES)
    tagging = headers.get("x-amz-tagging")
    tags = validate_tags(parse_qsl(tagging, keep_blank_values=True)) if tagging else {}
    return ObjectAttrs(stored, metadata, dict(checksums or {}), 0, tags)


def validate_tags(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """AWS's object tag limits: 10 tags, keys up to 128 and values up to 256 characters."""
    if len(pairs) > MAX_TAGS:
        raise S3Error("BadRequest", "Object tags cannot be greater than 10")
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise S3Error(
                "InvalidTag", "Cannot provide multiple Tags with the same key", TagKey=key
            )
        if not 1 <= len(key) <= 128:
            raise S3Error("InvalidTag", "The TagKey you have provided is invalid", TagKey=key)
        if len(value) > 256:
            raise S3Error(
                "InvalidTag",
                "The TagValue you have provided is invalid",
                TagKey=key,
                TagValue=value,
            )
        tags[key] = value
    return tags
