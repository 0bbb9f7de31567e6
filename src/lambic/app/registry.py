"""What other layers read from an app without private access (docs/internals.md §1).

functions(app)    every Lambda function the app defines, in a stable order
route_table(app)  the routes as plain JSON data for the local gateway, which
                  rebuilds a RouteMatcher from it without importing user code
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambic.app.cors import resource_preflight

if TYPE_CHECKING:
    from lambic.app.application import Lambic

__all__ = ["WEBSOCKET_FUNCTIONS", "FunctionSpec", "event_source_kind", "functions", "route_table"]

# Keyed by class name so this module needs nothing from the event-source module.
_KIND_BY_CONFIG = {
    "ScheduledEventConfig": "schedule",
    "S3EventConfig": "s3",
    "SQSEventConfig": "sqs",
    "SNSEventConfig": "sns",
    "CloudWatchEventConfig": "cloudwatch",
    "DynamoDBEventConfig": "dynamodb",
    "KinesisEventConfig": "kinesis",
}


#: WebSocket route key -> the function that serves it, named as Chalice's deployer names them.
WEBSOCKET_FUNCTIONS = {
    "$connect": "websocket_connect",
    "$default": "websocket_message",
    "$disconnect": "websocket_disconnect",
}


def event_source_kind(source: Any) -> str | None:
    """The function kind of an event-source config ("schedule", "s3", ...), Lambic's or
    Chalice's (a Chalice app's configs have no `kind`, so their class name decides)."""
    kind: str | None = getattr(source, "kind", None) or _KIND_BY_CONFIG.get(type(source).__name__)
    return kind


class FunctionSpec:
    """One Lambda function of the app (immutable).

    name          "api_handler" for the routes; else the short name
    handler       "app.app" for api_handler; else the handler string
    kind          api | authorizer | schedule | s3 | sqs | sns | cloudwatch | dynamodb
                  | kinesis | websocket | lambda
    event_source  the event source config, or None
    """

    __slots__ = ("event_source", "handler", "kind", "name")

    name: str
    handler: str
    kind: str
    event_source: Any

    def __init__(self, name: str, handler: str, kind: str, event_source: Any = None) -> None:
        # Set through object.__setattr__: instances are frozen, like a frozen dataclass,
        # without importing `dataclasses` (milliseconds of cold start).
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "handler", handler)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "event_source", event_source)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"FunctionSpec is immutable; cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FunctionSpec):
            return NotImplemented
        return (self.name, self.handler, self.kind) == (other.name, other.handler, other.kind) and (
            self.event_source == other.event_source
        )

    def __hash__(self) -> int:
        return hash((self.name, self.handler, self.kind))

    def __repr__(self) -> str:
        return (
            f"FunctionSpec(name={self.name!r}, handler={self.handler!r}, kind={self.kind!r}, "
            f"event_source={self.event_source!r})"
        )


def functions(app: Lambic) -> list[FunctionSpec]:
    """Every function: api_handler (if any route), authorizers, event handlers, lambdas."""
    specs: list[FunctionSpec] = []
    if any(app.routes.values()):
        specs.append(FunctionSpec(name="api_handler", handler="app.app", kind="api"))
    for auth in app.builtin_auth_handlers:
        specs.append(FunctionSpec(name=auth.name, handler=auth.handler_string, kind="authorizer"))
    for source in app.event_sources:
        kind = event_source_kind(source)
        if kind is None:
            raise TypeError(
                f"Unknown event source config {type(source).__name__} for {source.name!r}; "
                f"expected one of {', '.join(sorted(_KIND_BY_CONFIG))}"
            )
        specs.append(
            FunctionSpec(
                name=source.name, handler=source.handler_string, kind=kind, event_source=source
            )
        )
    for handler in getattr(app, "websocket_handlers", {}).values():
        specs.append(
            FunctionSpec(
                # Chalice's deployer names them by route; a Chalice app's configs have
                # no `function_name`, so the route key decides for both.
                name=WEBSOCKET_FUNCTIONS.get(handler.route_key_handled, "websocket_message"),
                handler=handler.handler_string,
                kind="websocket",
                event_source=handler,
            )
        )
    for func in app.pure_lambda_functions:
        specs.append(FunctionSpec(name=func.name, handler=func.handler_string, kind="lambda"))
    return specs


def route_table(app: Lambic) -> dict[str, Any]:
    """The app's HTTP surface as JSON-serialisable data.

    {"routes": {"/users/{id}": ["GET", "PUT"]}, "binary_types": [...],
     "preflight": {"/users/{id}": {"Access-Control-Allow-Methods": "GET,OPTIONS", ...}},
     "authorizers": {"/users/{id}": {"GET": "auth_name"}},
     "api_key_required": {"/users/{id}": ["PUT"]}}

    `preflight` lists only resources whose OPTIONS API Gateway generates (a CORS view
    and no user OPTIONS view); `lambic.app.cors.resource_preflight` decides, the same
    function the local gateway answers preflights with.
    """
    routes: dict[str, list[str]] = {}
    preflight: dict[str, dict[str, str]] = {}
    authorizers: dict[str, dict[str, str]] = {}
    api_keys: dict[str, list[str]] = {}
    for path, methods in app.routes.items():
        if not methods:
            continue
        routes[path] = list(methods)
        headers = resource_preflight({m: e.cors for m, e in methods.items()})
        if headers is not None:
            preflight[path] = headers
        named = {m: e.authorizer_name for m, e in methods.items() if e.authorizer_name}
        if named:
            authorizers[path] = {m: str(n) for m, n in named.items()}
        keyed = [m for m, e in methods.items() if e.api_key_required]
        if keyed:
            api_keys[path] = keyed
    return {
        "routes": routes,
        "binary_types": list(app.api.binary_types),
        "preflight": preflight,
        "authorizers": authorizers,
        "api_key_required": api_keys,
    }
