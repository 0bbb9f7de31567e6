"""Multipart upload operations: create, upload part (and part copy), complete, abort, list."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Awaitable
from dataclasses import replace

from lambic._http_limits import parse_xml
from lambic.services.base import ServiceResponse
from lambic.services.s3 import encryption, multipart_checksums
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._objects import (
    check_copy_preconditions,
    checksum_elements,
    copy_source,
    parse_part_number,
    prepared,
    sse_headers,
    version_header,
    write_preconditions,
)
from lambic.services.s3._payload import (
    UploadedBody,
    attrs_from_headers,
    read_spooled_upload,
    read_upload,
)
from lambic.services.s3._wire import (
    document,
    element,
    iso_date,
    owner_xml,
    parse_range,
    x,
)
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import StoredObject, Upload


def _key(call: Call) -> str:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    return call.key


def _upload_id(call: Call) -> str:
    # A PUT with partNumber but no uploadId is routed here too: no such upload.
    return call.query.get("uploadId", "")


def create_upload(call: Call) -> ServiceResponse:
    attrs = prepared(call, attrs_from_headers(call.request.headers))
    checksum = multipart_checksums.requested(call.request.headers)
    if checksum is not None:
        attrs = replace(attrs, checksums={checksum.algorithm: ""}, checksum_type=checksum.kind)
    upload = call.engine.create_upload(call.bucket, _key(call), attrs)
    encrypted = encryption.response_headers(attrs, call.request.headers)
    if checksum is not None:
        encrypted.append(("x-amz-checksum-algorithm", checksum.algorithm))
        encrypted.append(("x-amz-checksum-type", checksum.kind))
    body = document(
        "InitiateMultipartUploadResult",
        element("Bucket", call.bucket)
        + element("Key", upload.key)
        + element("UploadId", upload.upload_id),
    )
    return xml_response(body, 200, encrypted)


def _upload_algorithm(call: Call) -> str | None:
    upload = call.engine.upload(call.bucket, _key(call), _upload_id(call))
    return next(iter(upload.attrs.checksums), None)


def _upload_encryption(call: Call) -> list[tuple[str, str]]:
    """Checks a part's SSE-C key against the upload's; the headers a part answers."""
    upload = call.engine.upload(call.bucket, _key(call), _upload_id(call))
    encryption.check_read(call.request.headers, upload.attrs, part=True)
    return encryption.response_headers(upload.attrs, call.request.headers)


def _part_number(call: Call) -> int:
    return parse_part_number(call.query.get("partNumber", ""))


def upload_part(call: Call) -> ServiceResponse | Awaitable[ServiceResponse]:
    number = _part_number(call)
    encrypted = _upload_encryption(call)
    wanted = _upload_algorithm(call)
    if call.request.body_file is not None:
        return _upload_spooled_part(call, number, wanted, encrypted)
    return _store_part(call, number, read_upload(call.request), wanted, encrypted)


async def _upload_spooled_part(
    call: Call, number: int, wanted: str | None, encrypted: list[tuple[str, str]]
) -> ServiceResponse:
    extra = () if wanted is None else (wanted,)
    upload = await read_spooled_upload(call.request, call.engine.blobs, extra)
    return _store_part(call, number, upload, wanted, encrypted)


def _store_part(
    call: Call,
    number: int,
    upload: UploadedBody,
    wanted: str | None,
    encrypted: list[tuple[str, str]],
) -> ServiceResponse:
    checksum = next(iter(upload.checksums.items()), None)
    if checksum is None and wanted is not None:
        # The upload asked for a checksum the part did not send: computed here.
        value = upload.computed(wanted)
        checksum = (wanted, value) if value is not None else None
    part = call.engine.upload_part(
        call.bucket,
        _key(call),
        _upload_id(call),
        number,
        upload.data,
        f"{checksum[0]}:{checksum[1]}" if checksum else None,
    )
    headers = [("ETag", part.etag), *encrypted]
    if checksum:
        headers.append((f"x-amz-checksum-{checksum[0].lower()}", checksum[1]))
    return empty_response(200, headers)


def upload_part_copy(call: Call) -> ServiceResponse:
    number = _part_number(call)
    headers = call.request.headers
    src = copy_source(call)
    encryption.check_read(headers, src.attrs, encryption.COPY_CUSTOMER)
    encrypted = _upload_encryption(call)
    check_copy_preconditions(headers, src)
    start, end = 0, src.size
    copy_range = headers.get("x-amz-copy-source-range")
    if copy_range:
        bounds = parse_range(copy_range, src.size)
        if bounds is None or not copy_range[6:].split("-")[0]:
            raise S3Error(
                "InvalidArgument",
                "The x-amz-copy-source-range value must be of the form bytes=first-last "
                "where first and last are the zero-based offsets of the first and last bytes "
                "to copy",
                ArgumentName="x-amz-copy-source-range",
                ArgumentValue=copy_range,
            )
        start, end = bounds
        last = copy_range[6:].split("-", 1)[1].strip()
        if last.isdigit() and int(last) >= src.size:
            # Unlike a GET's Range, a copy range past the source's end is not clipped.
            raise S3Error("InvalidRange", ActualObjectSize=src.size, RangeRequested=copy_range)
    data = call.engine.read(src, start, end)
    part = call.engine.upload_part(call.bucket, _key(call), _upload_id(call), number, data)
    body = document(
        "CopyPartResult",
        element("LastModified", iso_date(part.modified)) + element("ETag", part.etag),
    )
    if "?versionId=" in headers["x-amz-copy-source"]:
        encrypted.append(("x-amz-copy-source-version-id", src.version_id))
    return xml_response(body, 200, encrypted)


def _requested_parts(body: bytes) -> list[dict[str, str]]:
    """The complete request's parts: each one's fields (PartNumber, ETag, Checksum*)."""
    try:
        root = parse_xml(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    parts: list[dict[str, str]] = []
    for part in root:
        if part.tag.rsplit("}", 1)[-1] != "Part":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in part}
        if "ETag" not in fields or not fields.get("PartNumber", "").isdigit():
            raise S3Error("MalformedXML")
        parts.append(fields)
    return parts


def _with_checksums(call: Call, obj: StoredObject, parts: list[dict[str, str]]) -> StoredObject:
    """The assembled object with the checksum its upload asked for (and its parts')."""
    upload = call.engine.upload(call.bucket, obj.key, _upload_id(call))
    algorithm = next(iter(upload.attrs.checksums), None)
    if algorithm is None:
        return obj
    checksum = multipart_checksums.UploadChecksum(algorithm, upload.attrs.checksum_type)
    stored = {p.number: p for p in call.engine.store.list_parts(upload.upload_id)}
    numbers = [int(p["PartNumber"]) for p in parts]
    whole, values = multipart_checksums.complete(
        checksum,
        [stored[n].checksum for n in numbers],
        [p.get(f"Checksum{algorithm}") for p in parts],
        [stored[n].size for n in numbers],
        call.request.headers,
    )
    attrs = replace(
        obj.attrs,
        checksums={algorithm: whole} if whole else {},
        checksum_type=checksum.kind if checksum.kind == multipart_checksums.COMPOSITE else "",
        part_checksums=values,
    )
    return replace(obj, attrs=attrs)


async def complete_upload(call: Call) -> ServiceResponse:
    key = _key(call)
    parts = _requested_parts(call.request.body)
    requested = [(int(p["PartNumber"]), p["ETag"]) for p in parts]
    upload_id = _upload_id(call)
    done = call.engine.completed_upload(call.bucket, key, upload_id)
    if done is not None:  # completed already (which removed the upload): the same answer
        return _completed(call, key, done)
    # An SSE-C upload is completed with its key, as every part was sent (AWS).
    _upload_encryption(call)
    # Copying the parts is file I/O proportional to the object: off the event loop.
    # The commit (and the listeners it notifies) stays on the edge's thread.
    assembled = await asyncio.to_thread(
        call.engine.assemble_upload, call.bucket, key, upload_id, requested
    )
    try:
        assembled = _with_checksums(call, assembled, parts)
    except BaseException:
        call.engine.blobs.delete(assembled.blob)  # never committed: nothing points at it
        raise
    obj = call.engine.commit_upload(
        assembled,
        upload_id,
        context=call.context,
        preconditions=write_preconditions(call.request.headers),
    )
    return _completed(call, key, obj)


def _completed(call: Call, key: str, obj: StoredObject) -> ServiceResponse:
    body = document(
        "CompleteMultipartUploadResult",
        element("Location", f"{call.base_url}/{call.bucket}/{key}")
        + element("Bucket", call.bucket)
        + element("Key", key)
        + element("ETag", obj.etag)
        + checksum_elements(obj),
    )
    return xml_response(body, 200, [*sse_headers(call, obj), *version_header(obj)])


def abort_upload(call: Call) -> ServiceResponse:
    call.engine.abort_upload(call.bucket, _key(call), _upload_id(call))
    return empty_response(204)


def _int_param(call: Call, name: str, default: int) -> int:
    raw = call.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise S3Error(
            "InvalidArgument",
            f"Provided {name} not an integer or within integer range",
            ArgumentName=name,
            ArgumentValue=raw,
        ) from exc


def list_parts(call: Call) -> ServiceResponse:
    after = _int_param(call, "part-number-marker", 0)
    limit = max(0, min(_int_param(call, "max-parts", 1000), 1000))
    upload, parts, truncated = call.engine.list_parts(
        call.bucket, _key(call), _upload_id(call), after=after, limit=limit
    )
    items = "".join(
        f"<Part><PartNumber>{p.number}</PartNumber><LastModified>{iso_date(p.modified)}"
        f"</LastModified><ETag>{x(p.etag)}</ETag><Size>{p.size}</Size></Part>"
        for p in parts
    )
    next_marker = parts[-1].number if parts else 0
    body = document(
        "ListPartsResult",
        element("Bucket", call.bucket)
        + element("Key", upload.key)
        + element("UploadId", upload.upload_id)
        + _owners(call, upload)
        + element("StorageClass", "STANDARD")
        + element("PartNumberMarker", after)
        + element("NextPartNumberMarker", next_marker)
        + element("MaxParts", limit)
        + element("IsTruncated", "true" if truncated else "false")
        + items,
    )
    return xml_response(body)


def _owners(call: Call, upload: Upload) -> str:
    """`<Initiator>` and `<Owner>`: whoever created the upload (with identities; the
    default account's without)."""
    account = None
    if call.engine.identities is not None:
        account = call.engine.owner_account(upload.attrs.owner)
    return owner_xml("Initiator", account) + owner_xml(owner=account)


def list_uploads(call: Call) -> ServiceResponse:
    prefix = call.query.get("prefix", "")
    limit = max(0, min(_int_param(call, "max-uploads", 1000), 1000))
    uploads, truncated = call.engine.list_uploads(call.bucket, prefix=prefix, limit=limit)
    items = "".join(
        f"<Upload><Key>{x(u.key)}</Key><UploadId>{x(u.upload_id)}</UploadId>"
        f"{_owners(call, u)}<StorageClass>STANDARD</StorageClass>"
        f"<Initiated>{iso_date(u.initiated)}</Initiated></Upload>"
        for u in uploads
    )
    next_markers = ""
    if truncated and uploads:
        next_markers = element("NextKeyMarker", uploads[-1].key) + element(
            "NextUploadIdMarker", uploads[-1].upload_id
        )
    body = document(
        "ListMultipartUploadsResult",
        element("Bucket", call.bucket)
        + element("KeyMarker", "")
        + element("UploadIdMarker", "")
        + next_markers
        + f"<Prefix>{x(prefix)}</Prefix>"
        + element("MaxUploads", limit)
        + element("IsTruncated", "true" if truncated else "false")
        + items,
    )
    return xml_response(body)
