"""API Gateway's authorization step for `lambic.testing.Client`, in process.

A route with an authorizer goes through the `AuthorizerGate` that `lambic local`
enforces (`lambic.runtime.authorization`): a built-in or custom authorizer runs as one
of the app's own functions (`invoke`), a Cognito token is checked against the stage's
local issuer (`cognito_token` mints one), an IAM route against SigV4 with the local
credentials. The runtime is imported on first use, so `import lambic.testing` stays
light.

    client.http.get(path) --authorize--> Grant (applied to the event) | Refusal
                                         (API Gateway's own 401/403/500)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambic.runtime.authorization import (
        AuthorizerGate,
        AuthorizerSpec,
        Grant,
        LocalIssuer,
        Refusal,
    )


class InProcessAuthorizers:
    """The authorizers of one app and stage, run as `lambic local` runs them."""

    def __init__(
        self,
        app: Any,
        *,
        project_dir: str,
        stage_name: str,
        region: str,
        account_id: str,
        deployed_name: Callable[[str], str],
        invoke: Callable[[str, Any], Any],
    ) -> None:
        self._app = app
        self._project_dir = project_dir
        self._stage_name = stage_name
        self._region = region
        self._account_id = account_id
        self._deployed_name = deployed_name
        self._invoke = invoke
        self._gate_obj: AuthorizerGate | None = None
        self._specs: dict[int, AuthorizerSpec] = {}

    def cognito_token(
        self,
        username: str,
        *,
        scopes: list[str] | None = None,
        pool: str | None = None,
        groups: list[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        expires_in: int = 3600,
    ) -> str:
        """A user-pool token for `username` (see `lambic.testing.Client.cognito_token`)."""
        from lambic.app.authorizers import describe_authorizer
        from lambic.runtime.authorization.local_issuer import find_user_pool

        described = [
            describe_authorizer(entry.authorizer)
            for methods in self._app.routes.values()
            for entry in methods.values()
            if entry.authorizer is not None
        ]
        return self._issuer().mint(
            provider_arn=find_user_pool(pool, described),
            username=username,
            scopes=scopes or (),
            groups=groups or (),
            claims=claims,
            expires_in=expires_in,
        )

    def _issuer(self) -> LocalIssuer:
        from pathlib import Path

        from lambic.project.paths import ProjectPaths
        from lambic.runtime.authorization import LocalIssuer

        return LocalIssuer(ProjectPaths(Path(self._project_dir)).local_issuer_key(self._stage_name))

    @property
    def _gate(self) -> AuthorizerGate:
        if self._gate_obj is None:
            from lambic.app.proxy_events import LOCAL_API_ID
            from lambic.project.account import LOCAL_ACCESS_KEY
            from lambic.runtime.authorization import AuthorizerGate, SigV4Verifier

            self._gate_obj = AuthorizerGate(
                region=self._region,
                account_id=self._account_id,
                api_id=LOCAL_API_ID,
                stage=self._stage_name,
                issuer_keys=self._issuer().public_keys,
                sigv4=SigV4Verifier(
                    {LOCAL_ACCESS_KEY: LOCAL_ACCESS_KEY}, account_id=self._account_id
                ),
            )
        return self._gate_obj

    def _spec(self, entry: Any) -> AuthorizerSpec:
        spec = self._specs.get(id(entry))
        if spec is None:
            from lambic.app.authorizers import describe_authorizer
            from lambic.runtime.authorization import create_authorizer_spec

            names = {name: name for name in self._app.handler_map}
            names.update((self._deployed_name(name), name) for name in self._app.handler_map)
            spec = create_authorizer_spec(
                f"{entry.method} {entry.uri_pattern}", describe_authorizer(entry.authorizer), names
            )
            self._specs[id(entry)] = spec
        return spec

    def authorize(
        self,
        match: Any,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        query_string: str,
        body: bytes,
    ) -> Grant | Refusal:
        """API Gateway's authorization step for one request (as `lambic local` runs it)."""
        from lambic.runtime.authorization import AuthorizerCall, GateRequest

        gate = self._gate
        if not any(name.lower() == "host" for name, _ in headers):
            # The client sends no Host; SigV4 signs one: requests are to http://localhost.
            headers = [("Host", "localhost"), *headers]
        request = GateRequest(
            method,
            path,
            headers,
            query_string,
            body,
            raw_path=path,
            resource_path=match.resource_path,
            path_params=match.path_params,
        )
        decided = gate.begin(self._spec(match.entry), request)
        if not isinstance(decided, AuthorizerCall):
            return decided
        started = time.perf_counter()
        try:
            result = self._invoke(decided.function, json.loads(decided.payload))
            status, answer = "ok", json.dumps(result).encode()
        except Exception as exc:  # the authorizer failed, as a Lambda function error
            status, answer = "error", json.dumps({"errorMessage": str(exc)}).encode()
        latency_ms = int((time.perf_counter() - started) * 1000)
        return gate.finish(decided, status, answer, latency_ms)
