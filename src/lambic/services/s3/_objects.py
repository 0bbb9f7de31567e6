"""Object-level S3 operations: put, get/head (ranges, conditions), delete, copy."""

from __future__ import annotations

import email.header
import math
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from functools import partial

from lambic._http_limits import parse_xml
from lambic.services.base import Headers, ServiceResponse
from lambic.services.s3 import authorize, encryption, object_lock, principals
from lambic.services.s3._acls import with_acl
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._payload import (
    UploadedBody,
    attrs_from_headers,
    read_spooled_upload,
    read_upload,
)
from lambic.services.s3._wire import (
    decode_uri_part,
    document,
    element,
    http_date,
    iso_date,
    parse_http_date,
    parse_range,
    x,
)
from lambic.services.s3.engine import Preconditions, RemovalCheck, etag_matches
from lambic.services.s3.errors import S3Error
from lambic.services.s3.object_lock import check_removal
from lambic.services.s3.store import NULL_VERSION, ObjectAttrs, StoredObject

STREAM_THRESHOLD = 1024 * 1024

# GetObject's response-* query parameters and the header each overrides.
_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def write_preconditions(headers: Headers) -> Preconditions:
    return Preconditions(headers.get("if-match"), headers.get("if-none-match"))


def put_object(call: Call) -> ServiceResponse | Awaitable[ServiceResponse]:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    headers = call.request.headers
    if "content-length" not in headers and "transfer-encoding" not in headers:
        raise S3Error("MissingContentLength")  # AWS: 411, whatever the body
    if call.request.body_file is not None:
        return _put_spooled(call)
    upload = read_upload(call.request)
    return _store(
        call, upload, prepared(call, attrs_from_headers(call.request.headers, upload.checksums))
    )


async def _put_spooled(call: Call) -> ServiceResponse:
    # Headers are checked before the (long) pass over the body.
    attrs = prepared(call, attrs_from_headers(call.request.headers))
    upload = await read_spooled_upload(call.request, call.engine.blobs)
    return _store(call, upload, replace(attrs, checksums=dict(upload.checksums)))


def _store(call: Call, upload: UploadedBody, attrs: ObjectAttrs) -> ServiceResponse:
    obj = call.engine.put_object(
        call.bucket,
        call.key or "",
        upload.data,
        attrs,
        context=call.context,
        preconditions=write_preconditions(call.request.headers),
    )
    headers = [("ETag", obj.etag), *sse_headers(call, obj), *version_header(obj)]
    headers.extend(_checksum_headers(obj))
    return empty_response(200, headers)


def sse_headers(call: Call, obj: StoredObject) -> list[tuple[str, str]]:
    return encryption.response_headers(obj.attrs, call.request.headers)


# Headers a write may carry that add to what is stored (lock, ACL, encryption).
_WRITE_OPTIONS = ("x-amz-object-lock-", "x-amz-acl", "x-amz-grant-", encryption.SSE)


def prepared(call: Call, attrs: ObjectAttrs) -> ObjectAttrs:
    """`attrs` with what a write adds from the request and the bucket: object lock,
    ACL and encryption."""
    engine, headers = call.engine, call.request.headers
    default = engine.setting(call.bucket, encryption.SETTING)
    if (
        default is None
        and engine.setting(call.bucket, object_lock.SETTING) is None
        and not any(name.startswith(_WRITE_OPTIONS) for name in headers)
    ):
        # The common PUT: one scan of the header names, nothing to add but its owner
        # (with identities).
        return principals.owned(call, attrs)
    return encryption.encrypt(headers, with_acl(call, locked(call, attrs)), default)


def locked(call: Call, attrs: ObjectAttrs) -> ObjectAttrs:
    """`attrs` with the object lock this write sets (headers or the bucket's default)."""
    setting = call.engine.setting(call.bucket, object_lock.SETTING)
    lock = object_lock.lock_from_headers(call.request.headers, setting, call.engine.clock())
    return replace(attrs, lock=lock) if lock else attrs


def version_header(obj: StoredObject, asked: bool = False) -> list[tuple[str, str]]:
    """`x-amz-version-id`: AWS names a version when there is one (or it was asked for)."""
    if obj.version_id == NULL_VERSION and not asked:
        return []
    return [("x-amz-version-id", obj.version_id)]


def _checksum_headers(obj: StoredObject, part: int = 0) -> list[tuple[str, str]]:
    """The object's checksum headers (or, for a part GET, that part's checksum)."""
    if not obj.attrs.checksums:
        return []
    kind = obj.attrs.checksum_type or "FULL_OBJECT"
    if part:
        if not obj.attrs.part_checksums:
            return []
        algorithm = next(iter(obj.attrs.checksums))
        value = obj.attrs.part_checksums[part - 1]
        return [(f"x-amz-checksum-{algorithm.lower()}", value), ("x-amz-checksum-type", kind)]
    headers = [(f"x-amz-checksum-{alg.lower()}", v) for alg, v in obj.attrs.checksums.items()]
    headers.append(("x-amz-checksum-type", kind))
    return headers


def checksum_elements(obj: StoredObject) -> str:
    """`<ChecksumSHA256>...<ChecksumType>` for CopyObject / CompleteMultipartUpload."""
    checksums = "".join(
        element(f"Checksum{algorithm}", value) for algorithm, value in obj.attrs.checksums.items()
    )
    if checksums:
        checksums += element("ChecksumType", obj.attrs.checksum_type or "FULL_OBJECT")
    return checksums


def _header_value(value: str) -> str:
    """A metadata value for a response header, which goes out as ISO-8859-1 (what SDKs
    read it as, so "é" comes back "é"); beyond that charset, RFC 2047's mail-safe form,
    as AWS documents for non-ASCII metadata."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return email.header.Header(value, "utf-8").encode()
    return value


def object_headers(obj: StoredObject, call: Call) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = [
        ("ETag", obj.etag),
        ("Last-Modified", http_date(obj.modified)),
        ("Accept-Ranges", "bytes"),
        *version_header(obj, "versionId" in call.query),
    ]
    overrides = {
        header: call.query[param] for param, header in _OVERRIDES.items() if param in call.query
    }
    stored = dict(obj.attrs.headers)
    stored.update(overrides)
    if "x-amz-server-side-encryption" not in stored:
        headers.extend(encryption.response_headers(obj.attrs, call.request.headers))
    headers.extend(stored.items())
    headers.extend(
        (f"x-amz-meta-{name}", _header_value(value)) for name, value in obj.attrs.metadata.items()
    )
    if obj.attrs.parts and "partNumber" in call.query:
        # AWS names the part count only when a part was asked for.
        headers.append(("x-amz-mp-parts-count", str(obj.attrs.parts)))
    if obj.attrs.tags:
        headers.append(("x-amz-tagging-count", str(len(obj.attrs.tags))))
    if obj.attrs.lock:
        headers.extend(object_lock.lock_headers(obj.attrs.lock))
    return headers


def check_read_preconditions(headers: Headers, obj: StoredObject) -> int | None:
    """AWS's order: If-Match → 412 (it wins over If-Unmodified-Since), If-None-Match →
    304 (it wins over If-Modified-Since). Returns 304, or None to serve."""
    if_match = headers.get("if-match")
    if if_match is not None:
        if not etag_matches(if_match, obj.etag):
            raise S3Error("PreconditionFailed", Condition="If-Match")
    else:
        since = headers.get("if-unmodified-since")
        stamp = parse_http_date(since) if since else None
        if stamp is not None and math.floor(obj.modified) > stamp:
            raise S3Error("PreconditionFailed", Condition="If-Unmodified-Since")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return 304 if etag_matches(if_none_match, obj.etag) else None
    since = headers.get("if-modified-since")
    stamp = parse_http_date(since) if since else None
    if stamp is not None and math.floor(obj.modified) <= stamp:
        return 304
    return None


def get_object(call: Call, *, head: bool = False) -> ServiceResponse:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    obj = call.engine.head(call.bucket, call.key, call.query.get("versionId"))
    return serve_object(call, obj, head=head)


def serve_object(call: Call, obj: StoredObject, *, head: bool) -> ServiceResponse:
    request_headers = call.request.headers
    part = call.query.get("partNumber")
    if part is not None:
        # A part the object lacks is InvalidPart before any SSE-C key is asked for.
        part_bounds(obj, part)
    encryption.check_read(request_headers, obj.attrs)
    if check_read_preconditions(request_headers, obj) == 304:
        return empty_response(304, [("ETag", obj.etag), ("Last-Modified", http_date(obj.modified))])
    headers = object_headers(obj, call)
    start, end, status = 0, obj.size, 200
    range_header = request_headers.get("range")
    if part is not None:
        if range_header:
            raise S3Error(
                "InvalidRequest", "Cannot specify both Range header and partNumber query parameter"
            )
        start, end = part_bounds(obj, part)
        status = 206
        # AWS names a part's own checksum when a part is asked for.
        headers.extend(_checksum_headers(obj, parse_part_number(part)))
        headers.append(("Content-Range", f"bytes {start}-{max(start, end - 1)}/{obj.size}"))
    elif range_header:
        bounds = parse_range(range_header, obj.size)
        if bounds is not None:
            start, end = bounds
            status = 206
            headers.append(("Content-Range", f"bytes {start}-{end - 1}/{obj.size}"))
    if status == 200 and request_headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
        # AWS returns the whole-object checksum only when the whole object is served.
        headers.extend(_checksum_headers(obj))
    headers.append(("Content-Length", str(end - start)))
    if head:
        return ServiceResponse(status, headers, b"")
    if end - start > STREAM_THRESHOLD:
        chunks = call.engine.blobs.iter_range(obj.blob, start, end)
        return ServiceResponse(status, headers, b"", _async_chunks(chunks))
    data = (
        call.engine.read(obj, start, end)
        if (start, end) != (0, obj.size)
        else call.engine.read(obj)
    )
    return ServiceResponse(status, headers, data)


def _bad_part_number(raw: str) -> S3Error:
    return S3Error(
        "InvalidArgument",
        "Part number must be an integer between 1 and 10000, inclusive",
        ArgumentName="partNumber",
        ArgumentValue=raw,
    )


def parse_part_number(raw: str) -> int:
    """The `partNumber` query parameter as an int (its range is checked where it is used)."""
    try:
        return int(raw)
    except ValueError as exc:
        raise _bad_part_number(raw) from exc


def part_bounds(obj: StoredObject, raw: str) -> tuple[int, int]:
    """Byte range of part `raw` of an object (a simple upload is one part), as AWS."""
    number = parse_part_number(raw)
    sizes = obj.attrs.part_sizes or (obj.size,)
    if not 1 <= number <= 10000:
        raise _bad_part_number(raw)
    if number > len(sizes):
        # A part the object does not have is 400 InvalidPart (AWS, as the Ceph s3-tests
        # that pass against AWS expect), a simple object's only part being 1.
        raise S3Error("InvalidPart", PartNumber=number)
    start = sum(sizes[: number - 1])
    return start, start + sizes[number - 1]


async def _async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def delete_object(call: Call) -> ServiceResponse:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    deletion = call.engine.delete_object(
        call.bucket,
        call.key,
        version_id=call.query.get("versionId"),
        check=removal_check(call),
        context=call.context,
    )
    headers: list[tuple[str, str]] = []
    if deletion.delete_marker:
        headers.append(("x-amz-delete-marker", "true"))
    if deletion.version_id is not None:
        headers.append(("x-amz-version-id", deletion.version_id))
    return empty_response(204, headers)


def removal_check(call: Call) -> RemovalCheck:
    """Object lock's veto on removing a version, with this request's bypass header."""
    bypass = call.request.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"
    return partial(check_removal, now=call.engine.clock(), bypass=bypass)


def delete_objects(call: Call) -> ServiceResponse:
    try:
        root = parse_xml(call.request.body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    quiet = False
    keys: list[tuple[str, str | None]] = []
    for child in root:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "Quiet":
            quiet = (child.text or "").strip().lower() == "true"
        elif tag == "Object":
            fields = {c.tag.rsplit("}", 1)[-1]: c.text or "" for c in child}
            if "Key" not in fields:
                raise S3Error("MalformedXML")
            keys.append((fields["Key"], fields.get("VersionId")))
    # AWS: 1 to 1,000 keys per request.
    if not keys or len(keys) > 1000:
        raise S3Error("MalformedXML")
    call.engine.bucket(call.bucket)
    check = removal_check(call)
    results: list[str] = []
    for key, version_id in keys:
        version_xml = element("VersionId", version_id) if version_id else ""
        try:
            if not _may_delete(call, key, version_id):
                raise S3Error("AccessDenied")
            deletion = call.engine.delete_object(
                call.bucket, key, version_id=version_id, check=check, context=call.context
            )
        except S3Error as error:
            results.append(
                f"<Error><Key>{x(key)}</Key>{version_xml}<Code>{error.code}</Code>"
                f"<Message>{x(error.message)}</Message></Error>"
            )
            continue
        if quiet:
            continue
        marker = ""
        if deletion.delete_marker:
            marker = element("DeleteMarker", "true")
            if version_id is None and deletion.version_id is not None:
                marker += element("DeleteMarkerVersionId", deletion.version_id)
        results.append(f"<Deleted><Key>{x(key)}</Key>{version_xml}{marker}</Deleted>")
    return xml_response(document("DeleteResult", "".join(results)))


def _may_delete(call: Call, key: str, version_id: str | None) -> bool:
    """S3 decides each key of a DeleteObjects as its own s3:DeleteObject (or
    s3:DeleteObjectVersion): the bucket policy, then grants, for that key's ARN."""
    if call.anonymous:
        return authorize.allows_delete(call, key, version_id)
    if call.principal is None:
        return True  # one account: its explicit Denies were checked for the request
    name = "s3:DeleteObjectVersion" if version_id else "s3:DeleteObject"
    return principals.allowed(call, name, call.bucket, key, version_id)


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """`x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, URL-encoded."""
    raw, _, version = value.partition("?versionId=")
    bucket, _, key = decode_uri_part(raw).lstrip("/").partition("/")
    if not bucket or not key:
        raise S3Error(
            "InvalidArgument",
            "Invalid copy source object key",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=value,
        )
    return bucket, key, version or None


def copy_source(call: Call) -> StoredObject:
    """The object (or version) `x-amz-copy-source` names."""
    bucket, key, version = parse_copy_source(call.request.headers["x-amz-copy-source"])
    return call.engine.head(bucket, key, version)


def check_copy_preconditions(headers: Headers, src: StoredObject) -> None:
    """x-amz-copy-source-if-* → 412, as AWS evaluates them for CopyObject/UploadPartCopy."""
    if_match = headers.get("x-amz-copy-source-if-match")
    if if_match is not None and not etag_matches(if_match, src.etag):
        raise S3Error("PreconditionFailed", Condition="x-amz-copy-source-If-Match")
    if_none_match = headers.get("x-amz-copy-source-if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, src.etag):
        raise S3Error("PreconditionFailed", Condition="x-amz-copy-source-If-None-Match")
    since = headers.get("x-amz-copy-source-if-unmodified-since")
    stamp = parse_http_date(since) if since else None
    if if_match is None and stamp is not None and math.floor(src.modified) > stamp:
        raise S3Error("PreconditionFailed", Condition="x-amz-copy-source-If-Unmodified-Since")
    since = headers.get("x-amz-copy-source-if-modified-since")
    stamp = parse_http_date(since) if since else None
    if if_none_match is None and stamp is not None and math.floor(src.modified) <= stamp:
        raise S3Error("PreconditionFailed", Condition="x-amz-copy-source-If-Modified-Since")


def _copy_directive(headers: Headers, what: str) -> str:
    """`x-amz-{what}-directive` of CopyObject: COPY (the default) or REPLACE."""
    name = f"x-amz-{what}-directive"
    directive = headers.get(name, "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error(
            "InvalidArgument",
            f"Unknown {what} directive.",
            ArgumentName=name,
            ArgumentValue=directive,
        )
    return directive


def copy_object(call: Call) -> ServiceResponse:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    headers = call.request.headers
    bucket, key, version = parse_copy_source(headers["x-amz-copy-source"])
    directive = _copy_directive(headers, "metadata")
    src = call.engine.head(bucket, key, version)
    encryption.check_read(headers, src.attrs, encryption.COPY_CUSTOMER)
    check_copy_preconditions(headers, src)
    attrs = attrs_from_headers(headers) if directive == "REPLACE" else None
    storage_class = headers.get("x-amz-storage-class")
    if attrs is None and storage_class and storage_class != "STANDARD":
        # A new storage class makes even a copy onto itself legal (AWS).
        attrs = replace(
            src.attrs, headers={**src.attrs.headers, "x-amz-storage-class": storage_class}
        )
    tagging = _copy_directive(headers, "tagging")
    if tagging == "REPLACE":
        # New tags from x-amz-tagging, whatever the metadata directive says.
        replaced = attrs_from_headers(headers)
        attrs = replace(attrs if attrs is not None else src.attrs, tags=replaced.tags)
    elif attrs is not None:
        attrs = replace(attrs, tags=src.attrs.tags)
    # The copy is a new version: its lock comes from this request (or the target
    # bucket's default), never from the source.
    setting = call.engine.setting(call.bucket, object_lock.SETTING)
    lock = object_lock.lock_from_headers(headers, setting, call.engine.clock())
    if attrs is not None or lock:
        attrs = replace(attrs if attrs is not None else src.attrs, lock=lock)
    attrs = _copy_encryption(call, src, attrs)
    owned: Callable[[ObjectAttrs], ObjectAttrs] | None = None
    if call.engine.identities is not None:
        with_acl(call, ObjectAttrs())  # an ACL the bucket refuses is refused before copying

        def owned(copied: ObjectAttrs) -> ObjectAttrs:
            # The copy is the copier's (its ACL from this request, private by default),
            # not the source's owner's; set in the copy's own commit, so no crash can
            # leave the source's owner and grants on it.
            return with_acl(call, replace(copied, acl=None))

    obj = call.engine.copy_object(
        (bucket, key),
        (call.bucket, call.key),
        attrs,
        source_version=version,
        context=call.context,
        finish=owned,
    )
    checksums = checksum_elements(obj)
    body = document(
        "CopyObjectResult",
        element("LastModified", iso_date(obj.modified)) + element("ETag", obj.etag) + checksums,
    )
    response_headers = [*sse_headers(call, obj), *version_header(obj)]
    if version is not None:
        response_headers.append(("x-amz-copy-source-version-id", src.version_id))
    return xml_response(body, 200, response_headers)


def _copy_encryption(
    call: Call, src: StoredObject, attrs: ObjectAttrs | None
) -> ObjectAttrs | None:
    """A copy is encrypted as its request (or the target bucket's default) says, never
    as its source was; None (keep the source's attributes) when that changes nothing."""
    base = attrs if attrs is not None else src.attrs
    kept = {k: v for k, v in base.headers.items() if not k.startswith(encryption.SSE)}
    for name in (encryption.SSE, encryption.KMS_KEY, encryption.BUCKET_KEY):
        value = call.request.headers.get(name)
        if value is not None:
            kept[name] = value
    default = call.engine.setting(call.bucket, encryption.SETTING)
    new = encryption.encrypt(call.request.headers, replace(base, headers=kept, sse={}), default)
    if attrs is None and (new.headers, new.sse) == (src.attrs.headers, src.attrs.sse):
        return None
    return new
