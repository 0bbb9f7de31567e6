"""API Gateway's authorizers, enforced locally: by `lambic local` and the test client.

    route's authorizer --describe_authorizer (lambic.app)--> plain data (manifest)
        --create_authorizer_spec--> AuthorizerSpec (a foreign CustomAuthorizer: refused)
        --AuthorizerGate.begin / finish--> Grant (into the event) | Refusal (AWS's answer)

Modules: `gate` (the step and its cache), `policy` (an authorizer's IAM policy),
`cognito` and `tokens` (user-pool JWTs, RS256), `local_issuer` (offline tokens),
`sigv4` (IAMAuthorizer), `specs` (from route data to specs).
"""

from lambic.runtime.authorization.gate import (
    AuthorizerCall,
    AuthorizerGate,
    AuthorizerSpec,
    GateRequest,
    Grant,
    Refusal,
)
from lambic.runtime.authorization.local_issuer import LocalIssuer
from lambic.runtime.authorization.sigv4 import SigV4Verifier
from lambic.runtime.authorization.specs import AuthorizerConfigError, create_authorizer_spec

__all__ = [
    "AuthorizerCall",
    "AuthorizerConfigError",
    "AuthorizerGate",
    "AuthorizerSpec",
    "GateRequest",
    "Grant",
    "LocalIssuer",
    "Refusal",
    "SigV4Verifier",
    "create_authorizer_spec",
]
