"""Object tagging: GetObjectTagging / PutObjectTagging / DeleteObjectTagging."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from lambic._http_limits import parse_xml
from lambic.services.base import ServiceResponse
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._payload import validate_tags
from lambic.services.s3._wire import document, x
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import NULL_VERSION

MAX_BUCKET_TAGS = 50


def _key(call: Call) -> str:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    return call.key


def get_tagging(call: Call) -> ServiceResponse:
    obj = call.engine.head(call.bucket, _key(call), call.query.get("versionId"))
    # AWS answers the tag set ordered by key, whatever order it was sent in.
    tags = "".join(
        f"<Tag><Key>{x(k)}</Key><Value>{x(v)}</Value></Tag>"
        for k, v in sorted(obj.attrs.tags.items())
    )
    return xml_response(
        document("Tagging", f"<TagSet>{tags}</TagSet>"), 200, _version(obj.version_id)
    )


def _version(version_id: str) -> list[tuple[str, str]]:
    return [] if version_id == NULL_VERSION else [("x-amz-version-id", version_id)]


def _pairs(body: bytes) -> list[tuple[str, str]]:
    """The (key, value) pairs of a `<Tagging><TagSet>` document."""
    try:
        root = parse_xml(body)
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
    return pairs


def parse_bucket_tags(body: bytes) -> str:
    """PutBucketTagging: up to 50 tags, AWS's key/value limits, no `aws:` keys."""
    pairs = _pairs(body)
    if len(pairs) > MAX_BUCKET_TAGS:
        raise S3Error("InvalidTag", "Bucket tag count cannot be greater than 50")
    if any(key.lower().startswith("aws:") for key, _ in pairs):
        raise S3Error("InvalidTag", "System tags cannot be added/updated by requester")
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise S3Error(
                "InvalidTag", "Cannot provide multiple Tags with the same key", TagKey=key
            )
        tags.update(validate_tags([(key, value)]))  # AWS's key and value limits
    return json.dumps(tags)


def render_bucket_tags(stored: str) -> str:
    tags = "".join(
        f"<Tag><Key>{x(k)}</Key><Value>{x(v)}</Value></Tag>" for k, v in json.loads(stored).items()
    )
    return f"<TagSet>{tags}</TagSet>"


def put_tagging(call: Call) -> ServiceResponse:
    pairs = _pairs(call.request.body)
    obj = call.engine.set_tags(
        call.bucket, _key(call), validate_tags(pairs), call.query.get("versionId")
    )
    return empty_response(200, _version(obj.version_id))


def delete_tagging(call: Call) -> ServiceResponse:
    obj = call.engine.set_tags(call.bucket, _key(call), {}, call.query.get("versionId"))
    return empty_response(204, _version(obj.version_id))


HANDLERS = {"GET": get_tagging, "PUT": put_tagging, "DELETE": delete_tagging}
