"""Access control lists for buckets and objects: canned ACLs, grant headers and
AccessControlPolicy documents, validated as S3 validates them and returned in its shape.

A grant is {"type": "CanonicalUser" | "Group" | "AmazonCustomerByEmail", "id" | "uri" |
"email": ..., "permission": ...}. An ACL is stored as the JSON list of its grants (a
bucket's under the "acl" setting, an object version's in `ObjectAttrs.acl`); none
stored means the owner's FULL_CONTROL, which is what S3 gives a new bucket or object.

Stored, not enforced: request authorization is unchanged (see docs/internals.md).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from lambic._http_limits import parse_xml
from lambic.services.base import Headers
from lambic.services.s3._wire import OWNER_ID, document, element, owner_fields, owner_xml
from lambic.services.s3.errors import S3Error

SETTING = "acl"
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
GROUPS = "http://acs.amazonaws.com/groups/"
ALL_USERS = GROUPS + "global/AllUsers"
AUTHENTICATED_USERS = GROUPS + "global/AuthenticatedUsers"
LOG_DELIVERY = GROUPS + "s3/LogDelivery"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_GRANT_HEADERS = {
    "x-amz-grant-full-control": "FULL_CONTROL",
    "x-amz-grant-read": "READ",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-write-acp": "WRITE_ACP",
}
_OWNER = {"type": "CanonicalUser", "id": OWNER_ID, "permission": "FULL_CONTROL"}

Grant = dict[str, str]


def _group(uri: str, permission: str) -> Grant:
    return {"type": "Group", "uri": uri, "permission": permission}


# Canned ACL → the grants it adds to the owner's FULL_CONTROL. The local cloud has one
# account, so "bucket-owner-*" grant the owner what it already has.
CANNED: dict[str, list[Grant]] = {
    "private": [],
    "public-read": [_group(ALL_USERS, "READ")],
    "public-read-write": [_group(ALL_USERS, "READ"), _group(ALL_USERS, "WRITE")],
    "authenticated-read": [_group(AUTHENTICATED_USERS, "READ")],
    "aws-exec-read": [],
    "bucket-owner-read": [],
    "bucket-owner-full-control": [],
    "log-delivery-write": [_group(LOG_DELIVERY, "WRITE"), _group(LOG_DELIVERY, "READ_ACP")],
}


def canned(name: str) -> list[Grant]:
    if name not in CANNED:
        raise S3Error("InvalidArgument", ArgumentName="x-amz-acl", ArgumentValue=name)
    return [dict(_OWNER), *CANNED[name]]


def _header_grantees(name: str, value: str) -> list[Grant]:
    grants: list[Grant] = []
    for item in value.split(","):
        kind, _, raw = item.strip().partition("=")
        target = raw.strip().strip('"')
        kind = kind.strip().lower()
        if kind == "id":
            grants.append({"type": "CanonicalUser", "id": target})
        elif kind == "uri":
            grants.append({"type": "Group", "uri": target})
        elif kind == "emailaddress":
            grants.append({"type": "AmazonCustomerByEmail", "email": target})
        else:
            raise S3Error("InvalidArgument", ArgumentName=name, ArgumentValue=value)
    return grants


def from_headers(headers: Headers) -> list[Grant] | None:
    """The ACL `x-amz-acl` or the `x-amz-grant-*` headers set; None when neither."""
    name = headers.get("x-amz-acl")
    granted = [(h, p) for h, p in _GRANT_HEADERS.items() if h in headers]
    if name is not None and granted:
        raise S3Error(
            "InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed"
        )
    if name is not None:
        return canned(name)
    if not granted:
        return None
    grants: list[Grant] = []
    for header, permission in granted:
        for grantee in _header_grantees(header, headers[header]):
            grants.append({**grantee, "permission": permission})
    return grants


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def from_document(body: bytes) -> list[Grant]:
    """A PutBucketAcl / PutObjectAcl AccessControlPolicy, validated."""
    try:
        root = parse_xml(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedACLError") from exc
    lists = [child for child in root if _local(child.tag) == "AccessControlList"]
    if _local(root.tag) != "AccessControlPolicy" or len(lists) != 1:
        raise S3Error("MalformedACLError")
    grants: list[Grant] = []
    for node in lists[0]:
        fields = {_local(child.tag): child for child in node}
        grantee, permission = fields.get("Grantee"), fields.get("Permission")
        if grantee is None or permission is None:
            raise S3Error("MalformedACLError")
        grants.append({**_grantee(grantee), "permission": _permission(permission.text)})
    return grants


def _permission(raw: str | None) -> str:
    value = (raw or "").strip()
    if value not in PERMISSIONS:
        raise S3Error("MalformedACLError")
    return value


def _grantee(node: ET.Element) -> Grant:
    kind = node.get(f"{{{_XSI}}}type")
    values = {_local(child.tag): (child.text or "").strip() for child in node}
    if kind == "CanonicalUser" and values.get("ID"):
        return {"type": kind, "id": values["ID"]}
    if kind == "Group" and values.get("URI"):
        return {"type": kind, "uri": values["URI"]}
    if kind == "AmazonCustomerByEmail" and values.get("EmailAddress"):
        return {"type": kind, "email": values["EmailAddress"]}
    raise S3Error("MalformedACLError")


def is_owner_only(grants: list[Grant]) -> bool:
    """What BucketOwnerEnforced allows: no grant to anyone but the owner."""
    return all(g["type"] == "CanonicalUser" and g.get("id") == OWNER_ID for g in grants)


def is_public(grants: list[Grant]) -> bool:
    """Whether the grants open anything to everyone or to every AWS account (what
    BlockPublicAcls refuses and IgnorePublicAcls ignores)."""
    return any(g.get("uri") in (ALL_USERS, AUTHENTICATED_USERS) for g in grants)


def grants_everyone(stored: str | None, permissions: tuple[str, ...]) -> bool:
    """Whether a stored ACL grants AllUsers one of `permissions` (READ, WRITE...)."""
    if not stored:
        return False
    return any(
        g.get("uri") == ALL_USERS and g.get("permission") in (*permissions, "FULL_CONTROL")
        for g in json.loads(stored)
    )


def to_json(grants: list[Grant]) -> str:
    return json.dumps(grants, separators=(",", ":"))


def render(stored: str | None) -> bytes:
    """GetBucketAcl / GetObjectAcl's AccessControlPolicy for a stored ACL."""
    grants = json.loads(stored) if stored else [dict(_OWNER)]
    return document(
        "AccessControlPolicy",
        f"{owner_xml()}<AccessControlList>{''.join(map(_grant_xml, grants))}</AccessControlList>",
    )


def _grant_xml(grant: Grant) -> str:
    kind = grant["type"]
    if kind == "CanonicalUser":
        inner = owner_fields() if grant["id"] == OWNER_ID else element("ID", grant["id"])
    elif kind == "Group":
        inner = element("URI", grant["uri"])
    else:
        inner = element("EmailAddress", grant["email"])
    return (
        f'<Grant><Grantee xmlns:xsi="{_XSI}" xsi:type="{kind}">{inner}</Grantee>'
        f"{element('Permission', grant['permission'])}</Grant>"
    )
