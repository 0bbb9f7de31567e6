"""Versioning and Object Lock on the wire: PutBucketVersioning, ListObjectVersions,
Put/GetObjectLockConfiguration, Put/GetObjectRetention, Put/GetObjectLegalHold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace

from lambic._http_limits import parse_xml
from lambic.services.base import ServiceResponse
from lambic.services.s3 import object_lock, principals
from lambic.services.s3._buckets import Encode, Listing, prefixes_xml
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._wire import document, element, iso_date, owner_xml, x
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import StoredObject


def _key(call: Call) -> str:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    return call.key


# -- versioning ----------------------------------------------------------------------


def get_versioning(call: Call) -> ServiceResponse:
    status = call.engine.bucket(call.bucket).versioning
    inner = element("Status", status) if status else ""
    return xml_response(document("VersioningConfiguration", inner))


def put_versioning(call: Call) -> ServiceResponse:
    try:
        root = parse_xml(call.request.body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in root}
    if "MfaDelete" in fields and fields["MfaDelete"] not in ("Enabled", "Disabled"):
        raise S3Error("MalformedXML")
    if fields.get("MfaDelete") == "Enabled":
        # AWS requires the root account's MFA device (x-amz-mfa) to change MFA delete.
        raise S3Error(
            "InvalidRequest",
            "DevPay and Mfa are mutually exclusive authorization methods.",
        )
    status = fields.get("Status")
    if status is None:
        return empty_response(200)  # AWS accepts a document without Status as a no-op
    call.engine.put_versioning(call.bucket, status)
    return empty_response(200)


def _version_xml(
    version: StoredObject, latest: bool, enc: Encode, owners: Callable[[str | None], str] | None
) -> str:
    owner = owners(version.attrs.owner) if owners is not None else owner_xml()
    head = (
        f"<Key>{enc(version.key)}</Key><VersionId>{x(version.version_id)}</VersionId>"
        f"<IsLatest>{'true' if latest else 'false'}</IsLatest>"
        f"<LastModified>{iso_date(version.modified)}</LastModified>"
    )
    if version.delete_marker:
        return f"<DeleteMarker>{head}{owner}</DeleteMarker>"
    storage = version.attrs.headers.get("x-amz-storage-class", "STANDARD")
    return (
        f"<Version>{head}<ETag>{x(version.etag)}</ETag><Size>{version.size}</Size>"
        f"{owner}<StorageClass>{storage}</StorageClass></Version>"
    )


def list_versions(call: Call) -> ServiceResponse:
    """ListObjectVersions: every version and delete marker, newest first per key."""
    q = call.query
    listing = Listing.of(call)
    enc = listing.enc
    key_marker = q.get("key-marker", "")
    version_marker = q.get("version-id-marker", "")
    if version_marker and not key_marker:
        raise S3Error(
            "InvalidArgument",
            "A version-id marker cannot be specified without a key marker.",
            ArgumentName="version-id-marker",
            ArgumentValue=version_marker,
        )
    page = call.engine.list_versions(
        call.bucket,
        prefix=listing.prefix,
        delimiter=listing.delimiter,
        key_marker=key_marker,
        version_marker=version_marker,
        max_keys=listing.max_keys,
    )
    parts = listing.head(call)
    parts.append(f"<KeyMarker>{enc(key_marker)}</KeyMarker>")
    parts.append(element("VersionIdMarker", version_marker))
    if page.is_truncated:
        parts.append(f"<NextKeyMarker>{enc(page.next_key_marker)}</NextKeyMarker>")
        if page.next_version_marker:
            parts.append(element("NextVersionIdMarker", page.next_version_marker))
    parts.append(element("MaxKeys", listing.max_keys))
    parts.append(listing.delimiter_xml())
    parts.append(listing.encoding_xml)
    parts.append(element("IsTruncated", "true" if page.is_truncated else "false"))
    owners = principals.listed_owners(call)
    parts.extend(_version_xml(version, latest, enc, owners) for version, latest in page.versions)
    parts.append(prefixes_xml(page.common_prefixes, enc))
    return xml_response(document("ListVersionsResult", "".join(parts)))


# -- object lock ---------------------------------------------------------------------


def put_lock_configuration(call: Call) -> ServiceResponse:
    call.engine.bucket(call.bucket)
    setting = object_lock.parse_configuration(call.request.body)
    call.engine.put_object_lock(call.bucket, setting)
    return empty_response(200)


def get_lock_configuration(call: Call) -> ServiceResponse:
    call.engine.bucket(call.bucket)
    stored = call.engine.setting(call.bucket, object_lock.SETTING)
    if stored is None:
        raise S3Error("ObjectLockConfigurationNotFoundError", BucketName=call.bucket)
    return xml_response(
        document("ObjectLockConfiguration", object_lock.render_configuration(stored))
    )


def _locked_version(call: Call) -> StoredObject:
    key = _key(call)
    call.engine.bucket(call.bucket)
    if call.engine.setting(call.bucket, object_lock.SETTING) is None:
        raise object_lock.missing_configuration()
    return call.engine.head(call.bucket, key, call.query.get("versionId"))


def _bypass(call: Call) -> bool:
    header = call.request.headers.get("x-amz-bypass-governance-retention", "")
    return header.lower() == "true"


def put_retention(call: Call) -> ServiceResponse:
    version = _locked_version(call)
    lock = object_lock.parse_retention(
        call.request.body, version.attrs.lock, call.engine.clock(), _bypass(call)
    )
    call.engine.update_attrs(version, replace(version.attrs, lock=lock))
    return empty_response(200)


def get_retention(call: Call) -> ServiceResponse:
    version = _locked_version(call)
    return xml_response(document("Retention", object_lock.render_retention(version.attrs.lock)))


def put_legal_hold(call: Call) -> ServiceResponse:
    version = _locked_version(call)
    status = object_lock.parse_legal_hold(call.request.body)
    lock = {**version.attrs.lock, "hold": status}
    call.engine.update_attrs(version, replace(version.attrs, lock=lock))
    return empty_response(200)


def get_legal_hold(call: Call) -> ServiceResponse:
    version = _locked_version(call)
    return xml_response(document("LegalHold", object_lock.render_legal_hold(version.attrs.lock)))
