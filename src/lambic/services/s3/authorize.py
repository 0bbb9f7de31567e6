"""Which S3 action a request is, and the context its bucket policy's conditions read.

IAM names each request by an action (`s3:PutObject` for PutObject, UploadPart,
CopyObject and CompleteMultipartUpload; `s3:GetObjectVersion` for a read by version
id; `s3:ListBucket` for a listing...) on a resource ARN, and decides conditions from
the request's context keys: its headers (`s3:x-amz-server-side-encryption`,
`s3:x-amz-acl`, `s3:RequestObjectTag/<key>` from `x-amz-tagging`...), its query
(`s3:prefix`, `s3:max-keys`, `s3:versionid`), the object it acts on
(`s3:ExistingObjectTag/<key>`, read only when a condition asks) and global keys
(`aws:Referer`, `aws:SourceIp`, `aws:SecureTransport`, `aws:CurrentTime`...).

`check_signed` applies the bucket policy to a signed request: an explicit Deny is 403
AccessDenied (the bucket owner can always read and change the policy itself, as on
AWS). A CopyObject / UploadPartCopy is also a read of its source, checked against the
source bucket's policy.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, unquote

from lambic.project.account import LOCAL_ACCOUNT_ID
from lambic.services.s3 import access, acl, policy
from lambic.services.s3._call import Call
from lambic.services.s3.engine import S3Engine
from lambic.services.s3.errors import S3Error

# Bucket sub-resources and the action suffix IAM names them by (Get<...>/Put<...>).
_BUCKET_SUBRESOURCES = {
    "policy": "BucketPolicy",
    "acl": "BucketAcl",
    "versioning": "BucketVersioning",
    "tagging": "BucketTagging",
    "cors": "BucketCORS",
    "lifecycle": "LifecycleConfiguration",
    "encryption": "EncryptionConfiguration",
    "notification": "BucketNotification",
    "object-lock": "BucketObjectLockConfiguration",
    "publicAccessBlock": "BucketPublicAccessBlock",
    "ownershipControls": "BucketOwnershipControls",
    "location": "BucketLocation",
}
# The owner keeps these whatever the policy says (AWS: so a policy can't lock it out).
_OWNER_ALWAYS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})
_OBJECT_SUBRESOURCES = {
    "acl": "ObjectAcl",
    "tagging": "ObjectTagging",
    "retention": "ObjectRetention",
    "legal-hold": "ObjectLegalHold",
    "attributes": "ObjectAttributes",
}
# Headers whose value is a condition key of the same name under "s3:".
_HEADER_KEYS = frozenset(
    {
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-acl",
        "x-amz-grant-read",
        "x-amz-grant-write",
        "x-amz-grant-read-acp",
        "x-amz-grant-write-acp",
        "x-amz-grant-full-control",
        "x-amz-copy-source",
        "x-amz-metadata-directive",
        "x-amz-storage-class",
        "x-amz-object-lock-mode",
        "x-amz-object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold",
        "x-amz-content-sha256",
        "x-amz-website-redirect-location",
    }
)


def action(call: Call) -> str | None:
    """The IAM action of a request on a bucket or object (None: not one a bucket policy
    governs, such as CreateBucket or a multi-object delete)."""
    method, q = call.request.method, call.query
    versioned = "versionId" in q
    if call.key is not None:
        for name, suffix in _OBJECT_SUBRESOURCES.items():
            if name in q:
                verb = {"GET": "Get", "HEAD": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
                if verb is None:
                    return None
                tail = "Version" if versioned and name in ("acl", "tagging") else ""
                return f"s3:{verb}{suffix}{tail}"
        if method in ("GET", "HEAD"):
            if "uploadId" in q:
                return "s3:ListMultipartUploadParts"
            return "s3:GetObjectVersion" if versioned else "s3:GetObject"
        if method == "PUT" or (method == "POST" and ("uploads" in q or "uploadId" in q)):
            return "s3:PutObject"
        if method == "DELETE":
            if "uploadId" in q:
                return "s3:AbortMultipartUpload"
            return "s3:DeleteObjectVersion" if versioned else "s3:DeleteObject"
        return None
    for name, suffix in _BUCKET_SUBRESOURCES.items():
        if name in q:
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
            return f"s3:{verb}{suffix}" if verb else None
    if method in ("GET", "HEAD"):
        if "versions" in q:
            return "s3:ListBucketVersions"
        if "uploads" in q:
            return "s3:ListBucketMultipartUploads"
        return "s3:ListBucket"
    if method == "DELETE":
        return "s3:DeleteBucket"
    return None


class AccessContext:
    """A request's condition keys, computed when a condition asks for one."""

    def __init__(self, call: Call, *, bucket: str | None = None, key: str | None = None) -> None:
        self._call = call
        self._bucket = call.bucket if bucket is None else bucket
        self._key = call.key if key is None else key
        self._tags: dict[str, str] | None = None
        self._request_tags: dict[str, str] | None = None

    def values(self, name: str) -> list[str] | None:
        request = self._call.request
        headers = request.headers
        if name.startswith("s3:"):
            short = name[3:]
            if short in _HEADER_KEYS:
                value = headers.get(short)
                return None if value is None else [value]
            if short in ("prefix", "delimiter", "max-keys"):
                value = self._call.query.get(short)
                return None if value is None else [value]
            if short == "versionid":
                value = self._call.query.get("versionId")
                return None if value is None else [value]
            if short.startswith("existingobjecttag/"):
                value = self._existing_tags().get(short.split("/", 1)[1])
                return None if value is None else [value]
            if short.startswith("requestobjecttag/"):
                value = self._tagging_header().get(short.split("/", 1)[1])
                return None if value is None else [value]
            if short == "requestobjecttagkeys":
                keys = list(self._tagging_header())
                return keys or None
            if short == "signatureversion":
                auth = headers.get("authorization", "")
                return ["AWS4-HMAC-SHA256" if auth.startswith("AWS4") or not auth else "AWS"]
            if short == "authtype":
                return ["REST-HEADER" if "authorization" in headers else "REST-QUERY-STRING"]
            return None
        return _global(name, self._call)

    def _existing_tags(self) -> dict[str, str]:
        if self._tags is None:
            self._tags = {}
            if self._key is not None:
                try:
                    own = (self._bucket, self._key) == (self._call.bucket, self._call.key)
                    version = self._call.query.get("versionId") if own else None
                    obj = self._call.engine.head(self._bucket, self._key, version)
                    # Condition keys are case-insensitive: the policy's arrive lower-cased.
                    self._tags = {k.lower(): v for k, v in obj.attrs.tags.items()}
                except S3Error:
                    pass  # no such object: the key is absent from the context
        return self._tags

    def _tagging_header(self) -> dict[str, str]:
        if self._request_tags is None:
            header = self._call.request.headers.get("x-amz-tagging", "")
            pairs = parse_qsl(header, keep_blank_values=True)
            self._request_tags = {k.lower(): v for k, v in pairs}
        return self._request_tags


def _global(name: str, call: Call) -> list[str] | None:
    headers = call.request.headers
    if name == "aws:referer":
        value = headers.get("referer")
        return None if value is None else [value]
    if name == "aws:useragent":
        value = headers.get("user-agent")
        return None if value is None else [value]
    if name == "aws:sourceip":
        return [call.request.client_host]
    if name == "aws:securetransport":
        return ["false"]  # the local edge speaks plain HTTP
    if name == "aws:currenttime":
        return [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())]
    if name == "aws:epochtime":
        return [str(int(time.time()))]
    if name in ("aws:principalaccount", "aws:resourceaccount") and not call.anonymous:
        if call.principal is None:
            return [LOCAL_ACCOUNT_ID]
        if name == "aws:principalaccount":
            return [call.principal.account.account_id]
        return [call.engine.owner_account(call.engine.bucket_owner(call.bucket)).account_id]
    if name in ("aws:principalarn", "aws:username") and call.principal is not None:
        arn = call.principal.arn
        return [arn] if name == "aws:principalarn" else [arn.rpartition("/")[2]]
    return None


def acl_allows_anonymous(
    engine: S3Engine, bucket: str, action: str, key: str | None, version_id: str | None = None
) -> bool:
    """Whether an ACL grants everyone `action` (`acl.BUCKET_GRANT_ACTIONS`,
    `acl.OBJECT_GRANT_ACTIONS`), unless the public access block's IgnorePublicAcls is set."""
    block = engine.setting(bucket, access.PUBLIC_ACCESS_BLOCK)
    if access.public_access_flag(block, "IgnorePublicAcls"):
        return False
    permission = acl.BUCKET_GRANT_ACTIONS.get(action)
    if permission is not None:
        return acl.grants_everyone(engine.setting(bucket, acl.SETTING), (permission,))
    permission = acl.OBJECT_GRANT_ACTIONS.get(action)
    if permission is not None and key is not None:
        try:
            obj = engine.head(bucket, key, version_id)
        except S3Error:
            return False
        return acl.grants_everyone(obj.attrs.acl, (permission,))
    return False


def require_anonymous(call: Call, action: str | None, key: str | None = None) -> None:
    """S3's one rule for an unsigned request: NoSuchBucket first, then 403 AccessDenied
    unless the bucket policy allows `action` to everyone (and denies it nothing) or an
    ACL grants it. `action` None (CreateBucket...) is never allowed."""
    if not call.bucket or action is None:
        raise S3Error("AccessDenied")  # ListBuckets, CreateBucket... need an account
    call.engine.bucket(call.bucket)
    context = AccessContext(call, key=key)
    decision = call.engine.anonymous_policy_decision(call.bucket, action, key, context)
    if decision == "Allow":
        return
    version = call.query.get("versionId")
    if decision == "Deny" or not acl_allows_anonymous(
        call.engine, call.bucket, action, key, version
    ):
        raise S3Error("AccessDenied")


def check_anonymous(call: Call) -> None:
    """An unsigned request routed to an operation: allowed as `require_anonymous` says
    for its IAM action. A multi-object delete is decided per key, as S3 decides each
    key's s3:DeleteObject (`allows_delete`), so only its bucket is checked here."""
    name = action(call)
    if name is None and call.request.method == "POST" and "delete" in call.query:
        call.engine.bucket(call.bucket)  # NoSuchBucket first
        return
    require_anonymous(call, name, call.key)


def allows_delete(call: Call, key: str, version_id: str | None) -> bool:
    """Whether an anonymous caller may delete `key` (one entry of DeleteObjects)."""
    name = "s3:DeleteObjectVersion" if version_id else "s3:DeleteObject"
    try:
        require_anonymous(call, name, key)
    except S3Error:
        return False
    return True


def denies_signed(
    engine: S3Engine, bucket: str, action: str, key: str | None, context: AccessContext
) -> bool:
    """Whether the bucket policy explicitly denies a signed (local account) request."""
    text = engine.setting(bucket, policy.SETTING)
    if text is None:
        return False
    resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
    decision = policy.stored(text).evaluate(action, resource, LOCAL_ACCOUNT_ID, context)
    return decision == "Deny"


def check_expected_owner(call: Call) -> None:
    """`x-amz-expected-bucket-owner` (and, for a copy, the source's): a bucket owned by
    another account than the one named is 403 AccessDenied, as AWS answers it. Every
    local bucket belongs to the local account."""
    headers = call.request.headers
    for name in ("x-amz-expected-bucket-owner", "x-amz-source-expected-bucket-owner"):
        expected = headers.get(name)
        if expected is None:
            continue
        owner = LOCAL_ACCOUNT_ID
        if call.engine.identities is not None:
            bucket = call.bucket
            if name.startswith("x-amz-source"):
                source = unquote(headers.get("x-amz-copy-source", "")).lstrip("/")
                bucket = source.partition("/")[0]
            try:
                owner = call.engine.owner_account(call.engine.bucket_owner(bucket)).account_id
            except S3Error:
                continue  # no such bucket: the handler answers it
        if expected != owner:
            raise S3Error("AccessDenied")


def check_signed(call: Call) -> None:
    """403 AccessDenied when the bucket policy explicitly denies this signed request."""
    if not call.bucket:
        return
    # Most buckets have no policy: one cached lookup, and the action is never named.
    if call.engine.setting(call.bucket, policy.SETTING) is not None:
        name = action(call)
        if (
            name is not None
            and name not in _OWNER_ALWAYS
            and denies_signed(call.engine, call.bucket, name, call.key, AccessContext(call))
        ):
            raise S3Error("AccessDenied")
    source = call.request.headers.get("x-amz-copy-source")
    if source is not None and call.key is not None and call.request.method == "PUT":
        _check_copy_source(call, source)


def _check_copy_source(call: Call, source: str) -> None:
    path, _, query = unquote(source).lstrip("/").partition("?")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        return  # the handler answers the malformed header
    versioned = "versionId=" in query
    read = "s3:GetObjectVersion" if versioned else "s3:GetObject"
    try:
        context = AccessContext(call, bucket=bucket, key=key)
        denied = denies_signed(call.engine, bucket, read, key, context)
    except S3Error:
        return  # no such source bucket: the handler answers it
    if denied:
        raise S3Error("AccessDenied")
