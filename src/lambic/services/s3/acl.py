"""Access control lists for buckets and objects: canned ACLs, grant headers and
AccessControlPolicy documents, validated as S3 validates them and returned in its shape.

A grant is {"type": "CanonicalUser" | "Group" | "AmazonCustomerByEmail", "id" | "uri" |
"email": ..., "permission": ...}. An ACL is stored as the JSON list of its grants (a
bucket's under the "acl" setting, an object version's in `ObjectAttrs.acl`); none
stored means the owner's FULL_CONTROL, which is what S3 gives a new bucket or object.

Without identities the local cloud has one account: ACLs are stored and their grants
to everyone decide anonymous requests (`authorize`). With identities
(`lambic.project.identities`) a grant by email is resolved to that account's
canonical user when set, as S3 does, and grants decide what other accounts may do
(`principals`).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from lambic._http_limits import parse_xml
from lambic.project.account import LOCAL_CANONICAL_USER_ID
from lambic.project.identities import Account, Identities
from lambic.services.base import Headers
from lambic.services.s3._wire import document, element, owner_fields
from lambic.services.s3.errors import S3Error

SETTING = "acl"

# What a grant on a bucket's ACL lets its grantee (another account, or everyone) do,
# per AWS's mapping of ACL permissions to policy actions: listings, the bucket's own
# ACL, and writing objects into it (WRITE, which multipart uploads need throughout).
BUCKET_GRANT_ACTIONS = {
    "s3:ListBucket": "READ",
    "s3:ListBucketVersions": "READ",
    "s3:ListBucketMultipartUploads": "READ",
    "s3:PutObject": "WRITE",
    "s3:DeleteObject": "WRITE",
    "s3:AbortMultipartUpload": "WRITE",
    "s3:ListMultipartUploadParts": "WRITE",
    "s3:GetBucketAcl": "READ_ACP",
    "s3:PutBucketAcl": "WRITE_ACP",
}
# What a grant on an object's ACL lets its grantee do: read it and its ACL.
OBJECT_GRANT_ACTIONS = {
    "s3:GetObject": "READ",
    "s3:GetObjectVersion": "READ",
    "s3:GetObjectAcl": "READ_ACP",
    "s3:GetObjectVersionAcl": "READ_ACP",
    "s3:PutObjectAcl": "WRITE_ACP",
    "s3:PutObjectVersionAcl": "WRITE_ACP",
}
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

Grant = dict[str, str]


def owner_grant(owner_id: str = LOCAL_CANONICAL_USER_ID, permission: str = "FULL_CONTROL") -> Grant:
    return {"type": "CanonicalUser", "id": owner_id, "permission": permission}


def _group(uri: str, permission: str) -> Grant:
    return {"type": "Group", "uri": uri, "permission": permission}


# Canned ACL → the grants it adds to the owner's FULL_CONTROL ("bucket-owner-*" add the
# bucket owner's, when another account owns the bucket: `canned`).
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


_BUCKET_OWNER_GRANTS = {"bucket-owner-read": "READ", "bucket-owner-full-control": "FULL_CONTROL"}


def canned(
    name: str, owner_id: str = LOCAL_CANONICAL_USER_ID, bucket_owner_id: str | None = None
) -> list[Grant]:
    """The grants of canned ACL `name` for a resource of `owner_id` in a bucket of
    `bucket_owner_id`. S3 lists group grants before the owner's (the Ceph s3-tests that
    pass against AWS read the owner's grant of a public-read-write bucket at index 2)."""
    if name not in CANNED:
        raise S3Error("InvalidArgument", ArgumentName="x-amz-acl", ArgumentValue=name)
    grants = [*CANNED[name], owner_grant(owner_id)]
    extra = _BUCKET_OWNER_GRANTS.get(name)
    if extra and bucket_owner_id is not None and bucket_owner_id != owner_id:
        grants.append(owner_grant(bucket_owner_id, extra))
    return grants


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


def from_headers(
    headers: Headers, owner_id: str = LOCAL_CANONICAL_USER_ID, bucket_owner_id: str | None = None
) -> list[Grant] | None:
    """The ACL `x-amz-acl` or the `x-amz-grant-*` headers set; None when neither."""
    name = headers.get("x-amz-acl")
    granted = [(h, p) for h, p in _GRANT_HEADERS.items() if h in headers]
    if name is not None and granted:
        raise S3Error(
            "InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed"
        )
    if name is not None:
        return canned(name, owner_id, bucket_owner_id)
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


def is_owner_only(grants: list[Grant], owner_id: str = LOCAL_CANONICAL_USER_ID) -> bool:
    """What BucketOwnerEnforced allows: no grant to anyone but the owner."""
    return all(g["type"] == "CanonicalUser" and g.get("id") == owner_id for g in grants)


def resolve(grants: list[Grant], identities: Identities) -> list[Grant]:
    """Grants as S3 stores them: a grant by email becomes one to that account's canonical
    user (UnresolvableGrantByEmailAddress when no account has it); a canonical id no
    account has is 400 InvalidArgument."""
    resolved: list[Grant] = []
    for grant in grants:
        if grant["type"] == "AmazonCustomerByEmail":
            account = identities.by_email(grant["email"])
            if account is None:
                raise S3Error("UnresolvableGrantByEmailAddress", EmailAddress=grant["email"])
            grant = owner_grant(account.canonical_id, grant["permission"])
        elif grant["type"] == "CanonicalUser" and identities.by_canonical_id(grant["id"]) is None:
            raise S3Error(
                "InvalidArgument",
                "Invalid id",
                ArgumentName="CanonicalUser/ID",
                ArgumentValue=grant["id"],
            )
        resolved.append(grant)
    return resolved


def grants_to(
    stored: str | None, grantee: Account | None, permission: str, *, public: bool = True
) -> bool:
    """Whether a stored ACL grants `permission` (or FULL_CONTROL) to `grantee`'s
    canonical user or email (None: an anonymous caller), or, unless `public` is False
    (IgnorePublicAcls), to everyone or to every signed caller."""
    if not stored:
        return False
    for grant in json.loads(stored):
        if grant.get("permission") not in (permission, "FULL_CONTROL"):
            continue
        uri = grant.get("uri")
        if uri is not None:
            if public and (uri == ALL_USERS or (uri == AUTHENTICATED_USERS and grantee)):
                return True
        elif grantee is not None and (
            grant.get("id") == grantee.canonical_id
            or (grantee.email and grant.get("email", "").lower() == grantee.email.lower())
        ):
            return True
    return False


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


Names = Callable[[str], Account | None]


def _no_names(canonical_id: str) -> Account | None:
    return None


def render(stored: str | None, owner: Account | None = None, names: Names = _no_names) -> bytes:
    """GetBucketAcl / GetObjectAcl's AccessControlPolicy for a stored ACL of `owner`
    (None: the default account); `names` gives the display name of a grantee's id."""
    owner_id = owner.canonical_id if owner is not None else LOCAL_CANONICAL_USER_ID
    grants = json.loads(stored) if stored else [owner_grant(owner_id)]

    def grant_xml(grant: Grant) -> str:
        return _grant_xml(grant, names)

    return document(
        "AccessControlPolicy",
        f"<Owner>{owner_fields(owner)}</Owner>"
        f"<AccessControlList>{''.join(map(grant_xml, grants))}</AccessControlList>",
    )


def _grant_xml(grant: Grant, names: Names) -> str:
    kind = grant["type"]
    if kind == "CanonicalUser":
        known = names(grant["id"])
        if known is None and grant["id"] == LOCAL_CANONICAL_USER_ID:
            inner = owner_fields()
        elif known is not None:
            inner = owner_fields(known)
        else:
            inner = element("ID", grant["id"])
    elif kind == "Group":
        inner = element("URI", grant["uri"])
    else:
        inner = element("EmailAddress", grant["email"])
    return (
        f'<Grant><Grantee xmlns:xsi="{_XSI}" xsi:type="{kind}">{inner}</Grantee>'
        f"{element('Permission', grant['permission'])}</Grant>"
    )
