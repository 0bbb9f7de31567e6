"""GetObjectAttributes: an object's ETag, checksum, parts, storage class and size
without its bytes, as S3 answers it (only the attributes asked for)."""

from __future__ import annotations

from lambic.services.base import ServiceResponse
from lambic.services.s3 import encryption
from lambic.services.s3._call import Call, xml_response
from lambic.services.s3._objects import version_header
from lambic.services.s3._wire import document, element, http_date
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import StoredObject

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")


def _int_header(call: Call, name: str, default: int) -> int:
    raw = call.request.headers.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise S3Error("InvalidArgument", ArgumentName=name, ArgumentValue=raw) from exc
    if value < 0:
        raise S3Error("InvalidArgument", ArgumentName=name, ArgumentValue=raw)
    return value


def _requested(call: Call) -> list[str]:
    raw = call.request.headers.get("x-amz-object-attributes", "")
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        raise S3Error(
            "InvalidRequest",
            "The x-amz-object-attributes header specifying the attributes to be retrieved "
            "is either missing or empty",
        )
    for name in names:
        if name not in ATTRIBUTES:
            raise S3Error(
                "InvalidArgument",
                "Invalid attribute name specified.",
                ArgumentName="x-amz-object-attributes",
                ArgumentValue=name,
            )
    return names


def _parts(call: Call, obj: StoredObject) -> str:
    sizes = obj.attrs.part_sizes
    marker = _int_header(call, "x-amz-part-number-marker", 0)
    limit = min(_int_header(call, "x-amz-max-parts", 1000), 1000)
    chosen = list(enumerate(sizes, start=1))[marker : marker + limit]
    truncated = marker + limit < len(sizes)
    inner = element("PartsCount", len(sizes))  # TotalPartsCount on the wire
    inner += element("PartNumberMarker", marker)
    if chosen:
        inner += element("NextPartNumberMarker", chosen[-1][0])
    inner += element("MaxParts", limit)
    inner += element("IsTruncated", "true" if truncated else "false")
    algorithm = next(iter(obj.attrs.checksums), "")
    sums = obj.attrs.part_checksums
    inner += "".join(
        f"<Part>{element('PartNumber', number)}{element('Size', size)}"
        + (element(f"Checksum{algorithm}", sums[number - 1]) if sums else "")
        + "</Part>"
        for number, size in chosen
    )
    return f"<ObjectParts>{inner}</ObjectParts>"


def get_object_attributes(call: Call) -> ServiceResponse:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    names = _requested(call)
    obj = call.engine.head(call.bucket, call.key, call.query.get("versionId"))
    encryption.check_read(call.request.headers, obj.attrs)
    parts: list[str] = []
    if "ETag" in names:
        parts.append(element("ETag", obj.etag.strip('"')))
    if "Checksum" in names and obj.attrs.checksums:
        values = "".join(
            element(f"Checksum{algorithm}", value)
            for algorithm, value in obj.attrs.checksums.items()
        )
        kind = obj.attrs.checksum_type or "FULL_OBJECT"
        parts.append(f"<Checksum>{values}{element('ChecksumType', kind)}</Checksum>")
    if "ObjectParts" in names and obj.attrs.parts:
        parts.append(_parts(call, obj))
    if "StorageClass" in names:
        storage = obj.attrs.headers.get("x-amz-storage-class", "STANDARD")
        parts.append(element("StorageClass", storage))
    if "ObjectSize" in names:
        parts.append(element("ObjectSize", obj.size))
    headers = [("Last-Modified", http_date(obj.modified)), *version_header(obj)]
    return xml_response(document("GetObjectAttributesResponse", "".join(parts)), 200, headers)
