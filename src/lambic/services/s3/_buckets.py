"""Bucket-level S3 operations: create/head/delete/list buckets, listing, notifications."""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from lambic._http_limits import parse_xml
from lambic.project.identities import Account
from lambic.services.base import ServiceResponse
from lambic.services.s3 import access, acl, principals
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._wire import (
    document,
    element,
    iso_date,
    owner_xml,
    url_encode,
    x,
)
from lambic.services.s3.cors import render_cors
from lambic.services.s3.engine import DEFAULT_REGION
from lambic.services.s3.errors import S3Error
from lambic.services.s3.listing import ListingPage
from lambic.services.s3.notifications import render_notification
from lambic.services.s3.store import ListedObject


def list_buckets(call: Call) -> ServiceResponse:
    """ListBuckets, paged when `max-buckets` is given (AWS: names in order, an opaque
    ContinuationToken while more remain), filtered by `prefix` and `bucket-region`."""
    q = call.query
    prefix, region = q.get("prefix", ""), q.get("bucket-region")
    after = ""
    token = q.get("continuation-token")
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise S3Error(
                "InvalidArgument",
                "The continuation token provided is incorrect",
                ArgumentName="continuation-token",
            ) from exc
    limit = _max_buckets(q.get("max-buckets"))
    chosen = [
        b
        for b in call.engine.list_buckets()
        if b.name > after
        and b.name.startswith(prefix)
        and (region is None or b.region == region)
        and principals.owns_listing(call, b.owner)  # AWS lists the caller's own buckets
    ]
    page = chosen[:limit] if limit is not None else chosen
    buckets = "".join(
        f"<Bucket><Name>{x(b.name)}</Name><CreationDate>{iso_date(b.created)}</CreationDate>"
        f"<BucketRegion>{b.region}</BucketRegion></Bucket>"
        for b in page
    )
    tail = element("Prefix", prefix) if "prefix" in q else ""
    if len(page) < len(chosen):
        next_token = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        tail += element("ContinuationToken", next_token)
    return xml_response(
        document(
            "ListAllMyBucketsResult",
            f"{owner_xml(owner=_caller(call))}<Buckets>{buckets}</Buckets>{tail}",
        )
    )


def _caller(call: Call) -> Account | None:
    """The caller's account when identities are configured (None: the default one)."""
    return call.principal.account if call.principal is not None else None


def _max_buckets(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 10000:
        raise S3Error(
            "InvalidArgument",
            "Argument max-buckets must be an integer between 1 and 10000",
            ArgumentName="max-buckets",
            ArgumentValue=raw,
        )
    return int(raw)


def create_bucket(call: Call) -> ServiceResponse:
    region = DEFAULT_REGION
    body = call.request.body.strip()
    if body:
        try:
            root = parse_xml(body)
        except ET.ParseError as exc:
            raise S3Error("MalformedXML") from exc
        for child in root:
            if child.tag.rsplit("}", 1)[-1] == "LocationConstraint":
                constraint = (child.text or "").strip()
                # AWS refuses an explicit "us-east-1": that region is the absence of one.
                if not constraint or constraint == DEFAULT_REGION:
                    raise S3Error("InvalidLocationConstraint", LocationConstraint=constraint)
                region = constraint
    headers = call.request.headers
    lock = headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true"
    ownership = headers.get("x-amz-object-ownership")
    if ownership is not None:
        access.check_ownership_header(ownership)
    owner = principals.caller_owner(call)
    grants = acl.from_headers(headers, call.engine.owner_account(owner).canonical_id)
    if grants is not None:
        grants = principals.resolved(call, grants)
    if call.engine.create_bucket(call.bucket, region, object_lock=lock, owner=owner):
        if ownership:
            call.engine.put_setting(call.bucket, access.OWNERSHIP, ownership)
        if grants is not None:
            call.engine.put_setting(call.bucket, acl.SETTING, acl.to_json(grants))
    elif grants is not None or call.engine.setting(call.bucket, acl.SETTING) is not None:
        # Re-created in us-east-1 (200 OK there): AWS resets the bucket's ACL, to the
        # one this request asks for or to private.
        call.engine.put_setting(
            call.bucket, acl.SETTING, acl.to_json(grants) if grants is not None else None
        )
    return empty_response(200, [("Location", f"/{call.bucket}")])


def head_bucket(call: Call) -> ServiceResponse:
    bucket = call.engine.bucket(call.bucket)
    return empty_response(
        200,
        [("x-amz-bucket-region", bucket.region), ("x-amz-access-point-alias", "false")],
    )


def delete_bucket(call: Call) -> ServiceResponse:
    call.engine.delete_bucket(call.bucket)
    return empty_response(204)


def get_location(call: Call) -> ServiceResponse:
    region = call.engine.bucket(call.bucket).region
    # AWS answers an empty LocationConstraint for us-east-1.
    value = "" if region == DEFAULT_REGION else x(region)
    return xml_response(document("LocationConstraint", value))


def put_notification(call: Call) -> ServiceResponse:
    call.engine.put_notification(call.bucket, call.request.body)
    return empty_response(200)


def get_notification(call: Call) -> ServiceResponse:
    config = call.engine.notification_configuration(call.bucket)
    return xml_response(render_notification(config))


def _max_keys(call: Call, name: str = "max-keys") -> int:
    raw = call.query.get(name, "1000")
    try:
        value = int(raw)
    except ValueError as exc:
        raise S3Error(
            "InvalidArgument",
            "Provided max-keys not an integer or within integer range",
            ArgumentName=name,
            ArgumentValue=raw,
        ) from exc
    if value < 0:
        raise S3Error(
            "InvalidArgument",
            "Argument maxKeys must be an integer between 0 and 2147483647",
            ArgumentName="maxKeys",
            ArgumentValue=raw,
        )
    return min(value, 1000)


Encode = Callable[[str], str]


def _url_then_xml(text: str) -> str:
    return x(url_encode(text))


def _encoder(call: Call) -> tuple[str, Encode]:
    encoding = call.query.get("encoding-type")
    if encoding is None:
        return "", x
    if encoding != "url":
        raise S3Error(
            "InvalidArgument",
            "Invalid Encoding Method specified in Request",
            ArgumentName="encoding-type",
            ArgumentValue=encoding,
        )
    return element("EncodingType", "url"), _url_then_xml


def _contents(call: Call, items: list[ListedObject], enc: Encode, with_owner: bool) -> str:
    owner = owner_xml() if with_owner else ""
    owners = principals.listed_owners(call) if with_owner else None
    return "".join(
        f"<Contents><Key>{enc(item.key)}</Key><LastModified>{iso_date(item.modified)}"
        f"</LastModified><ETag>{x(item.etag)}</ETag>{_checksum(item)}<Size>{item.size}</Size>"
        f"{owners(item.owner) if owners else owner}<StorageClass>STANDARD</StorageClass>"
        "</Contents>"
        for item in items
    )


def _checksum(item: ListedObject) -> str:
    if item.checksum_alg is None:
        return ""
    return (
        f"<ChecksumAlgorithm>{item.checksum_alg}</ChecksumAlgorithm>"
        "<ChecksumType>FULL_OBJECT</ChecksumType>"
    )


def prefixes_xml(prefixes: list[str], enc: Encode) -> str:
    return "".join(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes)


@dataclass(frozen=True)
class Listing:
    """The parameters every ListObjects flavour (V2, V1, versions) shares, validated."""

    prefix: str
    delimiter: str
    max_keys: int
    encoding_xml: str
    enc: Encode

    @classmethod
    def of(cls, call: Call) -> Listing:
        max_keys = _max_keys(call)
        encoding_xml, enc = _encoder(call)
        q = call.query
        return cls(q.get("prefix", ""), q.get("delimiter", ""), max_keys, encoding_xml, enc)

    def page(self, call: Call, after: str) -> ListingPage:
        return call.engine.list_objects(
            call.bucket,
            prefix=self.prefix,
            delimiter=self.delimiter,
            after=after,
            max_keys=self.max_keys,
        )

    def head(self, call: Call, *, encode_prefix: bool = True) -> list[str]:
        """`<Name>` and `<Prefix>`, which every flavour opens with. ListObjects (v1)
        returns its Prefix as sent even under `encoding-type=url` (AWS; botocore decodes
        every other listing's Prefix, not v1's)."""
        prefix = self.enc(self.prefix) if encode_prefix else x(self.prefix)
        return [element("Name", call.bucket), f"<Prefix>{prefix}</Prefix>"]

    def delimiter_xml(self) -> str:
        return f"<Delimiter>{self.enc(self.delimiter)}</Delimiter>" if self.delimiter else ""


def list_objects_v2(call: Call) -> ServiceResponse:
    q = call.query
    listing = Listing.of(call)
    enc = listing.enc
    token = q.get("continuation-token")
    start_after = q.get("start-after", "")
    after = start_after
    if token is not None:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise S3Error(
                "InvalidArgument",
                "The continuation token provided is incorrect",
                ArgumentName="continuation-token",
            ) from exc
    page = listing.page(call, after)
    parts = listing.head(call)
    parts.append(listing.delimiter_xml())
    parts.append(element("MaxKeys", listing.max_keys))
    parts.append(listing.encoding_xml)
    parts.append(element("KeyCount", len(page.contents) + len(page.common_prefixes)))
    parts.append(element("IsTruncated", "true" if page.is_truncated else "false"))
    if token is not None:
        parts.append(element("ContinuationToken", token))
    if page.is_truncated:
        next_token = base64.urlsafe_b64encode(page.last.encode("utf-8")).decode()
        parts.append(element("NextContinuationToken", next_token))
    if start_after:
        parts.append(f"<StartAfter>{enc(start_after)}</StartAfter>")
    with_owner = q.get("fetch-owner") == "true"
    parts.append(_contents(call, page.contents, enc, with_owner))
    parts.append(prefixes_xml(page.common_prefixes, enc))
    return xml_response(document("ListBucketResult", "".join(parts)))


def list_objects_v1(call: Call) -> ServiceResponse:
    listing = Listing.of(call)
    enc = listing.enc
    marker = call.query.get("marker", "")
    page = listing.page(call, marker)
    parts = listing.head(call, encode_prefix=False)
    parts.append(f"<Marker>{enc(marker)}</Marker>")
    # AWS returns NextMarker only when a delimiter was given; without one the client
    # uses the last Key.
    if page.is_truncated and listing.delimiter:
        parts.append(f"<NextMarker>{enc(page.last)}</NextMarker>")
    parts.append(element("MaxKeys", listing.max_keys))
    parts.append(listing.delimiter_xml())
    parts.append(listing.encoding_xml)
    parts.append(element("IsTruncated", "true" if page.is_truncated else "false"))
    parts.append(_contents(call, page.contents, enc, True))
    parts.append(prefixes_xml(page.common_prefixes, enc))
    return xml_response(document("ListBucketResult", "".join(parts)))


def put_cors(call: Call) -> ServiceResponse:
    call.engine.put_cors(call.bucket, call.request.body)
    return empty_response(200)


def get_cors(call: Call) -> ServiceResponse:
    call.engine.bucket(call.bucket)  # NoSuchBucket before NoSuchCORSConfiguration
    rules = call.engine.cors_rules(call.bucket)
    if rules is None:
        raise S3Error(
            "NoSuchCORSConfiguration",
            "The CORS configuration does not exist",
            BucketName=call.bucket,
        )
    return xml_response(render_cors(rules))


def delete_cors(call: Call) -> ServiceResponse:
    call.engine.delete_cors(call.bucket)
    return empty_response(204)
