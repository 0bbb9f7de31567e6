"""ACLs on the wire: Get/PutBucketAcl, Get/PutObjectAcl, and the ACL a write sets."""

from __future__ import annotations

import json
from dataclasses import replace

from lambic.project.identities import Account
from lambic.services.base import ServiceResponse
from lambic.services.s3 import access, acl, policy, principals
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._wire import document, element
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import NULL_VERSION, ObjectAttrs


def _requested(call: Call, owner: str | None) -> list[acl.Grant] | None:
    """The ACL a request sets on a resource of stored owner `owner`: its
    AccessControlPolicy body, else its ACL headers."""
    body = call.request.body.strip()
    if body:
        grants: list[acl.Grant] | None = acl.from_document(body)
    else:
        owner_id, bucket_owner_id = principals.acl_owners(call, owner)
        grants = acl.from_headers(call.request.headers, owner_id, bucket_owner_id)
    if grants is not None:
        grants = principals.resolved(call, grants)
        _check_enabled(call, grants)
    return grants


def _check_enabled(call: Call, grants: list[acl.Grant]) -> None:
    """AWS: with BucketOwnerEnforced, ACLs are disabled; only the owner may be named.
    With the public access block's BlockPublicAcls, a public ACL is refused (403)."""
    enforced = call.engine.setting(call.bucket, access.OWNERSHIP) == "BucketOwnerEnforced"
    # AWS: only `bucket-owner-full-control` (or grants to the bucket owner alone) may
    # be sent to such a bucket; any other canned ACL, even "private", is refused.
    canned = call.request.headers.get("x-amz-acl")
    if enforced and (
        canned not in (None, "bucket-owner-full-control")
        or not acl.is_owner_only(grants, _bucket_owner_id(call))
    ):
        raise S3Error("AccessControlListNotSupported")
    block = call.engine.setting(call.bucket, access.PUBLIC_ACCESS_BLOCK)
    if access.public_access_flag(block, "BlockPublicAcls") and acl.is_public(grants):
        raise S3Error("AccessDenied")


def get_policy_status(call: Call) -> ServiceResponse:
    """GetBucketPolicyStatus: public when the policy grants everyone something without
    a condition, or the bucket's ACL grants everyone or every AWS account."""
    call.engine.bucket(call.bucket)
    text = call.engine.setting(call.bucket, policy.SETTING)
    public = text is not None and policy.stored(text).is_public()
    stored_acl = call.engine.setting(call.bucket, acl.SETTING)
    if not public and stored_acl:
        public = acl.is_public(json.loads(stored_acl))
    flag = "true" if public else "false"
    return xml_response(document("PolicyStatus", element("IsPublic", flag)))


def _bucket_owner_id(call: Call) -> str:
    return call.engine.owner_account(call.engine.bucket_owner(call.bucket)).canonical_id


def with_acl(call: Call, attrs: ObjectAttrs) -> ObjectAttrs:
    """`attrs` with the owner and the ACL a PUT / copy / CreateMultipartUpload's headers
    set (the owner: `principals.written_owner`)."""
    attrs = principals.owned(call, attrs)
    owner_id, bucket_owner_id = principals.acl_owners(call, attrs.owner)
    grants = acl.from_headers(call.request.headers, owner_id, bucket_owner_id)
    if grants is None:
        return attrs
    grants = principals.resolved(call, grants)
    _check_enabled(call, grants)
    return replace(attrs, acl=acl.to_json(grants))


def _shown(call: Call, account: Account) -> Account | None:
    """The owner an ACL document shows (None: the default account, as without identities)."""
    return account if call.engine.identities is not None else None


def get_bucket_acl(call: Call) -> ServiceResponse:
    engine = call.engine
    owner = engine.owner_account(engine.bucket_owner(call.bucket))
    stored = engine.setting(call.bucket, acl.SETTING)
    if engine.setting(call.bucket, access.OWNERSHIP) == "BucketOwnerEnforced":
        stored = None  # ACLs disabled: the owner's full control is all there is
    return xml_response(acl.render(stored, _shown(call, owner), principals.names(engine)))


def put_bucket_acl(call: Call) -> ServiceResponse:
    call.engine.bucket(call.bucket)
    grants = _requested(call, call.engine.bucket_owner(call.bucket))
    if grants is None:
        raise S3Error("MissingSecurityHeader", MissingHeaderName="x-amz-acl")
    call.engine.put_setting(call.bucket, acl.SETTING, acl.to_json(grants))
    return empty_response(200)


def _version_headers(version_id: str) -> list[tuple[str, str]]:
    return [] if version_id == NULL_VERSION else [("x-amz-version-id", version_id)]


def get_object_acl(call: Call) -> ServiceResponse:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    obj = call.engine.head(call.bucket, call.key, call.query.get("versionId"))
    owner = principals.object_account(call.engine, obj)
    names = principals.names(call.engine)
    stored = obj.attrs.acl
    if call.engine.setting(call.bucket, access.OWNERSHIP) == "BucketOwnerEnforced":
        stored = None
    body = acl.render(stored, _shown(call, owner), names)
    return xml_response(body, 200, _version_headers(obj.version_id))


def put_object_acl(call: Call) -> ServiceResponse:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    obj = call.engine.head(call.bucket, call.key, call.query.get("versionId"))
    grants = _requested(call, obj.attrs.owner)
    if grants is None:
        raise S3Error("MissingSecurityHeader", MissingHeaderName="x-amz-acl")
    call.engine.update_attrs(obj, replace(obj.attrs, acl=acl.to_json(grants)))
    return empty_response(200, _version_headers(obj.version_id))


BUCKET_HANDLERS = {"GET": get_bucket_acl, "PUT": put_bucket_acl}
OBJECT_HANDLERS = {"GET": get_object_acl, "PUT": put_object_acl}
