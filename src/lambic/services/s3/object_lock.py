"""S3 Object Lock: a bucket's default retention, a version's retention and legal hold.

A bucket created with `x-amz-bucket-object-lock-enabled: true` (or a versioned bucket
given an Object Lock configuration) keeps versions from being removed for good:

- COMPLIANCE retention: no one removes the version, or shortens or weakens its
  retention, before its retain-until date;
- GOVERNANCE retention: the same, unless the request carries
  `x-amz-bypass-governance-retention: true`;
- a legal hold (ON) blocks removal whatever the retention says.

A DELETE without a version id is never blocked: it only adds a delete marker. AWS
refuses the others with 403 AccessDenied; we mirror it. The state lives in the
version's `ObjectAttrs.lock` ({"mode", "until", "hold"}); the bucket's configuration is
its "object-lock" setting, as JSON ({"mode", "days" | "years"} or {} without a rule).
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

from lambic._http_limits import parse_xml
from lambic.services.base import Headers
from lambic.services.s3._wire import element
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import StoredObject

MODES = ("GOVERNANCE", "COMPLIANCE")
SETTING = "object-lock"
_MISSING = "Bucket is missing Object Lock Configuration"


def _children(body: bytes) -> tuple[str, dict[str, ET.Element]]:
    try:
        root = parse_xml(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    return _local(root.tag), {_local(child.tag): child for child in root}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(node: ET.Element | None) -> str | None:
    return None if node is None else (node.text or "").strip()


# -- the bucket's configuration ------------------------------------------------------


def parse_configuration(body: bytes) -> str:
    """PutObjectLockConfiguration's document, validated as AWS does, as stored JSON."""
    _, fields = _children(body)
    if _text(fields.get("ObjectLockEnabled")) != "Enabled":
        raise S3Error("MalformedXML")
    rule = fields.get("Rule")
    if rule is None:
        return "{}"
    retention = {_local(c.tag): c for c in rule}.get("DefaultRetention")
    if retention is None:
        raise S3Error("MalformedXML")
    parts = {_local(c.tag): _text(c) or "" for c in retention}
    mode = parts.get("Mode")
    if mode not in MODES or ("Days" in parts) == ("Years" in parts):
        raise S3Error("MalformedXML")
    unit = "days" if "Days" in parts else "years"
    raw = parts["Days" if unit == "days" else "Years"]
    try:
        amount = int(raw)
    except ValueError as exc:
        raise S3Error("MalformedXML") from exc
    if amount <= 0:
        raise S3Error("InvalidRetentionPeriod")
    return json.dumps({"mode": mode, unit: amount})


def render_configuration(stored: str) -> str:
    config = json.loads(stored)
    rule = ""
    if config:
        unit = "Days" if "days" in config else "Years"
        rule = (
            "<Rule><DefaultRetention>"
            + element("Mode", config["mode"])
            + element(unit, config[unit.lower()])
            + "</DefaultRetention></Rule>"
        )
    return "<ObjectLockEnabled>Enabled</ObjectLockEnabled>" + rule


# -- a version's lock ------------------------------------------------------------------


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_date(raw: str, argument: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise S3Error(
            "InvalidArgument",
            "The retain until date must be provided in ISO 8601 format",
            ArgumentName=argument,
            ArgumentValue=raw,
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _future(moment: dt.datetime, now: float, argument: str, raw: str) -> None:
    if moment.timestamp() <= now:
        raise S3Error(
            "InvalidArgument",
            "The retain until date must be in the future!",
            ArgumentName=argument,
            ArgumentValue=raw,
        )


def lock_from_headers(headers: Headers, setting: str | None, now: float) -> dict[str, str]:
    """The lock a PUT / copy / CreateMultipartUpload sets: its x-amz-object-lock-*
    headers, else the bucket's default retention."""
    mode = headers.get("x-amz-object-lock-mode")
    until = headers.get("x-amz-object-lock-retain-until-date")
    hold = headers.get("x-amz-object-lock-legal-hold")
    if setting is None:
        if mode or until or hold:
            raise S3Error("InvalidRequest", "Bucket is missing ObjectLockConfiguration")
        return {}
    lock: dict[str, str] = {}
    if mode or until:
        if not (mode and until):
            raise S3Error(
                "InvalidArgument",
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both "
                "be supplied",
            )
        if mode not in MODES:
            raise S3Error(
                "InvalidArgument",
                "Unknown wormMode directive.",
                ArgumentName="x-amz-object-lock-mode",
                ArgumentValue=mode,
            )
        moment = _parse_date(until, "x-amz-object-lock-retain-until-date")
        _future(moment, now, "x-amz-object-lock-retain-until-date", until)
        lock = {"mode": mode, "until": iso(moment)}
    else:
        config = json.loads(setting)
        if config:
            days = config.get("days", 0) + 365 * config.get("years", 0)
            moment = dt.datetime.fromtimestamp(now, dt.UTC) + dt.timedelta(days=days)
            lock = {"mode": config["mode"], "until": iso(moment)}
    if hold is not None:
        if hold not in ("ON", "OFF"):
            raise S3Error(
                "InvalidArgument",
                "Legal Hold must be either of 'ON' or 'OFF'",
                ArgumentName="x-amz-object-lock-legal-hold",
                ArgumentValue=hold,
            )
        lock["hold"] = hold
    return lock


def lock_headers(lock: dict[str, str]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    if "mode" in lock:
        headers.append(("x-amz-object-lock-mode", lock["mode"]))
        headers.append(("x-amz-object-lock-retain-until-date", lock["until"]))
    if "hold" in lock:
        headers.append(("x-amz-object-lock-legal-hold", lock["hold"]))
    return headers


def _active(lock: dict[str, str], now: float) -> bool:
    return "until" in lock and _parse_date(lock["until"], "until").timestamp() > now


def check_removal(version: StoredObject, *, now: float, bypass: bool) -> None:
    """Refuse (AccessDenied) removing a version its lock protects."""
    lock = version.attrs.lock
    if lock.get("hold") == "ON":
        raise S3Error("AccessDenied")
    if _active(lock, now) and (lock["mode"] == "COMPLIANCE" or not bypass):
        raise S3Error("AccessDenied")


def parse_retention(body: bytes, lock: dict[str, str], now: float, bypass: bool) -> dict[str, str]:
    """PutObjectRetention: the version's new lock, refused as AWS refuses shortening
    COMPLIANCE (always) or GOVERNANCE (without the bypass header)."""
    _, fields = _children(body)
    mode, until = _text(fields.get("Mode")), _text(fields.get("RetainUntilDate"))
    updated = {k: v for k, v in lock.items() if k == "hold"}
    if mode is None and until is None:
        new_until: dt.datetime | None = None
    else:
        if mode not in MODES or not until:
            raise S3Error("MalformedXML")
        new_until = _parse_date(until, "RetainUntilDate")
        _future(new_until, now, "RetainUntilDate", until)
        updated.update(mode=mode, until=iso(new_until))
    if _active(lock, now):
        current = _parse_date(lock["until"], "until")
        weaker = new_until is None or new_until < current or updated.get("mode") != lock["mode"]
        if lock["mode"] == "COMPLIANCE" and weaker:
            raise S3Error("AccessDenied")
        # Any change of mode, or a shorter date, of an active GOVERNANCE lock needs the
        # bypass header (AWS refuses even GOVERNANCE -> COMPLIANCE without it).
        if lock["mode"] == "GOVERNANCE" and weaker and not bypass:
            raise S3Error("AccessDenied")
    return updated


def render_retention(lock: dict[str, str]) -> str:
    if "mode" not in lock:
        raise S3Error("NoSuchObjectLockConfiguration")
    return element("Mode", lock["mode"]) + element("RetainUntilDate", lock["until"])


def parse_legal_hold(body: bytes) -> str:
    _, fields = _children(body)
    status = _text(fields.get("Status"))
    if status not in ("ON", "OFF"):
        raise S3Error("MalformedXML")
    return status


def render_legal_hold(lock: dict[str, str]) -> str:
    if "hold" not in lock:
        raise S3Error("NoSuchObjectLockConfiguration")
    return element("Status", lock["hold"])


def missing_configuration() -> S3Error:
    return S3Error("InvalidRequest", _MISSING)
