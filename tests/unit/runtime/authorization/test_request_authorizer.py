"""REQUEST authorizers' identity sources: parsed, read from a request, refused if unknown."""

from __future__ import annotations

import pytest

from lambic.runtime.authorization.request_authorizer import (
    identity_values,
    parse_identity_sources,
    request_event,
)


def test_header_and_query_sources_are_parsed_from_a_string_or_a_list() -> None:
    expected = (("header", "X-User"), ("query", "tenant"))
    text = "method.request.header.X-User, method.request.querystring.tenant"
    assert parse_identity_sources(text) == expected
    assert parse_identity_sources(text.split(", ")) == expected


@pytest.mark.parametrize(
    "source", ["stageVariables.secret", "context.requestId", "method.request.header."]
)
def test_sources_the_local_api_cannot_supply_are_refused(source: str) -> None:
    with pytest.raises(ValueError, match="cannot be supplied locally"):
        parse_identity_sources([source])


def test_values_are_read_case_insensitively_for_headers_last_one_winning() -> None:
    sources = parse_identity_sources(
        ["method.request.header.x-user", "method.request.querystring.t"]
    )
    headers = [("X-User", "a"), ("x-USER", "b")]
    assert identity_values(sources, headers, "t=1&t=2") == ["b", "2"]
    assert identity_values(sources, [], "") == [None, None]
    assert identity_values(sources, [("X-User", "")], "t=") == ["", ""]


def test_the_request_event_is_the_proxy_event_without_its_body_plus_type_and_arn() -> None:
    event = request_event(
        method="POST",
        path="/orders/7",
        resource_path="/orders/{id}",
        path_params={"id": "7"},
        headers=[("X-User", "ann")],
        query_string="a=1",
        source_ip="10.0.0.1",
        method_arn="arn:aws:execute-api:us-east-1:000000000000:api/dev/POST/orders/7",
        stage="dev",
        api_id="api",
        account_id="000000000000",
    )
    assert (event["type"], event["methodArn"]) == (
        "REQUEST",
        "arn:aws:execute-api:us-east-1:000000000000:api/dev/POST/orders/7",
    )
    assert (event["resource"], event["httpMethod"], event["pathParameters"]) == (
        "/orders/{id}",
        "POST",
        {"id": "7"},
    )
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.1"
    assert "body" not in event and "isBase64Encoded" not in event
