"""IAMAuthorizer: signatures checked by the services' Authenticator, API Gateway's 403s."""

from __future__ import annotations

import json

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambic.runtime.authorization.sigv4 import SigV4Refusal, SigV4Verifier

VERIFIER = SigV4Verifier({"AKID": "secret"}, account_id="000000000000")


def signed(
    key: str, secret: str, path: str = "/orders/1?x=1", body: bytes = b""
) -> list[tuple[str, str]]:
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:8000{path}", data=body)
    SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1").add_auth(request)
    return list(request.headers.items())


def check(headers: list[tuple[str, str]], body: bytes = b"") -> dict[str, str] | SigV4Refusal:
    headers = [("Host", "127.0.0.1:8000"), *headers]
    return VERIFIER.check(
        method="POST", path="/orders/1", query_string="x=1", headers=headers, body=body
    )


def test_a_correctly_signed_request_passes_with_its_caller() -> None:
    identity = check(signed("AKID", "secret", body=b"{}"), b"{}")
    assert identity == {
        "accessKey": "AKID",
        "accountId": "000000000000",
        "caller": "000000000000",
        "user": "000000000000",
        "userArn": "arn:aws:iam::000000000000:root",
    }


def test_unsigned_is_missing_authentication_token() -> None:
    refused = check([])
    assert refused == SigV4Refusal(
        "Missing Authentication Token", "MissingAuthenticationTokenException"
    )
    assert refused.body == b'{"message":"Missing Authentication Token"}'


def test_a_wrong_secret_or_a_changed_body_is_an_invalid_signature() -> None:
    for refused in (check(signed("AKID", "nope")), check(signed("AKID", "secret"), b"changed")):
        assert isinstance(refused, SigV4Refusal)
        assert refused.error_type == "InvalidSignatureException"
        assert "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in refused.message
        assert json.loads(refused.body)["message"] == refused.message


def test_an_unknown_key_is_an_invalid_security_token() -> None:
    refused = check(signed("OTHER", "secret"))
    assert refused == SigV4Refusal(
        "The security token included in the request is invalid.", "UnrecognizedClientException"
    )


def test_a_non_sigv4_authorization_header_is_an_incomplete_signature() -> None:
    refused = check([("Authorization", "Bearer abc")])
    assert isinstance(refused, SigV4Refusal)
    assert refused.error_type == "IncompleteSignatureException"
    assert refused.message == (
        "Authorization header requires 'Credential' parameter. Authorization header requires "
        "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=Bearer abc"
    )
