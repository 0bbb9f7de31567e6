"""ACLs on the wire: Get/PutBucketAcl, Get/PutObjectAcl, and the ACL a write sets."""

from __future__ import annotations

import json
from dataclasses import replace

from lambic.services.base import ServiceResponse
from lambic.services.s3 import access, acl, policy
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._wire import document, element
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import NULL_VERSION, ObjectAttrs


def _requested(call: Call) -> list[acl.Grant] | None:
    """The ACL a request sets: its AccessControlPolicy body, else its ACL headers."""
    body = call.request.body.strip()
    grants = acl.from_document(body) if body else acl.from_headers(call.request.headers)
    if grants is not None:
        _check_enabled(call, grants)
    return grants


def _check_enabled(call: Call, grants: list[acl.Grant]) -> None:
    """AWS: with BucketOwnerEnforced, ACLs are disabled; only the owner may be named.
    With the public access block's BlockPublicAcls, a public ACL is refused (403)."""
    enforced = call.engine.setting(call.bucket, access.OWNERSHIP) == "BucketOwnerEnforced"
    if enforced and not acl.is_owner_only(grants):
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


def with_acl(call: Call, attrs: ObjectAttrs) -> ObjectAttrs:
    """`attrs` with the ACL a PUT / copy / CreateMultipartUpload's headers set."""
    grants = acl.from_headers(call.request.headers)
    if grants is None:
        return attrs
    _check_enabled(call, grants)
    return replace(attrs, acl=acl.to_json(grants))


def get_bucket_acl(call: Call) -> ServiceResponse:
    call.engine.bucket(call.bucket)
    return xml_response(acl.render(call.engine.setting(call.bucket, acl.SETTING)))


def put_bucket_acl(call: Call) -> ServiceResponse:
    call.engine.bucket(call.bucket)
    grants = _requested(call)
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
    return xml_response(acl.render(obj.attrs.acl), 200, _version_headers(obj.version_id))


def put_object_acl(call: Call) -> ServiceResponse:
    if call.key is None:
        raise S3Error("MethodNotAllowed")
    obj = call.engine.head(call.bucket, call.key, call.query.get("versionId"))
    grants = _requested(call)
    if grants is None:
        raise S3Error("MissingSecurityHeader", MissingHeaderName="x-amz-acl")
    call.engine.update_attrs(obj, replace(obj.attrs, acl=acl.to_json(grants)))
    return empty_response(200, _version_headers(obj.version_id))


BUCKET_HANDLERS = {"GET": get_bucket_acl, "PUT": put_bucket_acl}
OBJECT_HANDLERS = {"GET": get_object_acl, "PUT": put_object_acl}
