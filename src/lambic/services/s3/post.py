"""Browser form uploads: POST Object with a policy (boto3's `generate_presigned_post`).

A web page uploads straight to the bucket with a `multipart/form-data` POST carrying
the key, a base64 JSON policy, its signature and the file. AWS checks the policy:
not expired, every condition (`eq`, `starts-with`, `content-length-range`) holds, and
every form field is covered by a condition (except the signature fields, `file` and
`x-ignore-*`); we mirror that. The signature itself is verified at the edge when
`--require-auth` is set (`lambic.services.auth`), which calls `parse_form` too.
Responses follow `success_action_redirect` (303) / `success_action_status` (200,
201 with a `PostResponse` document, default 204), as on AWS.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import calendar
import hashlib
import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

from lambic._http_limits import parse_xml
from lambic.services.base import Headers, ServiceResponse
from lambic.services.s3 import authorize, encryption, principals
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._payload import STORED_HEADERS, Digests, staging_thread, validate_tags
from lambic.services.s3._wire import CHECKSUM_ALGORITHMS, XML_DECL, compare_checksums, element
from lambic.services.s3.engine import StagedBlob
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import ObjectAttrs

# Fields a policy need not mention (AWS: the signature fields, the file, x-ignore-*).
_EXEMPT = frozenset(
    {"awsaccesskeyid", "signature", "policy", "file", "x-amz-signature", "x-amz-security-token"}
    | {f"x-amz-checksum-{algorithm.lower()}" for algorithm in CHECKSUM_ALGORITHMS}
)
MAX_POST_BYTES = 5 * 1024 * 1024 * 1024


@dataclass
class Form:
    """A parsed upload form: text fields (names as sent) and the file part.

    A spooled form (`parse_spooled_form`) leaves `file` empty; its bytes are at
    `file_start` in the spooled body, `size` long."""

    fields: dict[str, str]
    file: bytes
    filename: str
    file_content_type: str | None
    size: int = -1
    file_start: int = 0

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.file)

    def get(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.fields.items() if k.lower() == lowered), None)


def _malformed() -> S3Error:
    return S3Error(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )


def _delimiter(content_type: str) -> bytes:
    boundary = None
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise _malformed()
    return b"--" + boundary.encode("latin-1")


def parse_form(content_type: str, body: bytes) -> Form:
    """Split a multipart/form-data body; the file must be the last field, as on AWS."""
    delimiter = _delimiter(content_type)
    fields: dict[str, str] = {}
    file_data: bytes | None = None
    filename = ""
    file_type: str | None = None
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, content = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise S3Error(
                "MalformedPOSTRequest",
                "The body of your POST request is not well-formed multipart/form-data.",
            )
        content = content.removesuffix(b"\r\n")
        disposition, part_type = _part_headers(head.decode("utf-8", "replace"))
        name = disposition.get("name", "")
        if name.lower() == "file":
            file_data, filename, file_type = content, disposition.get("filename", ""), part_type
            break  # AWS ignores anything after the file
        fields[name] = content.decode("utf-8", "replace")
    if file_data is None:
        raise S3Error(
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
            ArgumentName="file",
            ArgumentValue="0",
        )
    return Form(fields, file_data, filename, file_type)


# The fields before the file (key, policy, signature, metadata...) are small; a form
# whose file part does not start within this many bytes is refused as malformed.
_MAX_FIELDS_BYTES = 1024 * 1024
_READ_BYTES = 1024 * 1024


def parse_spooled_form(content_type: str, path: str) -> Form:
    """`parse_form` for a body spooled to `path`: the fields are read, the file part is
    located (`file_start`, `size`) without reading it into memory."""
    delimiter = _delimiter(content_type)
    with open(path, "rb") as handle:
        prefix = handle.read(_MAX_FIELDS_BYTES)
        fields: dict[str, str] = {}
        position = prefix.find(delimiter)
        while position >= 0:
            start = position + len(delimiter)
            if prefix[start : start + 2] == b"--":
                break
            head_end = prefix.find(b"\r\n\r\n", start)
            if head_end < 0:
                raise _malformed()
            head = prefix[start:head_end].lstrip(b"\r\n").decode("utf-8", "replace")
            disposition, part_type = _part_headers(head)
            name = disposition.get("name", "")
            content_start = head_end + 4
            if name.lower() == "file":
                end = _find_end(handle, content_start, b"\r\n" + delimiter)
                return Form(
                    fields,
                    b"",
                    disposition.get("filename", ""),
                    part_type,
                    size=end - content_start,
                    file_start=content_start,
                )
            position = prefix.find(delimiter, content_start)
            if position < 0:
                raise _malformed()
            fields[name] = (
                prefix[content_start:position].removesuffix(b"\r\n").decode("utf-8", "replace")
            )
    raise S3Error(
        "InvalidArgument",
        "POST requires exactly one file upload per request.",
        ArgumentName="file",
        ArgumentValue="0",
    )


def _find_end(handle: BinaryIO, start: int, marker: bytes) -> int:
    """Offset of the first `marker` at or after `start` (the end of the file part)."""
    handle.seek(start)
    offset = start
    carry = b""
    while piece := handle.read(_READ_BYTES):
        window = carry + piece
        found = window.find(marker)
        if found >= 0:
            return offset - len(carry) + found
        carry = window[-(len(marker) - 1) :]
        offset += len(piece)
    raise _malformed()


def copy_file_part(path: str, form: Form) -> tuple[str, bytes]:
    """Copy the file part of a spooled form to a file of its own beside it; (its path,
    its MD5 digest), computed in one bounded-memory pass."""
    target = f"{path}.file"
    digest = hashlib.md5()
    with open(path, "rb") as source, open(target, "wb") as out:
        source.seek(form.file_start)
        remaining = form.size
        while remaining > 0:
            piece = source.read(min(remaining, _READ_BYTES))
            if not piece:
                raise _malformed()
            digest.update(piece)
            out.write(piece)
            remaining -= len(piece)
    return target, digest.digest()


def _part_headers(head: str) -> tuple[dict[str, str], str | None]:
    disposition: dict[str, str] = {}
    part_type = None
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-disposition":
            for item in value.split(";")[1:]:
                key, _, raw = item.strip().partition("=")
                disposition[key.lower()] = raw.strip('"')
        elif name.strip().lower() == "content-type":
            part_type = value.strip()
    return disposition, part_type


def _denied(reason: str) -> S3Error:
    return S3Error("AccessDenied", f"Invalid according to Policy: {reason}")


def check_policy(form: Form, bucket: str, key: str, *, now: float) -> None:
    """Enforce the policy document as AWS does (signature checked at the edge)."""
    encoded = form.get("policy")
    if encoded is None:
        return  # an anonymous upload to a bucket that allows it
    try:
        policy: dict[str, Any] = json.loads(base64.b64decode(encoded, validate=True))
        expiration = calendar.timegm(
            time.strptime(str(policy["expiration"]).split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S")
        )
        conditions = list(policy.get("conditions", []))
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from exc
    if "conditions" not in policy:  # the field names are case-sensitive (AWS)
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'conditions' value.")
    if form.get("signature") is None and form.get("x-amz-signature") is None:
        raise S3Error(
            "InvalidArgument",
            "Bucket POST must contain a field named 'Signature'.  If it is specified, please "
            "check the order of the fields.",
            ArgumentName="Signature",
            ArgumentValue="",
        )
    if now > expiration:
        raise _denied("Policy expired.")
    values = {k.lower(): v for k, v in form.fields.items()}
    values["bucket"] = bucket
    values["key"] = key
    covered = {"bucket"}
    for condition in conditions:
        covered.add(_check_condition(condition, values, form.size))
    extra = [
        name
        for name in form.fields
        if name.lower() not in covered
        and name.lower() not in _EXEMPT
        and not name.lower().startswith("x-ignore-")
    ]
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")


def _check_condition(condition: Any, values: dict[str, str], size: int) -> str:
    """Check one condition; returns the field name it covers."""
    if isinstance(condition, dict) and len(condition) == 1:
        name, expected = next(iter(condition.items()))
        condition = ["eq", f"${name}", expected]
    if not isinstance(condition, list) or len(condition) != 3:
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid Simple-Condition.")
    operator = str(condition[0]).lower()
    if operator == "content-length-range":
        low, high = int(condition[1]), int(condition[2])
        if size < low:
            raise S3Error("EntityTooSmall", ProposedSize=size, MinSizeAllowed=low)
        if size > high:
            raise S3Error("EntityTooLarge", ProposedSize=size, MaxSizeAllowed=high)
        return "content-length-range"
    field = str(condition[1]).lstrip("$").lower()
    actual = values.get(field, "")
    expected = str(condition[2])
    holds = (
        actual == expected
        if operator == "eq"
        else (operator == "starts-with" and actual.startswith(expected))
    )
    if not holds:
        raise _denied(f"Policy Condition failed: {json.dumps(condition)}")
    return field


def post_object(call: Call) -> ServiceResponse | Awaitable[ServiceResponse]:
    """POST Object: store the form's file under its key, then answer as the form asks."""
    if call.request.body_file is not None:
        return _post_spooled(call, call.request.body_file.path)
    form = parse_form(call.request.headers.get("content-type", ""), call.request.body)
    key = _checked_key(call, form)
    return _store_form(call, form, key, form.file)


async def _post_spooled(call: Call, path: str) -> ServiceResponse:
    content_type = call.request.headers.get("content-type", "")
    form = await asyncio.to_thread(parse_spooled_form, content_type, path)
    key = _checked_key(call, form)
    copied, md5 = await staging_thread(lambda: copy_file_part(path, form), lambda r: r[0])
    try:
        blob = call.engine.blobs.adopt(copied)
    except BaseException:
        os.unlink(copied)
        raise
    return _store_form(call, form, key, StagedBlob(blob, form.size, f'"{md5.hex()}"'))


def _checked_key(call: Call, form: Form) -> str:
    template = form.get("key")
    if template is None:
        raise S3Error(
            "InvalidArgument",
            "Bucket POST must contain a field named 'key'.  If it "
            "is specified, please check the order of the fields.",
            ArgumentName="key",
            ArgumentValue="",
        )
    key = template.replace("${filename}", form.filename)
    check_policy(form, call.bucket, key, now=time.time())
    if form.get("policy") is None:  # unsigned: the bucket must let everyone write
        authorize.require_anonymous(call, "s3:PutObject", key)
    return key


def _store_form(call: Call, form: Form, key: str, data: bytes | StagedBlob) -> ServiceResponse:
    # Object headers come from form fields (the file part's own Content-Type is not
    # used, as on AWS); no Content-Type field means binary/octet-stream.
    stored = {name: value for name in STORED_HEADERS if (value := form.get(name)) is not None}
    stored.setdefault("Content-Type", "binary/octet-stream")
    metadata = {
        name.lower()[len("x-amz-meta-") :]: value
        for name, value in form.fields.items()
        if name.lower().startswith("x-amz-meta-")
    }
    tagging = form.get("tagging")
    tags = validate_tags(_tag_pairs(tagging)) if tagging else {}
    checksums = _form_checksums(call, form, data)
    # Encryption fields (SSE-S3/KMS/C) work as the same headers do on PUT.
    attrs = encryption.encrypt(
        Headers(form.fields.items()),
        ObjectAttrs(stored, metadata, checksums, 0, tags),
        call.engine.setting(call.bucket, encryption.SETTING),
    )
    identities = call.engine.identities
    if identities is not None:
        # A form signed with a configured key is that account's upload, one signed with
        # another key the default account's; an unsigned one's object is the bucket
        # owner's (`principals.written_owner`).
        signer = call.request.principal
        if signer is None and form.get("policy") is not None:
            signer = identities.default
        attrs = principals.owned(replace(call, principal=signer), attrs)
    obj = call.engine.put_object(
        call.bucket,
        key,
        data,
        attrs,
        context=call.context,
        event="ObjectCreated:Post",
    )
    location = f"{call.base_url}/{call.bucket}/{quote(key)}"
    response_headers = [("ETag", obj.etag), ("Location", location)]
    redirect = form.get("success_action_redirect") or form.get("redirect")
    if redirect:
        query = urlencode({"bucket": call.bucket, "key": key, "etag": obj.etag})
        joiner = "&" if "?" in redirect else "?"
        return empty_response(303, [("ETag", obj.etag), ("Location", f"{redirect}{joiner}{query}")])
    status = form.get("success_action_status")
    if status == "201":
        # AWS's PostResponse carries no namespace, unlike its other documents.
        body = (
            f"{XML_DECL}<PostResponse>{element('Location', location)}"
            f"{element('Bucket', call.bucket)}{element('Key', key)}"
            f"{element('ETag', obj.etag)}</PostResponse>"
        ).encode()
        return xml_response(body, 201, response_headers)
    return empty_response(200 if status == "200" else 204, response_headers)


def _form_checksums(call: Call, form: Form, data: bytes | StagedBlob) -> dict[str, str]:
    """The `x-amz-checksum-*` fields, checked against the file (400 BadDigest when one
    differs; a staged file is removed then, as nothing will point at it)."""
    claimed = {
        algorithm: value
        for algorithm in CHECKSUM_ALGORITHMS
        if (value := form.get(f"x-amz-checksum-{algorithm.lower()}"))
    }
    if not claimed:
        return {}
    digests = Digests(list(claimed))
    if isinstance(data, bytes):
        digests.update(data)
    else:
        for chunk in call.engine.blobs.iter_range(data.blob, 0, data.size):
            digests.update(chunk)
    try:
        return compare_checksums(claimed, digests.values())
    except S3Error:
        if isinstance(data, StagedBlob):
            call.engine.blobs.delete(data.blob)
        raise


def _tag_pairs(tagging: str) -> list[tuple[str, str]]:
    """The `tagging` form field is a `<Tagging>` XML document."""
    try:
        root = parse_xml(tagging)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    pairs = []
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in tag}
            pairs.append((fields.get("Key", ""), fields.get("Value", "")))
    return pairs
