"""DynamoDB's cross-origin answers on the edge, as a browser SDK meets them: preflights
answered unauthenticated, every answer to a request with `Origin` readable by the page,
nothing added without `Origin`, and S3's bucket requests left to S3."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambic.services import create_services
from lambic.services.server import EdgeServer

PAGE = "http://app.example"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    services = create_services(Path(tmp_path_factory.mktemp("cors")))
    server = EdgeServer(services.by_name()).start()
    yield server
    server.stop()


def _call(
    edge: EdgeServer, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        names = [name.lower() for name, _ in response.getheaders()]
        assert len(names) == len(set(names)), names  # each CORS header said once
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_a_preflight_is_answered_without_credentials_echoing_what_was_asked(
    edge: EdgeServer,
) -> None:
    asked = {
        "Origin": PAGE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,authorization",
    }
    status, headers, body = _call(edge, "OPTIONS", "/", asked)
    assert (status, body) == (200, b"")
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "POST"
    assert headers["access-control-allow-headers"] == "content-type,x-amz-target,authorization"
    assert headers["access-control-max-age"] == "172800"
    assert "x-amzn-RequestId" in headers["access-control-expose-headers"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_plain_cross_origin_request_is_readable_even_when_refused(
    edge: EdgeServer, method: str
) -> None:
    _call(edge, method, "/", {"Origin": PAGE})  # the same answer again: nothing piles up
    status, headers, _ = _call(edge, method, "/", {"Origin": PAGE})
    assert status >= 400  # unsigned: refused, and the page may read why
    assert headers["access-control-allow-origin"] == "*"
    assert "access-control-expose-headers" in headers
    for preflight_only in ("access-control-max-age", "access-control-allow-methods"):
        assert preflight_only not in headers


def test_a_signed_browser_call_gets_its_answer_with_the_cors_headers(
    edge: EdgeServer, make_client: Any
) -> None:
    client = make_client("dynamodb", edge.url)
    seen: list[dict[str, str]] = []
    client.meta.events.register(
        "before-sign.dynamodb.ListTables",
        lambda request, **_: request.headers.__setitem__("Origin", PAGE),
    )
    client.meta.events.register(
        "after-call.dynamodb.ListTables",
        lambda http_response, **_: seen.append(
            {k.lower(): v for k, v in http_response.headers.items()}
        ),
    )
    assert client.list_tables()["TableNames"] == []
    assert seen[0]["access-control-allow-origin"] == "*"


def test_without_an_origin_nothing_is_added(edge: EdgeServer, make_client: Any) -> None:
    client = make_client("dynamodb", edge.url)
    headers = client.list_tables()["ResponseMetadata"]["HTTPHeaders"]
    assert not [name for name in headers if name.startswith("access-control-")]
    _, headers, _ = _call(edge, "OPTIONS", "/", {})
    assert not [name for name in headers if name.startswith("access-control-")]


def test_a_bucket_request_with_an_origin_stays_s3s(edge: EdgeServer) -> None:
    status, headers, body = _call(edge, "GET", "/no-such-bucket/key", {"Origin": PAGE})
    assert status in (403, 404)
    assert body.startswith(b"<?xml")
    assert "access-control-allow-origin" not in headers
