"""Route authorizers (as `lambic.app.authorizers.describe_authorizer` gives them) made
into `AuthorizerSpec`s, refusing what the local cloud cannot enforce.

A `CustomAuthorizer` names its Lambda by invocation URI
(`arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations`);
when the function is one of this app's (by deployed or short name) it runs locally as
a TOKEN authorizer, or as a REQUEST authorizer when its `to_swagger()` declares
`"type": "request"` with an `identitySource` (`request_authorizer`). One pointing
elsewhere cannot run here, and serving its routes unprotected would be worse, so the
local cloud refuses to start (`AuthorizerConfigError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambic.runtime.authorization.cognito import user_pool_issuer
from lambic.runtime.authorization.gate import DEFAULT_TTL_SECONDS, AuthorizerSpec
from lambic.runtime.authorization.request_authorizer import parse_identity_sources

__all__ = ["AuthorizerConfigError", "authorizer_function_name", "create_authorizer_spec"]


class AuthorizerConfigError(ValueError):
    """A route's authorizer cannot be enforced locally; the message says what to do."""


def authorizer_function_name(authorizer_uri: str) -> str | None:
    """The function name inside a Lambda authorizer's invocation URI (or a bare ARN).

    >>> authorizer_function_name("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/"
    ...     "functions/arn:aws:lambda:us-east-1:1:function:auth-dev-check/invocations")
    'auth-dev-check'
    """
    _, found, rest = authorizer_uri.partition(":function:")
    if not found:
        return None
    name = rest.split("/", 1)[0].split(":", 1)[0]
    return name or None


def create_authorizer_spec(
    route: str, described: Mapping[str, Any], functions: Mapping[str, str]
) -> AuthorizerSpec:
    """The spec for one route (`route` like "GET /items", for messages).

    `functions` maps each of the app's function names, deployed and short, to its
    short name.
    """
    kind = described.get("kind")
    name = str(described.get("name") or "")
    header = str(described.get("header") or "Authorization")
    scopes = tuple(str(s) for s in described.get("scopes") or ())
    ttl = described.get("ttl_seconds")
    ttl_seconds = DEFAULT_TTL_SECONDS if ttl is None else int(ttl)
    if kind == "builtin":
        function = str(described.get("function") or name)
        return AuthorizerSpec(name, "token", header, function, ttl_seconds, scopes=scopes)
    if kind == "custom":
        uri = str(described.get("authorizer_uri") or "")
        target = authorizer_function_name(uri)
        local = functions.get(target) if target is not None else None
        if local is None:
            raise AuthorizerConfigError(
                f"{route} uses CustomAuthorizer {name!r}, whose authorizer_uri points at "
                f"{target or uri!r}, not a function of this app, so it cannot run locally. "
                "Define the authorizer in this app (@app.authorizer(), or an "
                "@app.lambda_function() that authorizer_uri names), or test that route "
                "against the deployed API"
            )
        if described.get("type") == "request":
            try:
                sources = parse_identity_sources(described.get("identity_sources") or ())
            except ValueError as exc:
                raise AuthorizerConfigError(f"{route}: REQUEST authorizer {name!r}: {exc}") from exc
            if not sources and ttl_seconds > 0:
                raise AuthorizerConfigError(
                    f"{route}: REQUEST authorizer {name!r} caches its answers "
                    f"(authorizerResultTtlInSeconds {ttl_seconds}) but names no identitySource "
                    "to key them by, which API Gateway refuses; name one, or set the TTL to 0"
                )
            return AuthorizerSpec(
                name,
                "request",
                header,
                local,
                ttl_seconds,
                scopes=scopes,
                identity_sources=sources,
            )
        return AuthorizerSpec(name, "token", header, local, ttl_seconds, scopes=scopes)
    if kind == "cognito":
        arns = tuple(str(a) for a in described.get("provider_arns") or ())
        for arn in arns:
            try:
                user_pool_issuer(arn)
            except ValueError as exc:
                raise AuthorizerConfigError(
                    f"{route}: CognitoUserPoolAuthorizer {name!r}: {exc}"
                ) from exc
        return AuthorizerSpec(name, "cognito", header, provider_arns=arns, scopes=scopes)
    if kind == "iam":
        return AuthorizerSpec(name, "iam", scopes=scopes)
    raise AuthorizerConfigError(
        f"{route} uses an authorizer of type {described.get('type') or kind!r}, which "
        "Lambic does not know; use @app.authorizer(), CustomAuthorizer, "
        "CognitoUserPoolAuthorizer or IAMAuthorizer"
    )
