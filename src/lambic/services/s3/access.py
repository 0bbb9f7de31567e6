"""Bucket access settings stored as documents: public access block and object
ownership controls, validated as AWS validates them and returned in AWS's shapes.

The public access block is enforced: BlockPublicPolicy refuses a public policy,
BlockPublicAcls a public ACL, IgnorePublicAcls voids public grants, and
RestrictPublicBuckets keeps anonymous callers (and, with identities, other accounts)
out whatever a public policy says. Object ownership decides who owns an upload and
whether ACLs count when identities are configured (`principals`); with one account it
is stored and its BucketOwnerEnforced refuses ACLs naming anyone but the owner.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import lru_cache

from lambic._http_limits import parse_xml
from lambic.services.s3._wire import element
from lambic.services.s3.errors import S3Error

PUBLIC_ACCESS_BLOCK = "publicAccessBlock"
OWNERSHIP = "ownershipControls"
_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
OWNERSHIPS = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")


def _root(body: bytes) -> ET.Element:
    try:
        return parse_xml(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_public_access_block(body: bytes) -> str:
    """PutPublicAccessBlock: four booleans, each false when left out."""
    flags: dict[str, bool] = dict.fromkeys(_FLAGS, False)
    for child in _root(body):
        name, value = _local(child.tag), (child.text or "").strip().lower()
        if name not in flags or value not in ("true", "false"):
            raise S3Error("MalformedXML")
        flags[name] = value == "true"
    return json.dumps(flags)


@lru_cache(maxsize=256)
def public_access_flag(stored: str | None, name: str) -> bool:
    """One flag (`BlockPublicPolicy`, ...) of a stored public access block (None: none)."""
    return stored is not None and bool(json.loads(stored)[name])


def render_public_access_block(stored: str) -> str:
    flags = json.loads(stored)
    return "".join(element(name, "true" if flags[name] else "false") for name in _FLAGS)


def parse_ownership(body: bytes) -> str:
    """PutBucketOwnershipControls: exactly one rule naming a known ObjectOwnership."""
    rules = [child for child in _root(body) if _local(child.tag) == "Rule"]
    if len(rules) != 1:
        raise S3Error("MalformedXML")
    values = [(c.text or "").strip() for c in rules[0] if _local(c.tag) == "ObjectOwnership"]
    if len(values) != 1 or values[0] not in OWNERSHIPS:
        raise S3Error("MalformedXML")
    return values[0]


def check_ownership_header(value: str) -> str:
    """CreateBucket's x-amz-object-ownership header."""
    if value not in OWNERSHIPS:
        raise S3Error(
            "InvalidArgument",
            "Invalid x-amz-object-ownership header",
            ArgumentName="x-amz-object-ownership",
            ArgumentValue=value,
        )
    return value


def render_ownership(stored: str) -> str:
    return f"<Rule>{element('ObjectOwnership', stored)}</Rule>"
