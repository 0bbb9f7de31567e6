from __future__ import annotations

import botocore.exceptions
import pytest

from lambic.deploy.aws import is_mutating, translate_error


def _client_error(code: str, message: str, operation: str = "CreateFunction") -> Exception:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ExpiredToken", "session token has expired; refresh your credentials"),
        ("ExpiredTokenException", "session token has expired"),
        ("AccessDeniedException", "access denied for CreateFunction while create x: nope; grant"),
        ("InvalidClientTokenId", "rejected the credentials"),
        ("ResourceConflictException", "choose another app_name or stage"),
        ("ThrottlingException", "AWS CreateFunction failed while create x: ThrottlingException"),
    ],
)
def test_client_errors_become_one_actionable_line(code: str, expected: str) -> None:
    error = translate_error(_client_error(code, "nope"), "eu-west-1", "create x")
    assert expected in str(error)
    assert error.code == code
    assert "\n" not in str(error)


def test_reads_are_not_counted_as_mutations() -> None:
    assert [
        op
        for op in ("GetFunction", "ListTags", "PutRule", "Subscribe", "ImportRestApi")
        if is_mutating(op)
    ] == ["PutRule", "Subscribe", "ImportRestApi"]
