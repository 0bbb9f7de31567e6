"""An in-process test client for Lambic apps, compatible with Chalice's `chalice.test`.

    from lambic.testing import Client
    from app import app

    def test_hello():
        with Client(app, stage_name="dev") as client:
            response = client.http.get("/hello?name=Ann", headers={"Accept": "*/*"})
            assert response.status_code == 200 and response.json_body == {"hello": "Ann"}

            event = client.events.generate_sqs_event(message_bodies=["job-1"], queue_name="jobs")
            result = client.lambda_.invoke("handle_jobs", event)
            assert result.payload == {"batchItemFailures": []}

How a call flows, the same way `lambic local` runs it minus the processes:

    client.http.get(path) --match_route--> 403 "Missing Authentication Token" (no route)
                          --the route's authorizer (lambic._testing_authorizers: the
                            gate `lambic local` enforces; the authorizer function runs
                            with its own environment)--> API Gateway's 401/403/500
                          --create_rest_event--> app(event, context) --> HTTPResponse
    client.lambda_.invoke(name, payload) --> app.handler_map[name](payload, context)
    client.events.generate_*(...) --> lambic.app.event_generator --> lambic.app.event_payloads
                                  (the runtime's builders)

During each call the function's environment variables from
`<project_dir>/.lambic/config.json` (top level, function, stage, stage function;
resolved as `lambic local` resolves them) and `aws_credentials` are set in
`os.environ` and restored afterwards, as Chalice's test client does. The handler gets
a Lambda context whose names follow deployed functions (`{app}-{stage}-{name}`).

`client.cognito_token("alice", scopes=[...])` mints a token the app's
`CognitoUserPoolAuthorizer` accepts (the stage's local issuer, as `lambic auth token`);
IAM-protected routes take requests SigV4-signed with the local credentials
(`lambic-local` / `lambic-local`).

Errors: `FunctionNotFoundError` (a LookupError) when `invoke` names no function;
`AuthorizerConfigError` (a ValueError) for an authorizer that cannot run in-process
(a CustomAuthorizer on a function outside the app).
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from lambic.app.event_generator import EventGenerator
from lambic.app.event_payloads import SAMPLE_ACCOUNT_ID
from lambic.app.proxy_events import create_rest_event

if TYPE_CHECKING:
    from lambic._testing_authorizers import InProcessAuthorizers
    from lambic._testing_websockets import TestWebsocketClient
    from lambic.project.config import ProjectConfig
    from lambic.runtime.authorization import Refusal

__all__ = [
    "Client",
    "FunctionNotFoundError",
    "HTTPResponse",
    "InvokeResponse",
    "TestEventsClient",
    "TestHTTPClient",
    "TestLambdaClient",
]

#: The region the test client's events and contexts report, as Chalice's does.
TEST_REGION = "us-west-2"
API_HANDLER = "api_handler"
# Chalice's test client names resources in AWS's sample account and TEST_REGION.
_GENERATOR = EventGenerator(region=TEST_REGION, account_id=SAMPLE_ACCOUNT_ID)

_CREDENTIAL_NAMES = {
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
    "region_name": "AWS_DEFAULT_REGION",
    "region": "AWS_DEFAULT_REGION",
    "endpoint_url": "AWS_ENDPOINT_URL",
}

# API Gateway's answer for a path or method the API does not define (it is a 403,
# not a 404, because API Gateway cannot tell an unknown route from an unsigned call).
_MISSING_TOKEN_BODY = b'{"message":"Missing Authentication Token"}'


class FunctionNotFoundError(LookupError):
    """`client.lambda_.invoke()` named a function the app does not define.

    Chalice's test client raises an exception of this name and tests written for it
    catch it by name, so it is kept here; it is not the runtime's
    `lambic.runtime.errors.FunctionNotFoundError` (Lambda's 404 for the Invoke API),
    which importing would make `import lambic.testing` load the whole runtime.
    """


class HTTPResponse:
    """What `client.http` returns: status, headers (multi-value ones as lists), body bytes."""

    def __init__(self, body: bytes, headers: dict[str, Any], status_code: int) -> None:
        self.body = body
        self.headers = headers
        self.status_code = status_code

    @property
    def json_body(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @classmethod
    def create_from_dict(cls, response: Mapping[str, Any]) -> HTTPResponse:
        """Build from a Lambda proxy response (`statusCode`, `headers`, `body`...)."""
        raw = response.get("body")
        if raw is None:
            body = b""
        elif response.get("isBase64Encoded"):
            body = base64.b64decode(raw)
        else:
            body = str(raw).encode("utf-8")
        # Chalice's client merges multiValueHeaders over headers; we keep that shape.
        headers: dict[str, Any] = dict(response.get("headers") or {})
        headers.update(response.get("multiValueHeaders") or {})
        return cls(body=body, headers=headers, status_code=int(response["statusCode"]))

    def __repr__(self) -> str:
        return f"HTTPResponse(status_code={self.status_code}, body={self.body[:60]!r})"


class InvokeResponse:
    """What `client.lambda_.invoke()` returns: the function's return value as `payload`."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"InvokeResponse(payload={self.payload!r})"


class _Scope:
    """Environment and context for calling one function of the app.

    Settings are resolved once per client and function, as a Lambda execution
    environment reads its configuration once; each call gets a fresh request id.
    """

    def __init__(self, client: Client, function_name: str) -> None:
        from lambic.runtime.context import LambdaContext

        self._context_class = LambdaContext
        settings = client._config.resolve(client.stage_name, function_name)
        deployed = client.deployed_name(function_name)
        self.function_name = function_name
        self._deployed = deployed
        self._arn = f"arn:aws:lambda:{TEST_REGION}:{SAMPLE_ACCOUNT_ID}:function:{deployed}"
        self._memory = settings.memory_size
        self._timeout_ms = settings.timeout * 1000
        # One log stream per execution environment, as Lambda names them.
        self._log_stream = time.strftime("%Y/%m/%d", time.gmtime()) + (
            f"/[$LATEST]{uuid.uuid4().hex}"
        )
        env = dict(settings.environment_variables)
        env.update(client._credentials)
        self.environment: dict[str, str] = env

    def context(self) -> Any:
        return self._context_class(
            aws_request_id=str(uuid.uuid4()),
            function_name=self._deployed,
            invoked_function_arn=self._arn,
            memory_limit_in_mb=self._memory,
            log_group_name=f"/aws/lambda/{self._deployed}",
            log_stream_name=self._log_stream,
            deadline_ms=int(time.time() * 1000) + self._timeout_ms,
        )


@contextmanager
def _patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ for the block, then put back exactly what was there."""
    if not values:
        yield
        return
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


class TestHTTPClient:
    """`client.http`: requests through API Gateway's rules into `app(event, context)`."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, client: Client) -> None:
        self._client = client
        self._scope_obj: _Scope | None = None

    @property
    def _scope(self) -> _Scope:
        if self._scope_obj is None:
            self._scope_obj = _Scope(self._client, API_HANDLER)
        return self._scope_obj

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | str = b"",
    ) -> HTTPResponse:
        """Send one request; `path` may carry a query string (`/items?page=2`)."""
        app = self._client.app
        method = method.upper()
        raw_path, _, query_string = path.partition("?")
        match = app.match_route(method, raw_path)
        if match is None or match.entry is None:
            return self._gateway_answer(method, match)
        payload = body.encode("utf-8") if isinstance(body, str) else body
        header_pairs = list((headers or {}).items())
        grant = None
        if match.entry.authorizer is not None:
            from lambic.runtime.authorization import Refusal

            decided = self._client._authorizers.authorize(
                match, method, raw_path, header_pairs, query_string, payload
            )
            if isinstance(decided, Refusal):  # API Gateway answers itself
                return _refusal_response(decided)
            grant = decided
        event = create_rest_event(
            method=method,
            path=raw_path,
            resource_path=match.resource_path,
            path_params=match.path_params,
            query=parse_qsl(query_string, keep_blank_values=True) if query_string else [],
            headers=header_pairs,
            body=payload,
            binary_types=app.api.binary_types,
            stage=self._client.stage_name,
        )
        if payload and not event["isBase64Encoded"] and not _is_utf8(payload):
            # Chalice's test client hands the view the bytes as given, even when they
            # are not UTF-8 (API Gateway would replace them); tests rely on it.
            event["body"] = payload
        if grant is not None:
            grant.apply(event)
        scope = self._scope
        with _patched_environ(scope.environment):
            response = app(event, scope.context())
        return HTTPResponse.create_from_dict(response)

    def _gateway_answer(self, method: str, match: Any) -> HTTPResponse:
        app = self._client.app
        if method == "OPTIONS" and match is not None:
            methods = app.routes.get(match.resource_path) or {}
            if any(entry.cors is not None for entry in methods.values()):
                # API Gateway answers CORS preflight itself (the MOCK integration
                # Chalice deploys); no function runs.
                preflight = app.preflight_response(match.resource_path)
                headers = dict(preflight["headers"])
                headers["x-amzn-RequestId"] = str(uuid.uuid4())
                return HTTPResponse(b"", headers, 200)
        # API Gateway answers 403 for a method the resource lacks too (not 405: only the
        # function could say that, and it is never called); the local gateway agrees.
        return HTTPResponse(
            _MISSING_TOKEN_BODY,
            {
                "Content-Type": "application/json",
                "x-amzn-RequestId": str(uuid.uuid4()),
                "x-amzn-ErrorType": "MissingAuthenticationTokenException",
            },
            403,
        )

    def get(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("OPTIONS", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("HEAD", path, **kwargs)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refusal_response(refusal: Refusal) -> HTTPResponse:
    headers = {
        "Content-Type": "application/json",
        "x-amzn-RequestId": str(uuid.uuid4()),
        "x-amzn-ErrorType": refusal.error_type,
    }
    return HTTPResponse(refusal.body, headers, refusal.status)


class TestLambdaClient:
    """`client.lambda_`: invoke any handler of the app by its short name."""

    __test__ = False

    def __init__(self, client: Client) -> None:
        self._client = client
        self._scopes: dict[str, _Scope] = {}

    def invoke(self, function_name: str, payload: Any = None) -> InvokeResponse:
        """Call `app.handler_map[function_name](payload, context)` with its environment."""
        handler = self._client.app.handler_map.get(function_name)
        if handler is None:
            known = ", ".join(sorted(self._client.app.handler_map)) or "none"
            raise FunctionNotFoundError(
                f"No function named {function_name!r} in the app (defined: {known}); "
                "use the short name, e.g. the decorated function's name or its name=..."
            )
        scope = self._scopes.get(function_name)
        if scope is None:
            scope = self._scopes[function_name] = _Scope(self._client, function_name)
        with _patched_environ(scope.environment):
            result = handler({} if payload is None else payload, scope.context())
        return InvokeResponse(payload=result)


class TestEventsClient:
    """`client.events`: event payloads in AWS's exact shapes (Chalice's signatures)."""

    __test__ = False

    def __init__(self, client: Client) -> None:
        self._client = client

    def generate_s3_event(
        self, bucket: str, key: str, event_name: str = "ObjectCreated:Put"
    ) -> dict[str, Any]:
        """An S3 notification for `key` (given decoded; encoded in the payload as S3 does)."""
        return _GENERATOR.s3(bucket=bucket, key=key, event_name=event_name)

    def generate_sqs_event(
        self, message_bodies: list[str], queue_name: str = "queue-name"
    ) -> dict[str, Any]:
        """A batch with one SQS record per body."""
        return _GENERATOR.sqs(bodies=message_bodies, queue=queue_name)

    def generate_sns_message(
        self,
        message: str,
        subject: str = "",
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        topic: str = "topic-name",
    ) -> dict[str, Any]:
        """An SNS notification; `message_attributes` in Chalice's form
        (`{"Type": "String", "Value": "v"}`) or the Publish API's (`{"DataType",
        "StringValue"}`)."""
        return _GENERATOR.sns(
            message=message, subject=subject, topic=topic, message_attributes=message_attributes
        )

    # Chalice calls it generate_sns_event.
    generate_sns_event = generate_sns_message

    def generate_cw_event(
        self,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: list[str],
        region: str = TEST_REGION,
    ) -> dict[str, Any]:
        """An EventBridge event as a rule target receives it."""
        return _GENERATOR.eventbridge(
            source=source,
            detail_type=detail_type,
            detail=detail,
            resources=resources,
            region=region,
        )

    def generate_dynamodb_event(
        self,
        event_name: str = "INSERT",
        keys: Mapping[str, Any] | None = None,
        new_image: Mapping[str, Any] | None = None,
        old_image: Mapping[str, Any] | None = None,
        table_name: str = "table-name",
        stream_view_type: str = "NEW_AND_OLD_IMAGES",
    ) -> dict[str, Any]:
        """A DynamoDB stream batch with one record; values in DynamoDB JSON ({"S": "x"})."""
        return _GENERATOR.dynamodb(
            table=table_name,
            event_name=event_name,
            keys=keys,
            new_image=new_image,
            old_image=old_image,
            stream_view_type=stream_view_type,
        )

    def generate_kinesis_event(
        self, message_bodies: list[bytes], stream_name: str = "stream-name"
    ) -> dict[str, Any]:
        """A Kinesis batch with one record per body (bytes, base64-encoded in the payload)."""
        return _GENERATOR.kinesis(bodies=message_bodies, stream=stream_name)


class Client:
    """Test client for an app: `client.http`, `client.lambda_`, `client.events`.

    `aws_credentials` (e.g. `{"aws_access_key_id": "x", "aws_secret_access_key": "y",
    "region_name": "us-east-1"}`, or the environment variable names themselves) are
    set in the environment during each call, for boto3 code in handlers.
    """

    def __init__(
        self,
        app: Any,
        stage_name: str = "dev",
        project_dir: str | os.PathLike[str] = ".",
        aws_credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.stage_name = stage_name
        self.project_dir = os.fspath(project_dir)
        self._credentials = _credential_environment(aws_credentials or {})
        self._config_obj: ProjectConfig | None = None
        self._http: TestHTTPClient | None = None
        self._lambda: TestLambdaClient | None = None
        self._events: TestEventsClient | None = None
        self._authorizers_obj: InProcessAuthorizers | None = None
        self._websocket: TestWebsocketClient | None = None
        self._scopes: dict[str, _Scope] = {}

    @property
    def _config(self) -> ProjectConfig:
        if self._config_obj is None:
            # Imported here: the project's config resolution is the one `lambic local`
            # and the deployer use, and a bare import of lambic.testing should not pay
            # for reading config files.
            from lambic.project.config import load_config

            self._config_obj = load_config(self.project_dir)
        return self._config_obj

    def cognito_token(
        self,
        username: str = "user",
        *,
        scopes: list[str] | None = None,
        pool: str | None = None,
        groups: list[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        expires_in: int = 3600,
    ) -> str:
        """A user-pool token the app's `CognitoUserPoolAuthorizer` accepts.

        An ID token, or with `scopes` an access token carrying them. `pool` is a
        provider ARN, a pool id or the authorizer's name; by default the app's only
        user pool. Put it in the authorizer's header:
        `client.http.get("/me", headers={"Authorization": client.cognito_token("alice")})`.
        """
        return self._authorizers.cognito_token(
            username,
            scopes=scopes,
            pool=pool,
            groups=groups,
            claims=claims,
            expires_in=expires_in,
        )

    @property
    def _authorizers(self) -> InProcessAuthorizers:
        if self._authorizers_obj is None:
            from lambic._testing_authorizers import InProcessAuthorizers

            self._authorizers_obj = InProcessAuthorizers(
                self.app,
                project_dir=self.project_dir,
                stage_name=self.stage_name,
                region=TEST_REGION,
                account_id=SAMPLE_ACCOUNT_ID,
                deployed_name=self.deployed_name,
                invoke=lambda name, payload: self.lambda_.invoke(name, payload).payload,
            )
        return self._authorizers_obj

    def deployed_name(self, function_name: str) -> str:
        """`{app}-{stage}` for api_handler, `{app}-{stage}-{name}` otherwise (Chalice's)."""
        base = f"{self.app.app_name}-{self.stage_name}"
        return base if function_name == API_HANDLER else f"{base}-{function_name}"

    @property
    def http(self) -> TestHTTPClient:
        if self._http is None:
            self._http = TestHTTPClient(self)
        return self._http

    @property
    def lambda_(self) -> TestLambdaClient:
        if self._lambda is None:
            self._lambda = TestLambdaClient(self)
        return self._lambda

    @property
    def events(self) -> TestEventsClient:
        if self._events is None:
            self._events = TestEventsClient(self)
        return self._events

    @property
    def websocket(self) -> TestWebsocketClient:
        """Connections to the app's `@app.on_ws_*` handlers (see lambic._testing_websockets)."""
        if self._websocket is None:
            from lambic._testing_websockets import TestWebsocketClient

            self._websocket = TestWebsocketClient(
                self.app, self._config.api_gateway_stage(self.stage_name), self._call_handler
            )
        return self._websocket

    def _call_handler(self, function_name: str, handler: Any, event: dict[str, Any]) -> Any:
        """Run `handler(event, context)` as function `function_name`, with its environment."""
        scope = self._scopes.get(function_name)
        if scope is None:
            scope = self._scopes[function_name] = _Scope(self, function_name)
        with _patched_environ(scope.environment):
            return handler(event, scope.context())

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._websocket is not None:
            self._websocket.restore()


def _credential_environment(credentials: Mapping[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in credentials.items():
        env_name = _CREDENTIAL_NAMES.get(name.lower(), name.upper())
        if not env_name.startswith("AWS_"):
            raise ValueError(
                f"aws_credentials key {name!r} is not an AWS setting; use aws_access_key_id, "
                "aws_secret_access_key, aws_session_token, region_name or endpoint_url"
            )
        env[env_name] = str(value)
    return env
