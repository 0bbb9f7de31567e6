"""Bucket lifecycle configuration: validated as PutBucketLifecycleConfiguration does,
stored, and returned in AWS's shape.

Rules are stored, not yet applied: objects do not expire on the local clock (issue 21
lists that as a further step).

AWS's checks mirrored here: at most 1,000 rules; IDs unique and at most 255
characters; Status `Enabled` or `Disabled`; a filter (Filter or the legacy Prefix,
not both); at least one action; positive day counts; expiration dates at midnight
UTC; Expiration naming exactly one of Days, Date or ExpiredObjectDeleteMarker.
"""

from __future__ import annotations

import datetime as dt
import secrets
import xml.etree.ElementTree as ET

from lambic._http_limits import parse_xml
from lambic.services.s3.errors import S3Error

SETTING = "lifecycle"
MAX_RULES = 1000
_ACTIONS = (
    "Expiration",
    "Transition",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransition",
    "AbortIncompleteMultipartUpload",
)
_DAY_FIELDS = ("Days", "NoncurrentDays", "DaysAfterInitiation")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strip_namespaces(node: ET.Element) -> None:
    for element in node.iter():
        element.tag = _local(element.tag)


def _invalid(message: str) -> S3Error:
    return S3Error("InvalidArgument", message)


def parse(body: bytes) -> str:
    """The configuration's rules as stored XML, or AWS's error for what it refuses."""
    try:
        root = parse_xml(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    _strip_namespaces(root)
    rules = list(root)
    if not rules or any(rule.tag != "Rule" for rule in rules):
        raise S3Error("MalformedXML")
    if len(rules) > MAX_RULES:
        raise _invalid("Configuration has more than 1000 rules")
    seen: set[str] = set()
    for rule in rules:
        _check_rule(rule, seen)
        if rule.find("ID") is None:
            # AWS names a rule sent without an ID.
            named = ET.Element("ID")
            named.text = secrets.token_urlsafe(36)
            rule.insert(0, named)
    return "".join(ET.tostring(rule, encoding="unicode") for rule in rules)


def _check_rule(rule: ET.Element, seen: set[str]) -> None:
    fields = {child.tag: child for child in rule}
    rule_id = (fields["ID"].text or "") if "ID" in fields else ""
    if len(rule_id) > 255:
        raise _invalid("ID length should not exceed allowed limit of 255")
    if rule_id:
        if rule_id in seen:
            raise _invalid("Rule ID must be unique. Found same ID for more than one rule")
        seen.add(rule_id)
    status = (fields["Status"].text or "").strip() if "Status" in fields else None
    if status not in ("Enabled", "Disabled"):
        raise S3Error("MalformedXML")
    if ("Filter" in fields) == ("Prefix" in fields):
        raise S3Error("MalformedXML")  # AWS: Filter, or the legacy Prefix, not both
    if not any(action in fields for action in _ACTIONS):
        raise S3Error("InvalidRequest", "At least one action needs to be specified in a rule")
    for node in rule.iter():
        if node.tag in _DAY_FIELDS:
            _positive(node)
        elif node.tag == "Date":
            _midnight(node.text or "")
    expiration = fields.get("Expiration")
    if expiration is not None:
        named = [
            c.tag for c in expiration if c.tag in ("Days", "Date", "ExpiredObjectDeleteMarker")
        ]
        if len(named) != 1:
            raise S3Error("MalformedXML")


def _positive(node: ET.Element) -> None:
    raw = (node.text or "").strip()
    try:
        value = int(raw)
    except ValueError as exc:
        raise S3Error("MalformedXML") from exc
    if value <= 0:
        raise _invalid(f"'{node.tag}' for {_action_of(node)} action must be a positive integer")


def _action_of(node: ET.Element) -> str:
    return {
        "NoncurrentDays": "NoncurrentVersionExpiration",
        "DaysAfterInitiation": "AbortIncompleteMultipartUpload",
    }.get(node.tag, "Expiration")


def _midnight(raw: str) -> None:
    try:
        moment = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid("Invalid date format") from exc
    if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
        raise _invalid("'Date' must be at midnight GMT")
