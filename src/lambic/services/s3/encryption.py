"""Server-side encryption as S3 states it: SSE-S3, SSE-KMS, SSE-C and bucket defaults.

Bytes are kept as they are (the local cloud has no disks to protect); what AWS shows
of encryption is mirrored exactly: the headers a write answers and a read returns,
the bucket's default encryption applied to writes that name none, and SSE-C's
contract. SSE-C (a customer key sent with every request): the key must be 32 bytes
of AES-256 with a matching MD5, every later read must present the same key, and the
key is never stored: only a random salt and HMAC-SHA256(salt, key), enough to tell
the right key from a wrong one.

Errors (all AWS's 400 InvalidArgument / InvalidRequest wording) say which header is
wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import xml.etree.ElementTree as ET
from dataclasses import replace

from lambic._http_limits import parse_xml
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services.base import Headers
from lambic.services.s3._wire import element
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import ObjectAttrs

SETTING = "encryption"
ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
SSE = "x-amz-server-side-encryption"
KMS_KEY = "x-amz-server-side-encryption-aws-kms-key-id"
BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
CUSTOMER = "x-amz-server-side-encryption-customer-"
COPY_CUSTOMER = "x-amz-copy-source-server-side-encryption-customer-"
# The key AWS uses for aws:kms without a key id: the account's aws/s3 managed key.
DEFAULT_KMS_KEY = (
    f"arn:aws:kms:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:key/aws-s3-0000-0000-0000-000000000000"
)


def _invalid(message: str, name: str, value: str = "") -> S3Error:
    return S3Error("InvalidArgument", message, ArgumentName=name, ArgumentValue=value)


# -- the bucket's default encryption -------------------------------------------------


def parse_configuration(body: bytes) -> str:
    """PutBucketEncryption's document, validated as AWS does, as stored JSON."""
    try:
        root = parse_xml(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    rules: list[dict[str, str | bool]] = []
    for rule in root:
        if rule.tag.rsplit("}", 1)[-1] != "Rule":
            raise S3Error("MalformedXML")
        fields = {child.tag.rsplit("}", 1)[-1]: child for child in rule}
        default = fields.get("ApplyServerSideEncryptionByDefault")
        if default is None:
            raise S3Error("MalformedXML")
        values = {c.tag.rsplit("}", 1)[-1]: (c.text or "").strip() for c in default}
        algorithm = values.get("SSEAlgorithm")
        if algorithm not in ALGORITHMS:
            raise S3Error("MalformedXML")
        parsed: dict[str, str | bool] = {"algorithm": algorithm}
        if "KMSMasterKeyID" in values:
            if not algorithm.startswith("aws:kms"):
                raise _invalid(
                    "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                    "aws:kms or aws:kms:dsse",
                    "ApplyServerSideEncryptionByDefault",
                )
            parsed["key"] = values["KMSMasterKeyID"]
        bucket_key = fields.get("BucketKeyEnabled")
        if bucket_key is not None:
            parsed["bucket_key"] = (bucket_key.text or "").strip().lower() == "true"
        rules.append(parsed)
    if len(rules) != 1:
        raise S3Error("MalformedXML")
    return json.dumps(rules)


def render_configuration(stored: str) -> str:
    rules = ""
    for rule in json.loads(stored):
        default = element("SSEAlgorithm", rule["algorithm"])
        if "key" in rule:
            default += element("KMSMasterKeyID", rule["key"])
        bucket_key = "true" if rule.get("bucket_key") else "false"
        rules += (
            f"<Rule><ApplyServerSideEncryptionByDefault>{default}"
            f"</ApplyServerSideEncryptionByDefault>"
            f"{element('BucketKeyEnabled', bucket_key)}</Rule>"
        )
    return rules


# -- a write's encryption ------------------------------------------------------------


def _customer_key(headers: Headers, prefix: str) -> bytes | None:
    """The SSE-C key a request carries under `prefix`, checked as AWS checks it."""
    algorithm = headers.get(prefix + "algorithm")
    key = headers.get(prefix + "key")
    md5 = headers.get(prefix + "key-md5")
    if algorithm is None and key is None and md5 is None:
        return None
    if algorithm is None:
        raise _invalid(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide a valid encryption algorithm.",
            prefix + "algorithm",
        )
    if algorithm != "AES256":
        raise _invalid(
            "The encryption algorithm specified is not valid.", prefix + "algorithm", algorithm
        )
    if key is None:
        raise _invalid(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide an appropriate secret key.",
            prefix + "key",
        )
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(
            "The secret key was invalid for the specified algorithm.", prefix + "key"
        ) from exc
    if len(raw) != 32:
        raise _invalid("The secret key was invalid for the specified algorithm.", prefix + "key")
    if md5 is None:
        raise _invalid(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide the client calculated MD5 of the secret key.",
            prefix + "key-MD5",
        )
    if base64.b64encode(hashlib.md5(raw).digest()).decode() != md5:
        raise _invalid(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
            prefix + "key-MD5",
        )
    return raw


def _seal(key: bytes) -> dict[str, str]:
    salt = secrets.token_bytes(16)
    return {
        "algorithm": "AES256",
        "salt": base64.b64encode(salt).decode(),
        "mac": hmac.new(salt, key, hashlib.sha256).hexdigest(),
    }


def _opens(sealed: dict[str, str], key: bytes) -> bool:
    salt = base64.b64decode(sealed["salt"])
    return hmac.compare_digest(sealed["mac"], hmac.new(salt, key, hashlib.sha256).hexdigest())


def encrypt(headers: Headers, attrs: ObjectAttrs, bucket_default: str | None) -> ObjectAttrs:
    """`attrs` with the encryption a PUT / copy / CreateMultipartUpload asks for (or
    the bucket's default), validated as AWS does."""
    stored = dict(attrs.headers)
    algorithm = stored.get(SSE)
    if KMS_KEY in stored and not (algorithm or "").startswith("aws:kms"):
        raise _invalid(
            "Server Side Encryption with AWS KMS managed key requires HTTP header "
            "x-amz-server-side-encryption : aws:kms",
            KMS_KEY,
            stored[KMS_KEY],
        )
    customer = _customer_key(headers, CUSTOMER)
    if customer is not None:
        if algorithm is not None:
            raise _invalid(
                "Server Side Encryption with Customer provided key is incompatible with the "
                "encryption method specified",
                SSE,
                algorithm,
            )
        return replace(attrs, sse=_seal(customer))
    if algorithm is None and bucket_default is not None:
        rule = json.loads(bucket_default)[0]
        algorithm = stored[SSE] = rule["algorithm"]
        if "key" in rule:
            stored[KMS_KEY] = rule["key"]
        if rule.get("bucket_key"):
            stored[BUCKET_KEY] = "true"
    if algorithm is not None and algorithm.startswith("aws:kms"):
        stored.setdefault(KMS_KEY, DEFAULT_KMS_KEY)
    if stored == attrs.headers:
        return attrs
    return replace(attrs, headers=stored)


def check_read(
    headers: Headers, attrs: ObjectAttrs, prefix: str = CUSTOMER, *, part: bool = False
) -> None:
    """A GET / HEAD / copy source / UploadPart (`part`) must carry the SSE-C key the
    object (or upload) was written with, and only then. GET and HEAD refuse SSE-S3/KMS
    headers; UploadPart ignores them, as AWS does."""
    refuses_sse = prefix == CUSTOMER and not part
    if (
        not attrs.sse
        and not any(name.startswith(prefix) for name in headers)
        and not (refuses_sse and SSE in headers)
    ):
        return  # the common read: no encryption headers, none needed
    if refuses_sse and SSE in headers:
        raise _invalid(
            "x-amz-server-side-encryption header is not supported for this operation.",
            SSE,
            headers[SSE],
        )
    key = _customer_key(headers, prefix)
    if not attrs.sse:
        if key is not None:
            raise S3Error(
                "InvalidRequest", "The encryption parameters are not applicable to this object."
            )
        return
    if key is None:
        raise S3Error(
            "InvalidRequest",
            "The object was stored using a form of Server Side Encryption. The correct "
            "parameters must be provided to retrieve the object.",
        )
    if not _opens(attrs.sse, key):
        raise S3Error(
            "InvalidRequest",
            "The provided encryption parameters did not match the ones used originally.",
        )


def response_headers(attrs: ObjectAttrs, request: Headers) -> list[tuple[str, str]]:
    """The encryption headers AWS answers: SSE-C's algorithm and the key's MD5 (from the
    request, which carried the key), else the stored SSE headers, else SSE-S3 (AWS's
    default since 2023 encrypts every object)."""
    if attrs.sse:
        headers = [(CUSTOMER + "algorithm", attrs.sse["algorithm"])]
        md5 = request.get(CUSTOMER + "key-md5")
        if md5 is not None:
            headers.append((CUSTOMER + "key-MD5", md5))
        return headers
    headers = [(name, value) for name, value in attrs.headers.items() if name.startswith(SSE)]
    return headers or [(SSE, "AES256")]
