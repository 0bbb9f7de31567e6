"""Object tagging: GetObjectTagging / PutObjectTagging / DeleteObjectTagging."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lambic.services.base import ServiceResponse
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._payload import validate_tags
from lambic.services.s3._wire import document, x
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import NULL_VERSION


def _key(call: Call) -> str:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    return call.key


def get_tagging(call: Call) -> ServiceResponse:
    obj = call.engine.head(call.bucket, _key(call), call.query.get("versionId"))
    tags = "".join(
        f"<Tag><Key>{x(k)}</Key><Value>{x(v)}</Value></Tag>" for k, v in obj.attrs.tags.items()
    )
    return xml_response(
        document("Tagging", f"<TagSet>{tags}</TagSet>"), 200, _version(obj.version_id)
    )


def _version(version_id: str) -> list[tuple[str, str]]:
    return [] if version_id == NULL_VERSION else [("x-amz-version-id", version_id)]


def put_tagging(call: Call) -> ServiceResponse:
    try:
        root = ET.fromstring(call.request.body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    pairs: list[tuple[str, str]] = []
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] != "Tag":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in tag}
        if "Key" not in fields:
            raise S3Error("MalformedXML")
        pairs.append((fields["Key"], fields.get("Value", "")))
    obj = call.engine.set_tags(
        call.bucket, _key(call), validate_tags(pairs), call.query.get("versionId")
    )
    return empty_response(200, _version(obj.version_id))


def delete_tagging(call: Call) -> ServiceResponse:
    obj = call.engine.set_tags(call.bucket, _key(call), {}, call.query.get("versionId"))
    return empty_response(204, _version(obj.version_id))


HANDLERS = {"GET": get_tagging, "PUT": put_tagging, "DELETE": delete_tagging}
