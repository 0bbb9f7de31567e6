"""How `lambic local`'s terminal shows requests and log events."""

from __future__ import annotations

import re

from lambic.runtime._log_lines import access_line, is_platform_line, sort_rows, terminal_lines


def test_an_access_line_names_the_request_its_status_duration_and_the_function() -> None:
    line = access_line((1_700_000_000_000, "POST", "/orders?x=1", 201, 12.345, "shop-dev", 1))

    expected = r'\d\d:\d\d:\d\d "POST /orders\?x=1" 201 Created 12\.3 ms cold \[shop-dev\]'
    assert re.fullmatch(expected, line)


def test_a_request_the_gateway_answered_itself_names_no_function() -> None:
    line = access_line((1_700_000_000_000, "GET", "/nope", 403, 0.5, "", -1))

    assert line.endswith('"GET /nope" 403 Forbidden 0.5 ms')


def test_an_unusual_status_is_printed_without_a_reason() -> None:
    assert access_line((0, "GET", "/", 599, 1.0, "f", 0)).endswith('"GET /" 599 1.0 ms warm [f]')


def test_platform_lines_are_hidden_unless_verbose() -> None:
    report = "REPORT RequestId: 1\tDuration: 1.00 ms"

    assert is_platform_line(report)
    assert terminal_lines("/aws/lambda/a-dev", report, verbose=False) == []
    assert terminal_lines("/aws/lambda/a-dev", report) == [f"[a-dev] {report}"]
    # A handler printing something that merely contains the words is still shown.
    assert terminal_lines("/aws/lambda/a-dev", "my REPORT", verbose=False) == ["[a-dev] my REPORT"]


def test_event_delivery_lines_are_printed_as_they_are() -> None:
    line = "[event] s3 -> uploaded abc ok 3.0 ms"

    assert terminal_lines("/aws/lambda/app-dev-uploaded", line, verbose=False) == [line]


def test_sort_rows_stores_events_prints_access_lines_and_platform_lines_only_verbose() -> None:
    group = "/aws/lambda/app-dev"
    output = (group, "s", 1, "hello")
    record = (group, "s", None, 3, "1", 1.5, 2, 128, 40, None, "app-dev", "ok")
    access = (3, "GET", "/", 200, 4.25, "app-dev", 0)
    for verbose in (False, True):
        stored, usage, shown = sort_rows([output, record, access], verbose=verbose)
        assert [row[3].split(" ")[0] for row in stored] == ["hello", "END", "REPORT"]
        assert [u[1] for u in usage] == ["1"]
        platform = list(stored[1:]) if verbose else []
        assert shown == [output, *platform, access]


def test_the_access_lines_clock_follows_the_timestamp_second_by_second() -> None:
    first = access_line((1_700_000_000_000, "GET", "/", 200, 1.0, "f", 0))
    same = access_line((1_700_000_000_999, "GET", "/", 200, 1.0, "f", 0))
    later = access_line((1_700_000_001_000, "GET", "/", 200, 1.0, "f", 0))
    assert first[:8] == same[:8] != later[:8]
