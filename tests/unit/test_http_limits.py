"""`lambic._http_limits`: the counting and parsing both HTTP edges rely on."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from lambic._http_limits import (
    GATEWAY_LIMITS,
    MAX_JSON_DEPTH,
    MAX_XML_DEPTH,
    SERVICES_LIMITS,
    ClientConnections,
    HeadMeter,
    NestingTooDeepError,
    loads_json,
    parse_xml,
)


def test_head_meter_counts_header_bytes_against_the_services_8_kb() -> None:
    meter = HeadMeter(SERVICES_LIMITS)
    meter.reset(0)
    assert meter.add(b"x-a", b"v" * 8000)
    assert not meter.add(b"x-b", b"v" * 200)


def test_head_meter_counts_the_request_line_for_the_gateway() -> None:
    meter = HeadMeter(GATEWAY_LIMITS)
    meter.reset(0)
    assert not meter.add_url(10_241)
    meter.reset(0)
    assert meter.add_url(100)
    assert meter.add(b"x", b"y" * 10_000)
    assert not meter.add(b"z", b"y" * 200)


def test_head_meter_bounds_the_header_count() -> None:
    meter = HeadMeter(SERVICES_LIMITS)
    meter.reset(0)
    results = [meter.add(b"a", b"b") for _ in range(SERVICES_LIMITS.max_header_count + 1)]
    assert all(results[:-1])
    assert not results[-1]


def test_client_connections_admit_up_to_the_limit_and_release() -> None:
    clients = ClientConnections(2)
    assert clients.admit("1.2.3.4")
    assert clients.admit("1.2.3.4")
    assert not clients.admit("1.2.3.4")
    assert clients.admit("5.6.7.8")
    clients.release("1.2.3.4")
    assert clients.admit("1.2.3.4")


def test_loads_json_refuses_deep_documents_as_value_errors() -> None:
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(ValueError) as caught:
        loads_json(deep)
    assert isinstance(caught.value, NestingTooDeepError)
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert loads_json(at_limit) == json.loads(at_limit)


def test_loads_json_ignores_brackets_inside_strings() -> None:
    text = json.dumps({"s": "[" * 5000, "t": '\\"{' * 3000})
    assert loads_json(text) == json.loads(text)


def test_parse_xml_refuses_deep_documents_as_parse_errors() -> None:
    deep = "<a>" * (MAX_XML_DEPTH + 1) + "</a>" * (MAX_XML_DEPTH + 1)
    with pytest.raises(ET.ParseError):
        parse_xml(deep)
    assert parse_xml("<a><b>x</b></a>").findtext("b") == "x"
