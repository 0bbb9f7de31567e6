"""S3 across principals: who owns a bucket or an object, and what a signed request of
another account may do to it. Used only when identities are configured
(`lambic.project.identities`); without them every signed request is the one local
account's, decided by `authorize.check_signed` as before.

Ownership. A bucket belongs to the account that created it; an object to the account
that wrote it, unless the bucket's Object Ownership says otherwise
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html):
BucketOwnerEnforced makes the bucket owner own every object and disables ACLs (they no
longer grant anything); BucketOwnerPreferred gives the bucket owner an object written
with the `bucket-owner-full-control` canned ACL; ObjectWriter (and no setting, as
buckets made before the setting existed) leaves it to the writer. Owners are stored
as canonical user ids; None is the default account (every bucket and object made
before identities existed, or by a key not in the file).

The decision (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-auth-workflow-bucket-operation.html
and ...-object-operation.html), with no IAM policies locally (a principal of an account
may do whatever its account may):

1. The bucket policy's explicit Deny for the caller refuses (the bucket owner's
   account keeps Get/Put/DeleteBucketPolicy, so a policy cannot lock it out).
2. Bucket operations (listings, the bucket's sub-resources) and the object operations
   S3 authorizes in the bucket's context (PutObject, DeleteObject, multipart): the
   bucket owner's account may; another account needs the policy's Allow or, unless
   ACLs are disabled, a bucket ACL grant (READ lists, WRITE writes and deletes,
   READ_ACP / WRITE_ACP the bucket's ACL).
3. Other object operations are the object owner's to grant: its account may; the
   policy's Allow counts only for objects the bucket owner owns ("the bucket owner
   can't grant permissions on objects it does not own"); else an object ACL grant
   (READ reads, READ_ACP / WRITE_ACP the object's ACL). A read of a key that does not
   exist needs s3:ListBucket to learn so (404), else 403.
ACL grants to everyone or to every signed caller are ignored under the public access
block's IgnorePublicAcls, and a public policy's Allow under RestrictPublicBuckets for
callers outside the owner's account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import unquote

from lambic.project.identities import Account, Principal
from lambic.services.base import Headers
from lambic.services.s3 import access, acl, authorize, policy
from lambic.services.s3._call import Call
from lambic.services.s3._wire import owner_xml
from lambic.services.s3.engine import S3Engine
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import ObjectAttrs, StoredObject

# Object actions S3 decides in the bucket's context (bucket ACL's WRITE / READ).
_BUCKET_CONTEXT = frozenset(
    {
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
)
_READS = frozenset({"s3:GetObject", "s3:GetObjectVersion"})
_OWNER_ALWAYS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})


def account_of(engine: S3Engine, principal: Principal | None) -> Account:
    return principal.account if principal is not None else engine.owner_account(None)


def stored_owner(engine: S3Engine, account: Account) -> str | None:
    """How an owner is stored: None for the default account (as before identities)."""
    return None if account == engine.owner_account(None) else account.canonical_id


def caller_owner(call: Call) -> str | None:
    """The stored owner id of what this call creates as its own (a bucket)."""
    if call.principal is None:
        return None
    return stored_owner(call.engine, call.principal.account)


def bucket_account(engine: S3Engine, bucket: str) -> Account:
    return engine.owner_account(engine.bucket_owner(bucket))


def _enforced(engine: S3Engine, bucket: str) -> bool:
    return engine.setting(bucket, access.OWNERSHIP) == "BucketOwnerEnforced"


def object_account(engine: S3Engine, obj: StoredObject) -> Account:
    """Who owns an object (every object's bucket owner under BucketOwnerEnforced)."""
    if _enforced(engine, obj.bucket):
        return bucket_account(engine, obj.bucket)
    return engine.owner_account(obj.attrs.owner)


def written_owner(call: Call, headers: Headers) -> str | None:
    """The stored owner of an object this call writes (PutObject, CopyObject, POST,
    CreateMultipartUpload), by the bucket's Object Ownership (module docstring)."""
    engine = call.engine
    if engine.identities is None:
        return None
    ownership = engine.setting(call.bucket, access.OWNERSHIP)
    if call.principal is None:
        # An anonymous upload (a public-write grant or policy) is the bucket owner's:
        # there is no account to own it, and the bucket owner must be able to read it.
        return engine.bucket_owner(call.bucket)
    writer = call.principal.account
    if ownership == "BucketOwnerEnforced" or (
        ownership == "BucketOwnerPreferred"
        and headers.get("x-amz-acl") == "bucket-owner-full-control"
    ):
        return engine.bucket_owner(call.bucket)
    return stored_owner(engine, writer)


def owned(call: Call, attrs: ObjectAttrs) -> ObjectAttrs:
    """`attrs` with the owner this write gives the object (unchanged without identities)."""
    if call.engine.identities is None:
        return attrs
    return replace(attrs, owner=written_owner(call, call.request.headers))


def acl_owners(call: Call, attrs_owner: str | None = None) -> tuple[str, str]:
    """(owner id, bucket owner id) that canned ACLs name for this call's resource."""
    engine = call.engine
    bucket_owner = bucket_account(engine, call.bucket).canonical_id
    return engine.owner_account(attrs_owner).canonical_id, bucket_owner


def check_signed(call: Call) -> None:
    """403 AccessDenied unless this signed request may do what it asks (module
    docstring); a copy must also be allowed to read its source."""
    if not call.bucket:
        return
    name = authorize.action(call)
    if name is not None:
        call.engine.bucket(call.bucket)  # NoSuchBucket first, as S3 answers anyone
        version = call.query.get("versionId")
        if not allowed(call, name, call.bucket, call.key, version):
            raise S3Error("AccessDenied")
    source = call.request.headers.get("x-amz-copy-source")
    if source is not None and call.key is not None and call.request.method == "PUT":
        path, _, query = unquote(source).lstrip("/").partition("?")
        bucket, _, key = path.partition("/")
        if not bucket or not key:
            return  # the handler answers the malformed header
        version = query.partition("versionId=")[2] or None
        read = "s3:GetObjectVersion" if version else "s3:GetObject"
        try:
            permitted = allowed(call, read, bucket, key, version)
        except S3Error:
            return  # no such source bucket: the handler answers it
        if not permitted:
            raise S3Error("AccessDenied")


def allowed(
    call: Call, action: str, bucket: str, key: str | None, version_id: str | None = None
) -> bool:
    """Whether the call's principal (None: anonymous) may do `action` on the bucket or
    its `key`, as the module docstring says S3 decides it."""
    engine = call.engine
    principal = call.principal
    owner = bucket_account(engine, bucket)
    same = principal is not None and principal.account.account_id == owner.account_id
    context = authorize.AccessContext(call, bucket=bucket, key=key)
    decision = _policy(engine, bucket, action, key, principal, same, context)
    if decision == "Deny" and not (same and action in _OWNER_ALWAYS):
        return False
    enforced = _enforced(engine, bucket)
    block = engine.setting(bucket, access.PUBLIC_ACCESS_BLOCK)
    public = not access.public_access_flag(block, "IgnorePublicAcls")
    grantee = principal.account if principal is not None else None
    if key is None or action in _BUCKET_CONTEXT:
        if same or decision == "Allow":
            return True
        permission = acl.BUCKET_GRANT_ACTIONS.get(action)
        stored = engine.setting(bucket, acl.SETTING)
        return (
            permission is not None
            and not enforced
            and acl.grants_to(stored, grantee, permission, public=public)
        )
    try:
        obj = engine.head(bucket, key, version_id)
    except S3Error as error:
        if action in _READS and error.code in ("NoSuchKey", "NoSuchVersion"):
            # AWS: a missing key is 404 only to whom may list the bucket, else 403.
            return same or allowed(call, "s3:ListBucket", bucket, None)
        return same or decision == "Allow"  # the handler answers what is wrong
    holder = object_account(engine, obj)
    if principal is not None and principal.account.account_id == holder.account_id:
        return True
    if decision == "Allow" and holder.account_id == owner.account_id:
        return True
    permission = acl.OBJECT_GRANT_ACTIONS.get(action)
    return (
        permission is not None
        and not enforced
        and acl.grants_to(obj.attrs.acl, grantee, permission, public=public)
    )


def _policy(
    engine: S3Engine,
    bucket: str,
    action: str,
    key: str | None,
    principal: Principal | None,
    same: bool,
    context: authorize.AccessContext,
) -> str | None:
    """The bucket policy's word: "Allow", "Deny" or None. RestrictPublicBuckets voids
    a public policy's Allows for callers outside the owner's account."""
    text = engine.setting(bucket, policy.SETTING)
    if text is None:
        return None
    document = policy.stored(text)
    resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
    account = principal.account.account_id if principal is not None else None
    decision = document.evaluate(action, resource, account, context, principal)
    if decision == "Allow" and not same and document.is_public():
        block = engine.setting(bucket, access.PUBLIC_ACCESS_BLOCK)
        if access.public_access_flag(block, "RestrictPublicBuckets"):
            return None
    return decision


def owns_listing(call: Call, owner: str | None) -> bool:
    """Whether a bucket of stored owner `owner` is the caller's (ListBuckets)."""
    principal = call.principal
    if principal is None:
        return True
    return call.engine.owner_account(owner).account_id == principal.account.account_id


def names(engine: S3Engine) -> acl.Names:
    """A grantee's account by canonical id, for the display names ACLs show."""
    identities = engine.identities

    def lookup(canonical_id: str) -> Account | None:
        return identities.by_canonical_id(canonical_id) if identities is not None else None

    return lookup


def resolved(call: Call, grants: list[acl.Grant]) -> list[acl.Grant]:
    """Grants with emails resolved and canonical ids checked (with identities only)."""
    identities = call.engine.identities
    return grants if identities is None else acl.resolve(grants, identities)


def listed_owners(call: Call) -> Callable[[str | None], str] | None:
    """`<Owner>` of a listed object by its stored owner (every object's the bucket
    owner's under BucketOwnerEnforced); None without identities (the default owner)."""
    engine = call.engine
    if engine.identities is None:
        return None
    if _enforced(engine, call.bucket):
        fixed = owner_xml(owner=bucket_account(engine, call.bucket))
        return lambda owner: fixed
    return lambda owner: owner_xml(owner=engine.owner_account(owner))
