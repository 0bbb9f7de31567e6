"""The app → resource graph: what a stage of an app needs on AWS, as frozen data.

`build_graph(app, config)` reads the app's registry (docs/internals.md §1: `routes`,
`event_sources`, `pure_lambda_functions`, `builtin_auth_handlers`, `api.binary_types`)
and the resolved stage config, and returns a `ResourceGraph`: the role, one
`FunctionResource` per Lambda function, the API (REST or HTTP) with its OpenAPI
definition, and one binding per event-handler decorator. The SAM and Terraform
emitters and the deploy planner all start from this graph, so they cannot disagree
about what an app is.

Cross-references that only an emitter can spell (a function's ARN inside the OpenAPI
body) are left as `{"Lambic::FunctionUri": "<short name>"}` markers; each emitter
substitutes its own form (`Fn::Sub` in SAM, an interpolation in Terraform, the real
ARN when deploying).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambic.app import functions as app_functions
from lambic.app._event_limits import sqs_batching_error
from lambic.app.registry import event_source_kind
from lambic.deploy.declared import (
    BucketResource,
    BusResource,
    QueueResource,
    StreamResource,
    TableResource,
    TopicResource,
    declared_buckets,
    declared_buses,
    declared_queues,
    declared_streams,
    declared_tables,
    declared_topics,
)
from lambic.deploy.errors import ConfigError
from lambic.deploy.openapi import build_openapi
from lambic.project.config import StageConfig
from lambic.project.paths import ProjectPaths
from lambic.project.resources import (
    DeclaredResources,
    ResourceReference,
    handler_reference,
    undeclared_message,
)


@dataclass(frozen=True)
class FunctionResource:
    """One Lambda function with its resolved settings."""

    name: str  # short name, the key in config's lambda_functions
    function_name: str  # deployed name: {app}-{stage}[-{name}]
    handler: str
    kind: str
    runtime: str
    memory_size: int
    timeout: int
    environment: tuple[tuple[str, str], ...]
    reserved_concurrency: int | None
    tags: tuple[tuple[str, str], ...]
    architecture: str = "x86_64"  # Lambda's Architectures: "x86_64" or "arm64"


@dataclass(frozen=True)
class ScheduleBinding:
    function: str
    expression: str
    description: str


@dataclass(frozen=True)
class PatternBinding:
    function: str
    pattern: str  # canonical JSON of the EventBridge event pattern


@dataclass(frozen=True)
class S3Binding:
    function: str
    bucket: str
    events: tuple[str, ...]
    prefix: str
    suffix: str

    def filter_rules(self) -> list[dict[str, str]]:
        """The key filter as S3's `FilterRules` list (`[]`: every key); SAM takes it too."""
        return [
            {"Name": name, "Value": value}
            for name, value in (("prefix", self.prefix), ("suffix", self.suffix))
            if value
        ]


@dataclass(frozen=True)
class QueueBinding:
    function: str
    queue: str  # queue name
    queue_arn: str | None  # given explicitly (cross-account queues)
    batch_size: int
    batching_window: int


@dataclass(frozen=True)
class TopicBinding:
    function: str
    topic: str  # name or ARN


@dataclass(frozen=True)
class StreamBinding:
    function: str
    source: str  # "dynamodb" | "kinesis"
    stream: str  # DynamoDB stream ARN, or Kinesis stream name/ARN
    batch_size: int
    starting_position: str
    batching_window: int


Binding = ScheduleBinding | PatternBinding | S3Binding | QueueBinding | TopicBinding | StreamBinding


@dataclass(frozen=True)
class ApiResource:
    """The HTTP front: a REST API (OpenAPI import) or an HTTP API (routes to one function)."""

    kind: str  # "rest" | "http"
    name: str
    stage_name: str
    endpoint_type: str
    definition: str  # canonical JSON of the OpenAPI body, with FunctionUri markers
    routes: tuple[tuple[str, str], ...]  # (METHOD, path) pairs
    authorizer_functions: tuple[str, ...]  # short names API Gateway must be allowed to invoke

    def openapi(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.definition)
        return loaded


@dataclass(frozen=True)
class WebsocketApiResource:
    """The WebSocket API: an API Gateway v2 API (protocol WEBSOCKET), one route per handler.

    `routes` pairs each route key ("$connect", "$default", "$disconnect") with the short
    name of the function it invokes (websocket_connect, ...). The functions' role may
    manage this API's connections (`execute-api:ManageConnections`) and nothing else's.
    """

    name: str  # Chalice's: "{app}-{stage}-websocket-api"
    stage_name: str
    routes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RoleResource:
    """The execution role: created by Lambic (`policy` set) or given (`arn` set)."""

    name: str
    policy: str | None  # canonical JSON of the inline policy document
    arn: str | None


@dataclass(frozen=True)
class ResourceGraph:
    app_name: str
    stage: str
    role: RoleResource
    functions: tuple[FunctionResource, ...]
    api: ApiResource | None
    bindings: tuple[Binding, ...]
    tables: tuple[TableResource, ...] = ()
    buckets: tuple[BucketResource, ...] = ()
    queues: tuple[QueueResource, ...] = ()
    topics: tuple[TopicResource, ...] = ()
    buses: tuple[BusResource, ...] = ()
    websocket_api: WebsocketApiResource | None = None
    streams: tuple[StreamResource, ...] = ()

    def function(self, name: str) -> FunctionResource:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(name)


def canonical_json(value: Any) -> str:
    """The one JSON spelling used for hashing and comparison."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def build_graph(app: Any, config: StageConfig, policy: dict[str, Any] | None) -> ResourceGraph:
    """Describe everything a stage of `app` needs on AWS.

    `policy` is the role's inline policy document (generated or read from the policy
    file); it is ignored when the config names an existing role (`iam_role_arn`).
    """
    prefix = f"{config.app_name}-{config.stage}"
    try:
        specs = app_functions(app)
    except TypeError as exc:  # an event source kind AWS has but Lambic does not deploy
        raise ConfigError(f"{exc}; remove that handler or deploy it another way") from exc
    functions = tuple(_function(config, s.name, s.handler, s.kind) for s in specs)
    role = (
        RoleResource(name=prefix, policy=canonical_json(policy or {}), arn=None)
        if config.manage_iam_role
        else RoleResource(name="", policy=None, arn=config.iam_role_arn)
    )
    bindings = build_bindings(app)
    _check_stream_tables(bindings, config.resources, ProjectPaths(config.project_dir).config_name)
    api = None
    if getattr(app, "routes", None):
        if config.api_gateway_type == "http":
            _check_http_api(app)
        definition, authorizers = build_openapi(app, config)
        routes = tuple(sorted((method, path) for path, by in app.routes.items() for method in by))
        api = ApiResource(
            kind=config.api_gateway_type,
            name=config.app_name,
            stage_name=config.api_gateway_stage,
            endpoint_type=config.api_gateway_endpoint_type,
            definition=canonical_json(definition),
            routes=routes,
            authorizer_functions=tuple(authorizers),
        )
    return ResourceGraph(
        config.app_name,
        config.stage,
        role,
        functions,
        api,
        bindings,
        declared_tables(config.resources),
        declared_buckets(config.resources),
        declared_queues(config.resources),
        declared_topics(config.resources),
        declared_buses(config.resources),
        _websocket_api(app, config, specs),
        declared_streams(config.resources),
    )


def _websocket_api(app: Any, config: StageConfig, specs: Any) -> WebsocketApiResource | None:
    routes = tuple(
        sorted(
            (str(s.event_source.route_key_handled), s.name) for s in specs if s.kind == "websocket"
        )
    )
    if not routes:
        return None
    return WebsocketApiResource(
        name=f"{config.app_name}-{config.stage}-websocket-api",
        stage_name=config.api_gateway_stage,
        routes=routes,
    )


def _check_stream_tables(
    bindings: tuple[Binding, ...], declared: DeclaredResources, config_name: str
) -> None:
    """A stream handler naming a table by name needs it declared, with a stream.

    The stream's ARN exists only once the table does, so each emitter refers to the
    declared table (GetAtt, a Terraform reference, the deployer's lookup); a table
    the config does not declare is refused, as `lambic local` refuses it.
    """
    for binding in bindings:
        if not isinstance(binding, StreamBinding) or binding.source != "dynamodb":
            continue
        reference = handler_reference("dynamodb", {"stream_arn": binding.stream}, binding.function)
        if reference is None:
            continue
        table = declared.table(reference.name)
        if table is None:
            raise ConfigError(undeclared_message(reference, config_name))
        stream = table.get("StreamSpecification") or {}
        if not stream.get("StreamViewType") or not stream.get("StreamEnabled", True):
            raise ConfigError(
                f"Table {reference.name!r} has no stream; give it StreamSpecification "
                '{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}'
            )


def handler_references(app: Any) -> list[ResourceReference | None]:
    """What each event handler names by name (`lambic.project.resources`' rule)."""
    fields = ("queue", "topic", "bucket", "stream_arn", "stream")
    return [
        handler_reference(
            event_source_kind(source) or "",
            {name: getattr(source, name, None) for name in fields},
            source.name,
        )
        for source in getattr(app, "event_sources", [])
    ]


def _check_http_api(app: Any) -> None:
    # Deploying a protected route without its protection would expose it; refuse.
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if entry.authorizer is not None or entry.api_key_required:
                raise ConfigError(
                    f"{method} {path} uses an authorizer or API key, which Lambic deploys only "
                    'on REST APIs; set "api_gateway_type": "rest" for this stage'
                )


def build_bindings(app: Any) -> tuple[Binding, ...]:
    """One binding per event-handler decorator, in registration order."""
    return tuple(_binding(source) for source in getattr(app, "event_sources", []))


def _function(config: StageConfig, name: str, handler: str, kind: str) -> FunctionResource:
    settings = config.function(name, handler=handler, kind=kind)
    function_name = settings.deployed_name
    # Lambda caps function names at 64 characters; AWS would reject the create call.
    if len(function_name) > 64:
        raise ConfigError(
            f"function name {function_name!r} is longer than Lambda's 64 characters; "
            "shorten the app name, the stage or the handler's name="
        )
    return FunctionResource(
        name=name,
        function_name=function_name,
        handler=handler,
        kind=kind,
        runtime=settings.runtime,
        memory_size=settings.memory_size,
        timeout=settings.timeout,
        environment=tuple(sorted(settings.environment_variables.items())),
        reserved_concurrency=settings.reserved_concurrency,
        tags=tuple(sorted(settings.tags.items())),
        architecture=settings.architecture,
    )


def _kind(source: Any) -> str:
    kind = event_source_kind(source)
    if kind is None:
        raise ConfigError(
            f"cannot deploy event source {type(source).__name__} ({source.name}); "
            "Lambic deploys schedules, S3, SQS, SNS, EventBridge, DynamoDB and Kinesis handlers"
        )
    return kind


def _binding(source: Any) -> Binding:
    kind = _kind(source)
    name: str = source.name
    if kind == "schedule":
        expression = source.schedule_expression
        text = expression if isinstance(expression, str) else expression.to_string()
        return ScheduleBinding(name, text, getattr(source, "description", None) or "")
    if kind == "cloudwatch":
        return PatternBinding(name, canonical_json(source.event_pattern))
    if kind == "s3":
        return S3Binding(
            name,
            source.bucket,
            tuple(source.events or ["s3:ObjectCreated:*"]),
            source.prefix or "",
            source.suffix or "",
        )
    if kind == "sqs":
        queue = source.queue or str(source.queue_arn).rsplit(":", 1)[-1]
        window = source.maximum_batching_window_in_seconds or 0
        problem = sqs_batching_error(name, queue, source.batch_size, window)
        if problem is not None:  # CreateEventSourceMapping would refuse it
            raise ConfigError(problem)
        return QueueBinding(
            name,
            queue,
            source.queue_arn,
            source.batch_size,
            source.maximum_batching_window_in_seconds or 0,
        )
    if kind == "sns":
        return TopicBinding(name, source.topic)
    stream = source.stream_arn if kind == "dynamodb" else source.stream
    return StreamBinding(
        name,
        kind,
        stream,
        source.batch_size,
        source.starting_position,
        source.maximum_batching_window_in_seconds or 0,
    )
