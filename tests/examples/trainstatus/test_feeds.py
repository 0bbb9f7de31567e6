"""Both feed parsers on every capture in examples/trainstatus/chalicelib/captures.

Expected statuses were read off each capture by hand (see that folder's ORIGIN.md),
not from the parser's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.feeds import FeedError, parse_feed
from chalicelib.lines import LINE_GROUPS

CAPTURES = (
    Path(__file__).resolve().parents[3] / "examples" / "trainstatus" / "chalicelib" / "captures"
)
ALERTS_HEADER_TIME = 1763052028


def statuses(name: str, fmt: str) -> dict[str, str]:
    snapshot = parse_feed((CAPTURES / name).read_bytes(), fmt)
    assert [line.line for line in snapshot.lines] == list(LINE_GROUPS)
    return {line.line: line.status for line in snapshot.lines}


def not_good(result: dict[str, str]) -> dict[str, str]:
    return {line: status for line, status in result.items() if status != "GOOD SERVICE"}


def test_all_good_capture_gives_eleven_nopes() -> None:
    snapshot = parse_feed(
        (CAPTURES / "serviceStatus_2017-11-13T0751Z_all-good.txt").read_bytes(), "xml"
    )
    assert [row[2] for row in snapshot.as_rows()] == ["NOPE"] * 11


def test_mixed_capture_flags_456_7_s_and_sir() -> None:
    result = statuses("serviceStatus_2016-10-24T0957Z_mixed.txt", "xml")
    assert not_good(result) == {
        "456": "DELAYS",
        "7": "SERVICE CHANGE",
        "S": "PLANNED WORK",
        "SIR": "DELAYS",
    }


def test_suspended_capture_reports_sir_suspended() -> None:
    result = statuses("serviceStatus_2017-03-14T0850Z_suspended.txt", "xml")
    assert not_good(result) == {
        "SIR": "SUSPENDED",
        "123": "SERVICE CHANGE",
        "BDFM": "SERVICE CHANGE",
    }


def test_rare_minor_delays_passes_through_unchanged() -> None:
    result = statuses("serviceStatus_2018-02-21T1803Z_minor-delays.txt", "xml")
    assert result["ACE"] == result["BDFM"] == "MINOR DELAYS"
    assert result["456"] == result["NQR"] == "DELAYS"
    assert result["123"] == result["SIR"] == "PLANNED WORK"


def test_legacy_timestamp_is_read_as_new_york_time() -> None:
    raw = (CAPTURES / "serviceStatus_2016-10-25T0626ET_with-timestamp.txt").read_bytes()
    snapshot = parse_feed(raw, "xml")
    assert snapshot.feed_time == 1477391160.0  # 2016-10-25 06:26 EDT = 10:26 UTC
    assert not_good({line.line: line.status for line in snapshot.lines}) == {
        "BDFM": "PLANNED WORK",
        "NQR": "SERVICE CHANGE",
    }


def test_access_denied_page_is_a_feed_error_naming_what_came_back() -> None:
    raw = (CAPTURES / "serviceStatus_2018-07-21_access-denied.html").read_bytes()
    with pytest.raises(FeedError, match="Access Denied"):
        parse_feed(raw, "xml")


def test_xml_missing_a_line_group_is_rejected() -> None:
    raw = (
        b"<service><subway><line><name>123</name><status>GOOD SERVICE</status></line>"
        b"</subway></service>"
    )
    with pytest.raises(FeedError, match="456"):
        parse_feed(raw, "xml")


EXPECTED_2025 = {
    "123": "PLANNED WORK",
    "456": "PLANNED WORK",
    "7": "GOOD SERVICE",
    "ACE": "DELAYS",
    "BDFM": "DELAYS",
    "G": "GOOD SERVICE",
    "JZ": "GOOD SERVICE",
    "L": "PLANNED WORK",
    "NQR": "DELAYS",
    "S": "GOOD SERVICE",
    "SIR": "DELAYS",
}


def test_gtfs_alerts_json_maps_routes_onto_line_groups_worst_first() -> None:
    assert statuses("subway-alerts_2025-11-13T1640Z.json", "gtfs-json") == EXPECTED_2025


def test_gtfs_alerts_protobuf_with_mercury_extension_agrees_with_json() -> None:
    assert statuses("subway-alerts_2025-11-13T1640Z.converted.pb", "gtfs-protobuf") == EXPECTED_2025


def test_feed_time_is_the_newest_alert_update_when_the_header_lags() -> None:
    raw = (CAPTURES / "subway-alerts_2025-11-13T1640Z.json").read_bytes()
    snapshot = parse_feed(raw, "gtfs-json")
    assert snapshot.feed_time == ALERTS_HEADER_TIME + 300


def _alerts_feed(alerts: list[dict[str, object]], timestamp: int = 1000) -> bytes:
    entities = [{"id": str(i), "alert": alert} for i, alert in enumerate(alerts)]
    return json.dumps({"header": {"timestamp": timestamp}, "entity": entities}).encode()


def _alert(
    routes: list[str], alert_type: str, start: int = 0, end: int | None = None
) -> dict[str, object]:
    period: dict[str, int] = {"start": start}
    if end is not None:
        period["end"] = end
    return {
        "active_period": [period],
        "informed_entity": [{"route_id": r} for r in routes],
        "transit_realtime.mercury_alert": {"alert_type": alert_type, "updated_at": 0},
    }


def test_alerts_outside_their_active_period_do_not_count() -> None:
    raw = _alerts_feed([_alert(["G"], "Delays", start=2000), _alert(["L"], "Delays", 0, 500)])
    snapshot = parse_feed(raw, "gtfs-json")
    assert all(line.status == "GOOD SERVICE" for line in snapshot.lines)


def test_worst_alert_wins_within_a_group() -> None:
    raw = _alerts_feed(
        [
            _alert(["A"], "Planned - Reroute"),
            _alert(["C"], "Suspended"),
            _alert(["E"], "Delays"),
            _alert(["7"], "Station Notice"),
        ]
    )
    result = {line.line: line.status for line in parse_feed(raw, "gtfs-json").lines}
    assert result["ACE"] == "SUSPENDED"
    assert result["7"] == "GOOD SERVICE"


def test_json_that_is_not_a_gtfs_feed_is_rejected() -> None:
    with pytest.raises(FeedError):
        parse_feed(b'{"hello": 1}', "gtfs-json")
    with pytest.raises(FeedError):
        parse_feed(b"<html>Access Denied</html>", "gtfs-json")
    with pytest.raises(FeedError):
        parse_feed(b"\x00\x01garbage", "gtfs-protobuf")


def test_unknown_format_names_the_formats_it_accepts() -> None:
    with pytest.raises(FeedError, match="gtfs-json"):
        parse_feed(b"", "yaml")
