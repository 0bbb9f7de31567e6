from __future__ import annotations

from chalicelib.page import render_page


def test_page_shows_each_line_its_status_verdict_and_check_time() -> None:
    rows = [["123", "GOOD SERVICE", "NOPE"], ["ACE", "DELAYS", "YUP"]]
    html = render_page(rows, 1763052328.0, [(1763052268.0, 0), (1763052328.0, 1)], "capture.json")
    assert 'data-line="123"' in html and "GOOD SERVICE" in html and "NOPE" in html
    assert 'data-line="ACE"' in html and "DELAYS" in html and "YUP" in html
    assert "2025-11-13 16:45:28 UTC" in html
    assert html.count('<span title="') == 2  # one history bar per check
    assert 'name="viewport"' in html


def test_page_escapes_text_from_the_feed() -> None:
    html = render_page([["123", "<script>x</script>", "YUP"]], 0.0, [])
    assert "<script>x" not in html and "&lt;script&gt;" in html


def test_page_says_how_many_lines_have_problems_and_what_the_bars_measure() -> None:
    rows = [["123", "GOOD SERVICE", "NOPE"], ["ACE", "DELAYS", "YUP"]]
    html = render_page(rows, 0.0, [(0.0, 1)])
    assert "1 of 2 line groups have problems." in html
    assert "Lines with problems at the first check today" in html
    good = render_page([["123", "GOOD SERVICE", "NOPE"]], 0.0, [(0.0, 0), (60.0, 0)])
    assert "All 1 line groups have good service." in good
    assert "at the last 2 checks today, oldest first" in good
