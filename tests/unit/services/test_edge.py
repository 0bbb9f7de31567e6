from __future__ import annotations

import dataclasses

from lambic.services.base import Headers, ServiceRequest
from lambic.services.edge import route_service


def _request(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> ServiceRequest:
    return ServiceRequest(method, path, query, Headers(headers or []), body)


def _signed(service: str) -> tuple[str, str]:
    scope = f"test/20260101/us-east-1/{service}/aws4_request"
    return (
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=x",
    )


def test_routes_json_protocols_by_target_header() -> None:
    assert (
        route_service(_request("POST", headers=[("X-Amz-Target", "DynamoDB_20120810.PutItem")]))
        == "dynamodb"
    )
    assert (
        route_service(_request("POST", headers=[("x-amz-target", "AmazonSQS.SendMessage")]))
        == "sqs"
    )
    assert (
        route_service(_request("POST", headers=[("X-Amz-Target", "AWSEvents.PutEvents")]))
        == "events"
    )
    streams = _request("POST", headers=[("X-Amz-Target", "DynamoDBStreams_20120810.GetRecords")])
    assert route_service(streams) == "dynamodbstreams"


def test_routes_query_protocol_by_credential_scope() -> None:
    form = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    assert (
        route_service(_request("POST", headers=[form, _signed("sns")], body=b"Action=Publish"))
        == "sns"
    )
    sqs = _request("POST", headers=[form, _signed("sqs")], body=b"Action=SendMessage&Version=1")
    assert route_service(sqs) == "sqs"


def test_routes_unsigned_query_protocol_by_action_name() -> None:
    form = ("Content-Type", "application/x-www-form-urlencoded")
    assert route_service(_request("POST", headers=[form], body=b"Action=CreateTopic")) == "sns"
    assert route_service(_request("POST", headers=[form], body=b"Action=CreateQueue")) == "sqs"


def test_routes_everything_else_to_s3() -> None:
    assert route_service(_request("PUT", "/bucket/key", headers=[_signed("s3")])) == "s3"
    assert route_service(_request("GET", "/bucket/index.html")) == "s3"
    assert route_service(_request("POST", "/bucket", "delete", body=b"<Delete/>")) == "s3"


def test_an_unsigned_browser_request_at_the_root_is_dynamodbs() -> None:
    origin = ("Origin", "http://app.example")
    for method in ("OPTIONS", "GET", "POST"):
        assert route_service(_request(method, headers=[origin])) == "dynamodb"
    # A bucket in the path or the host, a signature, or no Origin: still S3's.
    assert route_service(_request("OPTIONS", "/bucket/key", headers=[origin])) == "s3"
    hosted = _request("OPTIONS", headers=[origin])
    assert route_service(dataclasses.replace(hosted, host="site.localhost:4566")) == "s3"
    assert route_service(_request("GET", headers=[origin, _signed("s3")])) == "s3"
    assert route_service(_request("GET")) == "s3"


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    headers = Headers([("X-Amz-Meta-A", "1"), ("x-amz-meta-a", "2"), ("Host", "h")])
    assert headers["X-AMZ-META-A"] == "1"
    assert headers.get_all("x-amz-meta-a") == ["1", "2"]
    assert "host" in headers
