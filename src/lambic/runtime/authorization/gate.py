"""API Gateway's authorization step, between route matching and the integration.

Sans-IO: the local gateway (async) and the test client (in-process) both drive it,
and only they run the authorizer function, each in its own way:

    gate.begin(spec, request)
        -> Grant       (allowed: what to put in the event's requestContext)
        -> Refusal     (API Gateway's own 401 / 403 / 500 answer)
        -> AuthorizerCall (run `call.function` with `call.payload`, then:)
    gate.finish(call, status, payload, latency_ms) -> Grant | Refusal

Per kind of authorizer (`AuthorizerSpec.kind`):

- "token" (`@app.authorizer()` and a `CustomAuthorizer` on one of the app's functions):
  the identity source is a header; missing or empty answers 401 without a call. The
  TOKEN event is `{"type": "TOKEN", "authorizationToken", "methodArn"}`. The answer is
  checked (`policy`), cached per token for `ttl_seconds` (0: no cache) and evaluated
  against each request's method ARN, so a cached policy also decides other routes, as
  on AWS. An error named "Unauthorized" is 401; any other error, a timeout or an
  unusable answer is 500 `{"message":null}` (AuthorizerConfigurationException).
- "request" (a `CustomAuthorizer` declared `"type": "request"`): as "token", but the
  function gets API Gateway's REQUEST event and the cache key is the values of its
  identity sources (headers, query parameters), required only with caching on
  (`request_authorizer`).
- "cognito": the header's JWT is checked against the local issuer's keys (`cognito`).
- "iam": the request's SigV4 signature is checked (`sigv4`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambic.runtime.authorization.cognito import (
    ExpiredTokenError,
    TokenRefusedError,
    check_user_pool_token,
    event_claims,
)
from lambic.runtime.authorization.policy import (
    AuthorizerOutput,
    InvalidOutputError,
    create_method_arn,
    parse_authorizer_output,
)
from lambic.runtime.authorization.request_authorizer import (
    IdentitySource,
    identity_values,
    request_event,
)
from lambic.runtime.authorization.sigv4 import SigV4Refusal, SigV4Verifier
from lambic.runtime.authorization.tokens import RsaPublicKey

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "AuthorizerCall",
    "AuthorizerGate",
    "AuthorizerSpec",
    "GateRequest",
    "Grant",
    "Refusal",
]

#: API Gateway's authorizer result TTL when none is configured.
DEFAULT_TTL_SECONDS = 300
_CACHE_LIMIT = 10_000
_DECISIONS_PER_ENTRY = 64


@dataclass(slots=True)
class _Cached:
    """A cached authorizer answer; a cache hit re-evaluates the policy per method ARN,
    and remembers the (immutable) decision for the next request to the same ARN."""

    expires: float
    output: AuthorizerOutput
    decisions: dict[str, Grant | Refusal]


@dataclass(frozen=True, slots=True)
class Refusal:
    """An answer API Gateway gives itself: status, exact body, `x-amzn-ErrorType`."""

    status: int
    body: bytes
    error_type: str


# API Gateway's bodies, byte for byte: the 403s of a Lambda authorizer's policy use
# a capitalised "Message" key, the others "message".
UNAUTHORIZED = Refusal(401, b'{"message":"Unauthorized"}', "UnauthorizedException")
EXPIRED_TOKEN = Refusal(
    401, b'{"message":"The incoming token has expired"}', "UnauthorizedException"
)
EXPLICIT_DENY = Refusal(
    403,
    b'{"Message":"User is not authorized to access this resource with an explicit deny"}',
    "AccessDeniedException",
)
IMPLICIT_DENY = Refusal(
    403, b'{"Message":"User is not authorized to access this resource"}', "AccessDeniedException"
)
CONFIGURATION_ERROR = Refusal(500, b'{"message":null}', "AuthorizerConfigurationException")
MISSING_TOKEN = Refusal(
    403, b'{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException"
)


@dataclass(frozen=True, slots=True)
class AuthorizerSpec:
    """One route's authorizer as the gate needs it (see `create_authorizer_spec`)."""

    name: str
    kind: str  # "token" | "request" | "cognito" | "iam"
    header: str = "Authorization"
    function: str = ""  # "token", "request": the app function to invoke (its short name)
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    provider_arns: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    identity_sources: tuple[IdentitySource, ...] = ()  # "request"


@dataclass(slots=True)  # not frozen: one per protected request, and frozen inits cost more
class GateRequest:
    """What the gate reads from a request: `path` decoded (for the method ARN),
    `raw_path` as sent (SigV4 signs it), both without the query; the matched resource
    and the caller's address (a REQUEST authorizer's event carries them)."""

    method: str
    path: str
    headers: Sequence[tuple[str, str]]
    query_string: str = ""
    body: bytes = b""
    raw_path: str = ""
    resource_path: str = ""
    path_params: Mapping[str, str] | None = None
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        size = len(lowered)
        found = None
        for key, value in self.headers:
            if len(key) == size and key.lower() == lowered:
                found = value  # API Gateway's single-value view keeps the last one
        return found


@dataclass(frozen=True, slots=True)
class Grant:
    """An allowed request: `requestContext.authorizer` and identity fields to set."""

    authorizer: Mapping[str, Any] | None = None
    identity: Mapping[str, Any] | None = None

    def apply(self, event: dict[str, Any]) -> None:
        context = event["requestContext"]
        if self.authorizer is not None:
            context["authorizer"] = dict(self.authorizer)
        if self.identity is not None:
            context["identity"] = {**context["identity"], **self.identity}


@dataclass(frozen=True, slots=True)
class AuthorizerCall:
    """An authorizer function to run before the request can be decided."""

    spec: AuthorizerSpec
    function: str
    payload: bytes
    method_arn: str
    token: str


@dataclass(slots=True)
class AuthorizerGate:
    """The authorization step of one API, with the authorizers' result cache.

    `region`, `account_id`, `api_id` and `stage` make method ARNs; `issuer_keys`
    gives the keys Cognito tokens may be signed with; `sigv4` checks IAM routes;
    `warn` hears why an authorizer answer was unusable (API Gateway logs it too).
    """

    region: str
    account_id: str
    api_id: str
    stage: str
    issuer_keys: Callable[[], Mapping[str, RsaPublicKey]] = dict
    sigv4: SigV4Verifier | None = None
    warn: Callable[[str], None] = lambda message: None
    clock: Callable[[], float] = time.monotonic
    # (authorizer, token) -> (expiry, output, decisions by method ARN)
    _cache: dict[tuple[str, str], _Cached] = field(default_factory=dict)

    def method_arn(self, method: str, path: str) -> str:
        return create_method_arn(
            region=self.region,
            account_id=self.account_id,
            api_id=self.api_id,
            stage=self.stage,
            method=method,
            path=path,
        )

    def begin(self, spec: AuthorizerSpec, request: GateRequest) -> Grant | Refusal | AuthorizerCall:
        """Decide what can be decided now; an `AuthorizerCall` needs the function's answer."""
        if spec.kind == "iam":
            return self._iam(request)
        if spec.kind == "request":
            values = identity_values(spec.identity_sources, request.headers, request.query_string)
            if spec.ttl_seconds > 0 and not all(values):
                return UNAUTHORIZED  # with caching on, every identity source is required
            token = "\x1f".join(v or "" for v in values)  # the cache key
        else:
            token = request.header(spec.header) or ""
            if not token:
                return UNAUTHORIZED  # API Gateway does not call an authorizer without it
        if spec.kind == "cognito":
            return self._cognito(spec, token)
        method_arn = self.method_arn(request.method, request.path)
        cached = self._cache.get((spec.name, token))
        if cached is not None:
            if cached.expires > self.clock():
                decided = cached.decisions.get(method_arn)
                if decided is None:
                    decided = _decide(cached.output, method_arn, 0)
                    if len(cached.decisions) < _DECISIONS_PER_ENTRY:
                        cached.decisions[method_arn] = decided
                return decided
            del self._cache[(spec.name, token)]
        event: dict[str, Any]
        if spec.kind == "request":
            event = request_event(
                method=request.method,
                path=request.path,
                resource_path=request.resource_path or request.path,
                path_params=request.path_params,
                headers=request.headers,
                query_string=request.query_string,
                source_ip=request.source_ip,
                method_arn=method_arn,
                stage=self.stage,
                api_id=self.api_id,
                account_id=self.account_id,
            )
        else:
            event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        return AuthorizerCall(spec, spec.function, json.dumps(event).encode(), method_arn, token)

    def finish(
        self, call: AuthorizerCall, status: str, payload: bytes, latency_ms: int
    ) -> Grant | Refusal:
        """Decide with the authorizer function's outcome (`status` "ok" or a failure)."""
        try:
            answer = json.loads(payload) if payload else None
        except ValueError:
            answer = None
        if status != "ok":
            message = answer.get("errorMessage") if isinstance(answer, dict) else None
            if message == "Unauthorized":
                return UNAUTHORIZED
            self.warn(f"authorizer {call.spec.name} failed ({status}): {message}")
            return CONFIGURATION_ERROR
        try:
            output = parse_authorizer_output(answer)
        except InvalidOutputError as exc:
            self.warn(f"authorizer {call.spec.name} answered something unusable: {exc}")
            return CONFIGURATION_ERROR
        ttl = call.spec.ttl_seconds
        if ttl > 0:
            cache = self._cache
            if len(cache) >= _CACHE_LIMIT:
                del cache[next(iter(cache))]  # the oldest entry
            cache[(call.spec.name, call.token)] = _Cached(self.clock() + ttl, output, {})
        return _decide(output, call.method_arn, latency_ms)

    def clear(self) -> None:
        """Forget cached results (a reload deploys new authorizer code)."""
        self._cache.clear()

    def _cognito(self, spec: AuthorizerSpec, token: str) -> Grant | Refusal:
        try:
            claims = check_user_pool_token(
                token,
                keys=self.issuer_keys(),
                provider_arns=spec.provider_arns,
                scopes=spec.scopes,
            )
        except ExpiredTokenError:
            return EXPIRED_TOKEN
        except TokenRefusedError:
            return UNAUTHORIZED
        return Grant(authorizer=event_claims(claims))

    def _iam(self, request: GateRequest) -> Grant | Refusal:
        if self.sigv4 is None:  # no credentials to check against: nothing passes
            return MISSING_TOKEN
        result = self.sigv4.check(
            method=request.method,
            path=request.raw_path or request.path,
            query_string=request.query_string,
            headers=request.headers,
            body=request.body,
        )
        if isinstance(result, SigV4Refusal):
            return Refusal(403, result.body, result.error_type)
        return Grant(identity=result)


def _decide(output: AuthorizerOutput, method_arn: str, latency_ms: int) -> Grant | Refusal:
    verdict = output.evaluate(method_arn)
    if verdict == "allow":
        return Grant(authorizer=output.request_context(latency_ms))
    return EXPLICIT_DENY if verdict == "deny" else IMPLICIT_DENY
