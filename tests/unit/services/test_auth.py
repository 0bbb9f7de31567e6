from __future__ import annotations

import calendar
import json
import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambic.services.auth import Authenticator, AuthError, parse_credentials, render_auth_error
from lambic.services.base import Headers, ServiceRequest

AK, SECRET = "AKID", "s3cr3t"


def _signed(
    service: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
) -> ServiceRequest:
    request = AWSRequest(method="POST", url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(AK, secret), service, "us-east-1").add_auth(request)
    parts = urlsplit(url)
    prepared = request.prepare()
    return ServiceRequest(
        method="POST",
        path=parts.path or "/",
        query_string=parts.query,
        headers=Headers([("Host", parts.netloc), *prepared.headers.items()]),
        body=body,
        host=parts.netloc,
    )


def test_accepts_a_botocore_signed_json_request_and_returns_its_signing_context() -> None:
    request = _signed(
        "dynamodb",
        "http://127.0.0.1:4566/",
        b'{"TableName":"t"}',
        {"X-Amz-Target": "DynamoDB_20120810.DescribeTable"},
    )
    checked = Authenticator({AK: SECRET}).check(request, "dynamodb")
    assert checked.signing is not None
    assert checked.signing.scope.endswith("/us-east-1/dynamodb/aws4_request")


def test_rejects_a_changed_body_with_a_signature_error() -> None:
    request = _signed("sqs", "http://127.0.0.1:4566/", b"Action=ListQueues")
    tampered = ServiceRequest(
        request.method,
        request.path,
        request.query_string,
        request.headers,
        b"Action=DeleteQueue",
        host=request.host,
    )
    with pytest.raises(AuthError) as exc:
        Authenticator({AK: SECRET}).check(tampered, "sqs")
    assert exc.value.kind == "signature"


def test_query_signed_requests_with_repeated_and_encoded_parameters_verify() -> None:
    request = AWSRequest(method="GET", url="http://localhost:4566/?Action=ListTopics&a=b%20c")
    SigV4QueryAuth(Credentials(AK, SECRET), "sns", "us-east-1", expires=60).add_auth(request)
    parts = urlsplit(request.url)
    service_request = ServiceRequest(
        "GET",
        parts.path,
        parts.query,
        Headers([("Host", parts.netloc)]),
        b"",
        host=parts.netloc,
    )
    assert Authenticator({AK: SECRET}).check(service_request, "sns").signing is not None


def test_unknown_key_and_missing_signature_are_told_apart() -> None:
    request = _signed("dynamodb", "http://127.0.0.1:4566/", b"{}")
    with pytest.raises(AuthError) as exc:
        Authenticator({"OTHER": SECRET}).check(request, "dynamodb")
    assert exc.value.kind == "unknown_key"
    bare = ServiceRequest("GET", "/", "", Headers(), b"")
    with pytest.raises(AuthError) as exc:
        Authenticator({AK: SECRET}).check(bare, "s3")
    assert exc.value.kind == "missing"


def test_without_credentials_anything_unexpired_is_accepted() -> None:
    bare = ServiceRequest("GET", "/", "", Headers(), b"")
    assert Authenticator().check(bare, "s3") is bare


@pytest.mark.parametrize(
    ("protocol", "service", "status", "code"),
    [
        ("s3", "s3", 403, "<Code>SignatureDoesNotMatch</Code>"),
        ("json", "dynamodb", 400, "com.amazon.coral.service#InvalidSignatureException"),
        ("sqs-json", "sqs", 400, "com.amazon.coral.service#InvalidSignatureException"),
        ("query", "sns", 403, "<Code>SignatureDoesNotMatch</Code>"),
    ],
)
def test_signature_errors_take_each_protocols_shape(
    protocol: str, service: str, status: int, code: str
) -> None:
    response = render_auth_error(AuthError("signature", service), service, protocol)
    assert response.status == status
    assert code in response.body.decode()
    if protocol in ("json", "sqs-json"):
        assert json.loads(response.body)["message"].startswith("The request signature")


def test_parse_credentials_requires_key_and_secret() -> None:
    assert parse_credentials("AK:SK:with:colons") == ("AK", "SK:with:colons")
    with pytest.raises(ValueError, match="ACCESS_KEY:SECRET_KEY"):
        parse_credentials("nocolon")


def test_header_signed_requests_more_than_15_minutes_off_are_refused() -> None:
    request = _signed("dynamodb", "http://127.0.0.1:4566/", b"{}")
    stamp = request.headers["x-amz-date"]
    signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    assert Authenticator({AK: SECRET}, clock=lambda: signed_at + 600).check(request, "dynamodb")
    with pytest.raises(AuthError) as exc:
        Authenticator({AK: SECRET}, clock=lambda: signed_at + 1000).check(request, "dynamodb")
    assert exc.value.kind == "skewed"
    response = render_auth_error(exc.value, "s3", "s3")
    assert (response.status, b"<Code>RequestTimeTooSkewed</Code>" in response.body) == (403, True)
    json_response = render_auth_error(exc.value, "dynamodb", "json")
    assert json.loads(json_response.body)["message"].startswith("Signature expired")
