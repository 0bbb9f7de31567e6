"""Two MTA feed formats behind one interface: bytes in, one status per line group out.

- The legacy `serviceStatus.txt` XML (2009-2018) lists each line group with a status
  word. We find elements by tag name, as the original site did, so unexpected
  wrapping or new siblings do not break it, and rare words like MINOR DELAYS pass
  through untouched.
- The current GTFS-realtime subway alerts feed lists alerts per route, with the MTA's
  "Mercury" extension giving each alert a type ("Delays", "Planned - Reroute"...).
  It comes as JSON (the default) or protobuf. Alerts active at the feed's time are
  mapped onto the legacy groups; the worst status wins.

`parse_feed(raw, fmt)` raises `FeedError` for anything that is not a usable feed
(an HTML "Access Denied" page, truncated XML, JSON without alerts), so the caller
writes nothing and logs why.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.lines import (
    GOOD_SERVICE,
    LINE_GROUPS,
    ROUTE_TO_GROUP,
    LineStatus,
    status_for_alert_type,
    worst,
)

FORMATS = ("xml", "gtfs-json", "gtfs-protobuf")


class FeedError(ValueError):
    """The bytes fetched are not a feed we can trust; nothing should be written."""


@dataclass(frozen=True)
class Snapshot:
    """The status of every line group at one moment."""

    lines: list[LineStatus]
    feed_time: float | None = None  # epoch seconds the feed describes, when it says
    notes: list[str] = field(default_factory=list)

    def as_rows(self) -> list[list[str]]:
        return [line.as_row() for line in self.lines]


def parse_feed(raw: bytes, fmt: str) -> Snapshot:
    """Parse `raw` as `fmt` ("xml", "gtfs-json" or "gtfs-protobuf")."""
    if fmt == "xml":
        return parse_legacy_xml(raw)
    if fmt == "gtfs-json":
        return parse_alerts_json(raw)
    if fmt == "gtfs-protobuf":
        return parse_alerts_protobuf(raw)
    raise FeedError(f"Unknown feed format {fmt!r}; use one of {', '.join(FORMATS)}")


# --- legacy XML --------------------------------------------------------------------

# The legacy feed's optional <timestamp> is New York local time without a zone; the
# captures we replay predate 2019, so a fixed offset per DST rule is enough.
_EASTERN_STANDARD = timezone(timedelta(hours=-5))


def parse_legacy_xml(raw: bytes) -> Snapshot:
    """Parse `serviceStatus.txt`: `<service><subway><line><name/><status/>...`."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise FeedError(f"Feed is not XML ({exc}); starts with {_preview(raw)!r}") from exc
    subway = root if root.tag == "subway" else root.find(".//subway")
    if subway is None:
        raise FeedError(f"Feed has no <subway> section; root element is <{root.tag}>")
    found: dict[str, str] = {}
    for line in subway.iter("line"):
        name = (line.findtext("name") or "").strip()
        status = " ".join((line.findtext("status") or "").split()).upper()
        if name:
            found[name] = status or GOOD_SERVICE
    missing = [group for group in LINE_GROUPS if group not in found]
    if missing:
        raise FeedError(f"Feed lists no status for line groups {', '.join(missing)}")
    return Snapshot(
        lines=[LineStatus(group, found[group]) for group in LINE_GROUPS],
        feed_time=_legacy_timestamp(root.findtext(".//timestamp")),
    )


def _legacy_timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        local = datetime.strptime(text.strip(), "%m/%d/%Y %I:%M:%S %p")
    except ValueError:
        return None
    # US DST: second Sunday of March to first Sunday of November.
    march = datetime(local.year, 3, 8 + (6 - datetime(local.year, 3, 8).weekday()) % 7, 2)
    november = datetime(local.year, 11, 1 + (6 - datetime(local.year, 11, 1).weekday()) % 7, 2)
    offset = timedelta(hours=-4) if march <= local < november else timedelta(hours=-5)
    return local.replace(tzinfo=timezone(offset)).timestamp()


# --- GTFS-realtime alerts ----------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """The parts of a GTFS-realtime alert the status depends on."""

    routes: frozenset[str]
    periods: tuple[tuple[int, int | None], ...]
    alert_type: str
    updated_at: int = 0

    def active_at(self, moment: float) -> bool:
        # GTFS-rt: an alert with no active period is always active.
        if not self.periods:
            return True
        return any(start <= moment and (end is None or moment < end) for start, end in self.periods)


def statuses_from_alerts(alerts: Iterable[Alert], header_time: int) -> Snapshot:
    """Map the alerts active at the feed's time onto the legacy line groups.

    The feed's time is the later of its header timestamp and its newest alert update:
    the MTA stamps the header before it finishes collecting alerts (the 2025 capture
    carries a "Delays" alert updated, and starting, 300 s after the header time), and a
    feed cannot describe a moment earlier than its own newest entry.
    """
    alerts = list(alerts)
    moment = max([header_time, *(alert.updated_at for alert in alerts)])
    per_group: dict[str, list[str]] = {group: [] for group in LINE_GROUPS}
    for alert in alerts:
        if not alert.active_at(moment):
            continue
        status = status_for_alert_type(alert.alert_type)
        for route in alert.routes:
            group = ROUTE_TO_GROUP.get(route)
            if group is not None:
                per_group[group].append(status)
    return Snapshot(
        lines=[LineStatus(group, worst(per_group[group])) for group in LINE_GROUPS],
        feed_time=float(moment),
    )


_MERCURY_KEYS = (
    "transit_realtime.mercury_alert",
    "mercury_alert",
    "[transit_realtime.mercury_alert]",
)


def parse_alerts_json(raw: bytes) -> Snapshot:
    """Parse the MTA's JSON rendering of the GTFS-realtime subway alerts feed."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"Feed is not JSON ({exc}); starts with {_preview(raw)!r}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("header"), dict):
        raise FeedError("Feed JSON has no GTFS-realtime 'header' object")
    header_time = _int(document["header"].get("timestamp"))
    if header_time is None:
        raise FeedError("Feed JSON header has no timestamp")
    alerts: list[Alert] = []
    for entity in document.get("entity") or []:
        alert = entity.get("alert") if isinstance(entity, dict) else None
        if not isinstance(alert, dict):
            continue
        mercury = next((alert[k] for k in _MERCURY_KEYS if isinstance(alert.get(k), dict)), {})
        alerts.append(
            Alert(
                routes=frozenset(
                    str(sel["route_id"])
                    for sel in alert.get("informed_entity") or []
                    if isinstance(sel, dict) and sel.get("route_id")
                ),
                periods=tuple(
                    (_int(p.get("start")) or 0, _int(p.get("end")))
                    for p in alert.get("active_period") or []
                    if isinstance(p, dict)
                ),
                alert_type=str(mercury.get("alert_type") or ""),
                updated_at=_int(mercury.get("updated_at")) or 0,
            )
        )
    return statuses_from_alerts(alerts, header_time)


def parse_alerts_protobuf(raw: bytes) -> Snapshot:
    """Parse the protobuf feed with `gtfs-realtime-bindings` and the Mercury extensions."""
    from chalicelib import mercury  # imported lazily: protobuf is only needed for this format

    try:
        message = mercury.parse_feed_message(raw)
    except mercury.ProtobufUnavailableError as exc:
        raise FeedError(str(exc)) from exc
    except Exception as exc:  # protobuf raises DecodeError and, on some builds, others
        raise FeedError(f"Feed is not a GTFS-realtime protobuf message ({exc})") from exc
    if not message.header.HasField("timestamp"):
        raise FeedError("Feed protobuf header has no timestamp")
    alerts = [
        Alert(
            routes=frozenset(sel.route_id for sel in entity.alert.informed_entity if sel.route_id),
            periods=tuple(
                (p.start, p.end if p.HasField("end") else None) for p in entity.alert.active_period
            ),
            alert_type=mercury.alert_type(entity.alert),
            updated_at=mercury.updated_at(entity.alert),
        )
        for entity in message.entity
        if entity.HasField("alert")
    ]
    return statuses_from_alerts(alerts, int(message.header.timestamp))


def _int(value: Any) -> int | None:
    # GTFS-rt JSON renders uint64 as strings or numbers depending on the encoder.
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _preview(raw: bytes) -> str:
    return raw[:60].decode("utf-8", "replace").replace("\n", " ")
