"""Cognito user-pool tokens checked as an API Gateway `COGNITO_USER_POOLS` authorizer does.

    header value --decode_jwt (RS256, key by kid)--> claims
                 --iss is one of the authorizer's user pools
                 --exp not past                      ("The incoming token has expired")
                 --no method scopes: an ID token (token_use "id", with aud)
                   method scopes: an access token (token_use "access", client_id) whose
                   `scope` holds at least one of them
                 --> `requestContext.authorizer` = {"claims": {...}} (values as strings)

Every failure is API Gateway's 401; only an expired token has its own message. A user
pool's issuer is `https://cognito-idp.<region>.amazonaws.com/<pool id>`, both read
from the provider ARN (`arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>`).

    >>> user_pool_issuer("arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc")
    'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc'
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from lambic.runtime.authorization.tokens import InvalidTokenError, RsaPublicKey, decode_jwt

__all__ = [
    "ExpiredTokenError",
    "TokenRefusedError",
    "check_user_pool_token",
    "event_claims",
    "user_pool_issuer",
]

# Claims API Gateway renders as dates (java.util.Date's toString) rather than numbers.
_DATE_CLAIMS = frozenset({"exp", "iat"})
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TokenRefusedError(ValueError):
    """The token does not pass the authorizer (API Gateway's 401 Unauthorized)."""


class ExpiredTokenError(TokenRefusedError):
    """The token is past its `exp` (401 "The incoming token has expired")."""


def user_pool_issuer(provider_arn: str) -> str:
    """The `iss` of the tokens a user pool (given by ARN) issues."""
    parts = provider_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("userpool/"):
        raise ValueError(
            f"{provider_arn!r} is not a user pool ARN; "
            "expected arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID"
        )
    return f"https://cognito-idp.{parts[3]}.amazonaws.com/{parts[5].split('/', 1)[1]}"


def check_user_pool_token(
    header_value: str,
    *,
    keys: Mapping[str, RsaPublicKey],
    provider_arns: Iterable[str],
    scopes: Iterable[str] = (),
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of a token that passes; raise `TokenRefusedError` otherwise."""
    token = header_value[7:] if header_value[:7].lower() == "bearer " else header_value
    try:
        claims = decode_jwt(token.strip(), keys)
    except InvalidTokenError as exc:
        raise TokenRefusedError(str(exc)) from exc
    issuers = {user_pool_issuer(arn) for arn in provider_arns}
    if claims.get("iss") not in issuers:
        raise TokenRefusedError(f"issuer {claims.get('iss')!r} is not this authorizer's pool")
    expires = claims.get("exp")
    if not isinstance(expires, int | float):
        raise TokenRefusedError("the token has no exp")
    if (time.time() if now is None else now) >= expires:
        raise ExpiredTokenError("The incoming token has expired")
    wanted = list(scopes)
    if not wanted:
        # Without method scopes API Gateway takes ID tokens only.
        if claims.get("token_use") != "id" or not claims.get("aud"):
            raise TokenRefusedError("an ID token is required (the method declares no scopes)")
        return claims
    if claims.get("token_use") != "access" or not claims.get("client_id"):
        raise TokenRefusedError("an access token is required (the method declares scopes)")
    granted = str(claims.get("scope") or "").split()
    if not any(scope in granted for scope in wanted):
        raise TokenRefusedError(f"the token has none of the scopes {wanted}")
    return claims


def _java_date(epoch: float) -> str:
    # java.util.Date.toString() in UTC: "Tue Jun 18 15:00:04 UTC 2024". The names are
    # spelled out: strftime's %a and %b follow the host's locale.
    t = time.gmtime(epoch)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year}"
    )


def _claim_text(name: str, value: Any) -> str:
    if name in _DATE_CLAIMS and isinstance(value, int | float):
        return _java_date(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_claim_text("", v) for v in value) + "]"
    return json.dumps(value)


def event_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """`requestContext.authorizer` for a token that passed: its claims, as strings."""
    return {"claims": {name: _claim_text(name, value) for name, value in claims.items()}}
