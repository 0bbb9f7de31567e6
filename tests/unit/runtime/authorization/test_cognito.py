"""User-pool tokens checked as API Gateway's COGNITO_USER_POOLS authorizer does."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambic.runtime.authorization.cognito import (
    ExpiredTokenError,
    TokenRefusedError,
    check_user_pool_token,
    event_claims,
    user_pool_issuer,
)
from lambic.runtime.authorization.local_issuer import LocalIssuer, find_user_pool
from lambic.runtime.authorization.tokens import RsaPrivateKey, encode_jwt

POOL = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"
OTHER = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_other"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> LocalIssuer:
    return LocalIssuer(tmp_path_factory.mktemp("state") / "local-issuer-key.json")


def check(issuer: LocalIssuer, token: str, scopes: tuple[str, ...] = ()) -> dict[str, object]:
    return check_user_pool_token(
        token, keys=issuer.public_keys(), provider_arns=[POOL], scopes=scopes
    )


def test_issuer_comes_from_the_pool_arn() -> None:
    assert user_pool_issuer(POOL) == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    with pytest.raises(ValueError, match="not a user pool ARN"):
        user_pool_issuer("arn:aws:iam::1:role/x")


def test_an_id_token_passes_a_route_without_scopes(issuer: LocalIssuer) -> None:
    claims = check(issuer, issuer.mint(provider_arn=POOL, username="alice"))
    assert claims["cognito:username"] == "alice"
    assert claims["token_use"] == "id"
    assert claims["iss"] == user_pool_issuer(POOL)


def test_a_bearer_prefix_is_accepted(issuer: LocalIssuer) -> None:
    token = issuer.mint(provider_arn=POOL, username="alice")
    assert check(issuer, f"Bearer {token}")["cognito:username"] == "alice"


def test_another_pools_or_an_unknown_keys_token_is_refused(issuer: LocalIssuer) -> None:
    with pytest.raises(TokenRefusedError, match="issuer"):
        check(issuer, issuer.mint(provider_arn=OTHER, username="alice"))
    stranger = RsaPrivateKey.generate(bits=1024)
    forged = encode_jwt(
        {"iss": user_pool_issuer(POOL), "exp": 2**40, "token_use": "id", "aud": "x"}, stranger
    )
    with pytest.raises(TokenRefusedError, match="unknown key"):
        check(issuer, forged)


def test_an_expired_token_has_its_own_refusal(issuer: LocalIssuer) -> None:
    with pytest.raises(ExpiredTokenError):
        check(issuer, issuer.mint(provider_arn=POOL, username="alice", expires_in=-1))


def test_scoped_routes_need_an_access_token_with_one_of_their_scopes(issuer: LocalIssuer) -> None:
    id_token = issuer.mint(provider_arn=POOL, username="alice")
    access = issuer.mint(provider_arn=POOL, username="alice", scopes=["a/read", "a/write"])

    with pytest.raises(TokenRefusedError, match="access token"):
        check(issuer, id_token, scopes=("a/read",))
    with pytest.raises(TokenRefusedError, match="none of the scopes"):
        check(issuer, access, scopes=("b/read",))
    with pytest.raises(TokenRefusedError, match="ID token"):
        check(issuer, access)
    assert check(issuer, access, scopes=("b/read", "a/write"))["scope"] == "a/read a/write"


def test_claims_reach_the_event_as_api_gateway_renders_them() -> None:
    claims = event_claims(
        {
            "exp": 1718722804,
            "iat": 1718636404,
            "auth_time": 1718636404,
            "email_verified": True,
            "cognito:groups": ["admin", "ops"],
            "sub": "s",
        }
    )
    assert claims == {
        "claims": {
            "exp": "Tue Jun 18 15:00:04 UTC 2024",
            "iat": "Mon Jun 17 15:00:04 UTC 2024",
            "auth_time": "1718636404",
            "email_verified": "true",
            "cognito:groups": "[admin, ops]",
            "sub": "s",
        }
    }


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "key.json"
    issuer = LocalIssuer(path)
    assert issuer.public_keys() == {}

    first = issuer.mint(provider_arn=POOL, username="a")
    again = LocalIssuer(path)

    assert path.stat().st_mode & 0o777 == 0o600
    assert check_user_pool_token(first, keys=again.public_keys(), provider_arns=[POOL])
    assert again.private_key() == issuer.private_key()


def test_find_user_pool_by_arn_id_name_or_the_only_one() -> None:
    described = [
        {"kind": "cognito", "name": "users", "provider_arns": [POOL]},
        {"kind": "builtin", "name": "token"},
    ]
    assert find_user_pool(None, described) == POOL
    assert find_user_pool("users", described) == POOL
    assert find_user_pool("eu-west-1_abc", described) == POOL
    assert find_user_pool(OTHER, described) == OTHER
    with pytest.raises(ValueError, match="No user pool 'nope'"):
        find_user_pool("nope", described)
    with pytest.raises(ValueError, match="Name the user pool"):
        find_user_pool(None, [*described, {"kind": "cognito", "provider_arns": [OTHER]}])
