"""Element text in the services' XML: escaped as XML needs, nothing more."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from lambic.services._query_xml import escape, text


def test_text_round_trips_through_an_xml_parser() -> None:
    for value in ["a&b<c>d", "&amp; already", "\"quoted\" 'too'", "line\r\nnext", "", "ü€"]:
        document = f"<Value>{text(value)}</Value>"
        assert (ElementTree.fromstring(document).text or "") == value


def test_quotes_are_left_as_they_are() -> None:
    # As AWS (and xml.sax.saxutils.escape): only &, < and > are escaped in text.
    assert escape('"it\'s" <b> & c') == '"it\'s" &lt;b&gt; &amp; c'
    assert text(True) == "true"
