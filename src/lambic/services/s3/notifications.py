"""Bucket notification configurations: parse, validate as AWS does, render, match.

`PutBucketNotificationConfiguration` replaces the whole document. AWS validates the
event names and filter rules and refuses two rules whose event types overlap while
their prefix and suffix filters also overlap ("Configuration is ambiguously
defined..."), because one object could then match both; we mirror that. The event
types accepted are `lambic.app`'s `S3_EVENT_TYPES`, the same list `@app.on_s3_event`
checks, so a handler the decorator accepts is a rule S3 accepts.

Data flow: XML -> `parse_notification` -> `NotificationConfiguration` (validated by
`check_notification`) -> kept parsed by `S3Engine` per bucket -> `targets(event, key)`
picks the rules an object event fires, handed to the engine's listeners with the event.
`render_notification` is the GetBucketNotificationConfiguration document (and the
stored form).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from lambic._http_limits import parse_xml
from lambic.services.s3.errors import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"

# (XML element, destination element) for each kind of target AWS accepts.
_KINDS = {
    "TopicConfiguration": "Topic",
    "QueueConfiguration": "Queue",
    "CloudFunctionConfiguration": "CloudFunction",
}

_AMBIGUOUS = (
    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules "
    "if the prefixes are overlapping for the same event type."
)


@dataclass(frozen=True)
class NotificationRule:
    """One Topic/Queue/CloudFunction configuration."""

    kind: str  # "TopicConfiguration" | "QueueConfiguration" | "CloudFunctionConfiguration"
    id: str
    target_arn: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def matches(self, event_name: str, key: str) -> bool:
        """Does an object event ("ObjectCreated:Put", key) fire this rule?"""
        full = f"s3:{event_name}"
        return (
            any(_event_covers(pattern, full) for pattern in self.events)
            and key.startswith(self.prefix)
            and key.endswith(self.suffix)
        )


@dataclass(frozen=True)
class NotificationConfiguration:
    rules: tuple[NotificationRule, ...] = ()
    eventbridge: bool = False

    def targets(self, event_name: str, key: str) -> list[NotificationRule]:
        """The rules an object event ("ObjectCreated:Put", key) fires, in order."""
        return [rule for rule in self.rules if rule.matches(event_name, key)]


def _event_covers(pattern: str, event: str) -> bool:
    if pattern.endswith(":*"):
        return event.startswith(pattern[:-1])
    return pattern == event


def _events_overlap(a: str, b: str) -> bool:
    return _event_covers(a, b) or _event_covers(b, a)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ET.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return None


def parse_notification(body: bytes) -> NotificationConfiguration:
    """Parse and validate a `NotificationConfiguration` document as AWS does."""
    try:
        root = parse_xml(body) if body.strip() else ET.Element("NotificationConfiguration")
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    if _local(root.tag) != "NotificationConfiguration":
        raise S3Error("MalformedXML")
    rules: list[NotificationRule] = []
    eventbridge = False
    for element in root:
        name = _local(element.tag)
        if name == "EventBridgeConfiguration":
            eventbridge = True
            continue
        if name not in _KINDS:
            raise S3Error("MalformedXML")
        rules.append(_parse_rule(name, element))
    config = NotificationConfiguration(tuple(rules), eventbridge)
    check_notification(config)
    return config


def check_notification(config: NotificationConfiguration) -> None:
    """Refuse what PutBucketNotificationConfiguration refuses: an event type S3 does
    not know, or two rules one object could fire both of."""
    # Imported here: any `lambic.app` module loads the whole programming model, which
    # the S3 service otherwise never needs (it is built by `lambic services`' first
    # request).
    from lambic.app.event_sources import S3_EVENT_TYPES

    for rule in config.rules:
        for event in rule.events:
            if event not in S3_EVENT_TYPES:
                raise S3Error(
                    "InvalidArgument",
                    "The event is not supported for notifications",
                    ArgumentName="Event",
                    ArgumentValue=event,
                )
    _check_overlaps(config.rules)


def _parse_rule(kind: str, element: ET.Element) -> NotificationRule:
    target = _child_text(element, _KINDS[kind])
    events = [(child.text or "").strip() for child in element if _local(child.tag) == "Event"]
    if not target or not events:
        raise S3Error("MalformedXML")
    prefix, suffix = _parse_filter(element)
    rule_id = _child_text(element, "Id") or str(uuid.uuid4())
    return NotificationRule(kind, rule_id, target, tuple(events), prefix, suffix)


def _parse_filter(element: ET.Element) -> tuple[str, str]:
    prefix: str | None = None
    suffix: str | None = None
    for child in element:
        if _local(child.tag) != "Filter":
            continue
        for s3key in child:
            if _local(s3key.tag) != "S3Key":
                raise S3Error("MalformedXML")
            for rule in s3key:
                name = (_child_text(rule, "Name") or "").lower()
                value = _child_text(rule, "Value") or ""
                if name == "prefix":
                    if prefix is not None:
                        raise S3Error(
                            "InvalidArgument",
                            "Cannot specify more than one prefix rule in a filter.",
                            ArgumentName="FilterRule",
                            ArgumentValue="prefix",
                        )
                    prefix = value
                elif name == "suffix":
                    if suffix is not None:
                        raise S3Error(
                            "InvalidArgument",
                            "Cannot specify more than one suffix rule in a filter.",
                            ArgumentName="FilterRule",
                            ArgumentValue="suffix",
                        )
                    suffix = value
                else:
                    raise S3Error(
                        "InvalidArgument",
                        "filter rule name must be either prefix or suffix",
                        ArgumentName="FilterRule",
                        ArgumentValue=name,
                    )
    return prefix or "", suffix or ""


def _check_overlaps(rules: tuple[NotificationRule, ...]) -> None:
    for index, first in enumerate(rules):
        for second in rules[index + 1 :]:
            same_event = any(_events_overlap(a, b) for a in first.events for b in second.events)
            prefixes = first.prefix.startswith(second.prefix) or second.prefix.startswith(
                first.prefix
            )
            suffixes = first.suffix.endswith(second.suffix) or second.suffix.endswith(first.suffix)
            if same_event and prefixes and suffixes:
                raise S3Error(
                    "InvalidArgument",
                    _AMBIGUOUS,
                    ArgumentName="Event",
                    ArgumentValue=next(
                        a for a in first.events for b in second.events if _events_overlap(a, b)
                    ),
                )


def render_notification(config: NotificationConfiguration) -> bytes:
    """The document GetBucketNotificationConfiguration returns."""
    root = ET.Element("NotificationConfiguration", xmlns=NS)
    for rule in config.rules:
        element = ET.SubElement(root, rule.kind)
        ET.SubElement(element, "Id").text = rule.id
        ET.SubElement(element, _KINDS[rule.kind]).text = rule.target_arn
        for event in rule.events:
            ET.SubElement(element, "Event").text = event
        if rule.prefix or rule.suffix:
            s3key = ET.SubElement(ET.SubElement(element, "Filter"), "S3Key")
            # AWS answers the rule names capitalised whatever case they were sent in.
            for name, value in (("Prefix", rule.prefix), ("Suffix", rule.suffix)):
                if value:
                    filter_rule = ET.SubElement(s3key, "FilterRule")
                    ET.SubElement(filter_rule, "Name").text = name
                    ET.SubElement(filter_rule, "Value").text = value
    if config.eventbridge:
        ET.SubElement(root, "EventBridgeConfiguration")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
