"""Bucket sub-resources that are one stored document each: encryption, policy,
lifecycle, public access block, ownership controls. Get / Put / Delete share one
shape: validate on PUT (each concept's module says how AWS validates), answer AWS's
"not found" error on GET when none is set, 204 on DELETE."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from lambic.services.base import ServiceResponse
from lambic.services.s3 import _tagging, access, acl, encryption, lifecycle, policy
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._wire import document
from lambic.services.s3.errors import S3Error


@dataclass(frozen=True)
class Setting:
    """How one sub-resource is parsed, stored under `name` and rendered."""

    name: str
    root: str  # the GET document's root element ("" for a JSON policy)
    parse: Callable[[Call], str]
    render: Callable[[str], str]
    missing: str  # AWS's error code when none is set
    put_status: int = 200


SETTINGS: dict[str, Setting] = {
    "encryption": Setting(
        encryption.SETTING,
        "ServerSideEncryptionConfiguration",
        lambda call: encryption.parse_configuration(call.request.body),
        encryption.render_configuration,
        "ServerSideEncryptionConfigurationNotFoundError",
    ),
    "policy": Setting(
        policy.SETTING,
        "",
        lambda call: _policy(call),
        str,
        "NoSuchBucketPolicy",
        put_status=204,
    ),
    "lifecycle": Setting(
        lifecycle.SETTING,
        "LifecycleConfiguration",
        lambda call: lifecycle.parse(call.request.body),
        str,
        "NoSuchLifecycleConfiguration",
    ),
    "publicAccessBlock": Setting(
        access.PUBLIC_ACCESS_BLOCK,
        "PublicAccessBlockConfiguration",
        lambda call: access.parse_public_access_block(call.request.body),
        access.render_public_access_block,
        "NoSuchPublicAccessBlockConfiguration",
    ),
    "tagging": Setting(
        "tagging",
        "Tagging",
        lambda call: _tagging.parse_bucket_tags(call.request.body),
        _tagging.render_bucket_tags,
        "NoSuchTagSet",
        put_status=204,
    ),
    "ownershipControls": Setting(
        access.OWNERSHIP,
        "OwnershipControls",
        lambda call: _ownership(call),
        access.render_ownership,
        "OwnershipControlsNotFoundError",
    ),
}


def _policy(call: Call) -> str:
    """PutBucketPolicy; AWS refuses a public policy while the bucket's public access
    block has BlockPublicPolicy."""
    text = policy.validate(call.request.body, call.bucket)
    block = call.engine.setting(call.bucket, access.PUBLIC_ACCESS_BLOCK)
    if access.public_access_flag(block, "BlockPublicPolicy") and policy.stored(text).is_public():
        raise S3Error("AccessDenied")
    return text


def _ownership(call: Call) -> str:
    """PutBucketOwnershipControls; AWS refuses BucketOwnerEnforced while the bucket's
    ACL grants anyone but the owner."""
    ownership = access.parse_ownership(call.request.body)
    stored = call.engine.setting(call.bucket, acl.SETTING)
    owner = call.engine.owner_account(call.engine.bucket_owner(call.bucket)).canonical_id
    if (
        ownership == "BucketOwnerEnforced"
        and stored
        and not acl.is_owner_only(json.loads(stored), owner)
    ):
        raise S3Error("InvalidBucketAclWithObjectOwnership")
    return ownership


def _setting(call: Call) -> Setting:
    return next(setting for query, setting in SETTINGS.items() if query in call.query)


def get_setting(call: Call) -> ServiceResponse:
    setting = _setting(call)
    call.engine.bucket(call.bucket)
    stored = call.engine.setting(call.bucket, setting.name)
    if stored is None:
        raise S3Error(setting.missing, BucketName=call.bucket)
    if not setting.root:
        return ServiceResponse(200, [("Content-Type", "application/json")], stored.encode())
    return xml_response(document(setting.root, setting.render(stored)))


def put_setting(call: Call) -> ServiceResponse:
    setting = _setting(call)
    call.engine.bucket(call.bucket)
    call.engine.put_setting(call.bucket, setting.name, setting.parse(call))
    return empty_response(setting.put_status)


def delete_setting(call: Call) -> ServiceResponse:
    setting = _setting(call)
    call.engine.put_setting(call.bucket, setting.name, None)
    return empty_response(204)


HANDLERS = {"GET": get_setting, "PUT": put_setting, "DELETE": delete_setting}
