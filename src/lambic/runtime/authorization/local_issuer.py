"""The local Cognito issuer: tokens a `CognitoUserPoolAuthorizer` accepts, offline.

There is no Cognito locally, so Lambic signs user-pool tokens itself with an RSA key
kept in the stage's state directory (`.lambic/state/<stage>/local-issuer-key.json`,
made on first use, readable by its owner only). `lambic local` and the test client
verify with that key, so only tokens minted here pass; anything else gets 401.

    issuer = LocalIssuer(ProjectPaths(project_dir).local_issuer_key("dev"))
    token = issuer.mint(provider_arn=pool_arn, username="alice")           # ID token
    token = issuer.mint(provider_arn=pool_arn, username="alice", scopes=["orders/read"])
                                                                      # access token

The claims follow Cognito's: an ID token has `aud` (the app client), `cognito:username`,
`token_use: "id"`; an access token `client_id`, `username`, `scope`,
`token_use: "access"`; both `sub`, `iss`, `iat`, `exp`, `auth_time`, `jti`.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lambic.runtime.authorization.cognito import user_pool_issuer
from lambic.runtime.authorization.tokens import RsaPrivateKey, RsaPublicKey, encode_jwt

__all__ = ["LOCAL_CLIENT_ID", "LocalIssuer", "find_user_pool"]

#: The app client id local tokens are issued to (Cognito's are 26 lowercase characters).
LOCAL_CLIENT_ID = "lambiclocalappclient000000"
_DEFAULT_LIFETIME = 3600  # Cognito's default ID and access token validity


class LocalIssuer:
    """Signs and publishes the keys of local user-pool tokens for one stage."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        self._public: tuple[float, dict[str, RsaPublicKey]] = (-1.0, {})

    def private_key(self) -> RsaPrivateKey:
        """The stage's key, made (and saved) on first use."""
        try:
            return RsaPrivateKey.from_jwk(json.loads(self.key_path.read_text()))
        except FileNotFoundError:
            pass
        key = RsaPrivateKey.generate()
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.key_path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(key.to_jwk(), fh)
        try:
            # Two first uses at once: the first key saved wins, both then read it.
            os.link(temporary, self.key_path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        return RsaPrivateKey.from_jwk(json.loads(self.key_path.read_text()))

    def public_keys(self) -> Mapping[str, RsaPublicKey]:
        """kid -> key; empty before any token was minted (then every token is refused)."""
        try:
            mtime = self.key_path.stat().st_mtime
        except FileNotFoundError:
            return {}
        cached_mtime, keys = self._public
        if mtime != cached_mtime:
            public = RsaPrivateKey.from_jwk(json.loads(self.key_path.read_text())).public
            keys = {public.kid: public}
            self._public = (mtime, keys)
        return keys

    def mint(
        self,
        *,
        provider_arn: str,
        username: str,
        scopes: Iterable[str] = (),
        groups: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        expires_in: int = _DEFAULT_LIFETIME,
        now: float | None = None,
    ) -> str:
        """A token for `username` in the user pool `provider_arn`.

        With `scopes` it is an access token carrying them (what a route with
        authorization scopes needs), else an ID token. `claims` adds or overrides
        claims (e.g. `{"email": "a@example.com"}`); a negative `expires_in` makes an
        already expired token.
        """
        issued = int(time.time() if now is None else now)
        issuer = user_pool_issuer(provider_arn)
        scope_list = list(scopes)
        body: dict[str, Any] = {
            # Stable per pool and user, as a Cognito user's sub is.
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}#{username}")),
            "iss": issuer,
            "auth_time": issued,
            "iat": issued,
            "exp": issued + expires_in,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
        }
        group_list = list(groups)
        if group_list:
            body["cognito:groups"] = group_list
        if scope_list:
            body.update(
                token_use="access",
                client_id=LOCAL_CLIENT_ID,
                username=username,
                scope=" ".join(scope_list),
            )
        else:
            body.update(token_use="id", aud=LOCAL_CLIENT_ID, **{"cognito:username": username})
        body.update(claims or {})
        return encode_jwt(body, self.private_key())


def find_user_pool(pool: str | None, authorizers: Iterable[Mapping[str, Any]]) -> str:
    """The provider ARN to mint for: `pool` as an ARN, a pool id or an authorizer name,
    or (None) the one user pool the app's routes use. `authorizers` are the routes'
    authorizers as `describe_authorizer` gives them."""
    arns: dict[str, None] = {}
    by_name: dict[str, list[str]] = {}
    for described in authorizers:
        if described.get("kind") == "cognito":
            listed = [str(a) for a in described.get("provider_arns") or ()]
            arns.update(dict.fromkeys(listed))
            by_name[str(described.get("name"))] = listed
    if pool is None:
        if len(arns) == 1:
            return next(iter(arns))
        known = ", ".join(arns) or "none"
        raise ValueError(
            f"Name the user pool to mint for (the app's routes use: {known}); "
            "pass its ARN, its id or the CognitoUserPoolAuthorizer's name"
        )
    if pool.startswith("arn:"):
        user_pool_issuer(pool)  # checks the form
        return pool
    if by_name.get(pool):
        return by_name[pool][0]
    for arn in arns:
        if arn.rsplit("/", 1)[-1] == pool:
            return arn
    raise ValueError(
        f"No user pool {pool!r} among the app's CognitoUserPoolAuthorizers "
        f"({', '.join(arns) or 'none'}); pass one of their ARNs, ids or names"
    )
