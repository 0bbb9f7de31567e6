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


_NOW = calendar.timegm((2026, 12, 6, 12, 0, 0))


def _v2_put(**headers: str) -> ServiceRequest:
    """A SigV2 header-signed PutObject head (the signature is not what is checked)."""
    names = [("Host", "127.0.0.1:4566"), ("Authorization", "AWS AKID:c2lnbmF0dXJl")]
    return ServiceRequest("PUT", "/b/k", "", Headers([*names, *headers.items()]), b"")


@pytest.mark.parametrize(
    "dates",
    [
        {"x-amz-date": "Bad Date"},
        {"x-amz-date": ""},  # present but empty: it overrides a good Date
        {"x-amz-date": "", "Date": "Sun, 06 Dec 2026 12:00:00 GMT"},
        {"x-amz-date": "Tue, 07 Jul 1950 21:53:04 GMT"},  # before 1970
        {},
    ],
)
def test_a_sigv2_request_without_a_valid_date_is_access_denied_with_no_secret_known(
    dates: dict[str, str],
) -> None:
    with pytest.raises(AuthError) as exc:
        Authenticator(clock=lambda: _NOW).check(_v2_put(**dates), "s3")
    response = render_auth_error(exc.value, "s3", "s3")
    assert response.status == 403
    assert b"<Code>AccessDenied</Code>" in response.body
    assert b"requires a valid Date or x-amz-date header" in response.body


@pytest.mark.parametrize(
    "dates",
    [
        {"x-amz-date": "Tue, 07 Jul 2010 21:53:04 GMT"},
        {"x-amz-date": "Tue, 07 Jul 9999 21:53:04 GMT"},
        {"Date": "Sun, 06 Dec 2026 12:16:00 GMT"},
    ],
)
def test_a_sigv2_request_dated_over_15_minutes_away_is_request_time_too_skewed(
    dates: dict[str, str],
) -> None:
    with pytest.raises(AuthError) as exc:
        Authenticator(clock=lambda: _NOW).check(_v2_put(**dates), "s3")
    response = render_auth_error(exc.value, "s3", "s3")
    assert response.status == 403
    assert b"<Code>RequestTimeTooSkewed</Code>" in response.body
    assert b"<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>" in response.body


def test_a_sigv2_request_dated_within_15_minutes_passes_by_date_or_x_amz_date() -> None:
    auth = Authenticator(clock=lambda: _NOW)
    for dates in (
        {"Date": "Sun, 06 Dec 2026 12:14:00 GMT"},
        {"x-amz-date": "Sun, 06 Dec 2026 11:46:00 GMT", "Date": "Bad"},
        {"x-amz-date": "20261206T120500Z"},
    ):
        request = _v2_put(**dates)
        assert auth.check(request, "s3") is request


def test_a_presigned_url_valid_for_over_a_week_is_refused_403() -> None:
    query = "X-Amz-Date=20261206T120000Z&X-Amz-Expires=604801&X-Amz-Signature=ab"
    request = ServiceRequest("GET", "/b/k", query, Headers(), b"")
    with pytest.raises(AuthError) as exc:
        Authenticator(clock=lambda: _NOW).check(request, "s3")
    response = render_auth_error(exc.value, "s3", "s3")
    assert response.status == 403
    assert b"<Code>AuthorizationQueryParametersError</Code>" in response.body
    assert b"must be less than 604800 seconds" in response.body
    week = ServiceRequest("GET", "/b/k", query.replace("604801", "604800"), Headers(), b"")
    assert Authenticator(clock=lambda: _NOW).check(week, "s3") is week


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [
        ("", 403, "AccessDenied"),
        ("AWS HAHAHA", 400, "InvalidArgument"),
        ("Bearer token", 400, "InvalidArgument"),
    ],
)
def test_an_s3_authorization_header_neither_sigv4_nor_sigv2_is_refused_as_s3_does(
    value: str, status: int, code: str
) -> None:
    headers = Headers([("Host", "127.0.0.1:4566"), ("Authorization", value)])
    request = ServiceRequest("PUT", "/b/k", "", headers, b"")
    with pytest.raises(AuthError) as exc:
        Authenticator(clock=lambda: _NOW).check(request, "s3")
    response = render_auth_error(exc.value, "s3", "s3")
    assert response.status == status
    assert f"<Code>{code}</Code>".encode() in response.body
    if status == 400:
        assert b"<ArgumentName>Authorization</ArgumentName>" in response.body
