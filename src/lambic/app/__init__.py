"""The Lambic programming model: standard library only, importable on Python 3.10+.

It is copied into every deployment package. A user module defines
`app = Lambic("name")`; decorators fill the registry that the runtime and the deployer
read (docs/internals.md §1), and `app(event, context)` is the Lambda handler for every
HTTP route.

    application   Lambic (alias Chalice), APIGateway: registry + HTTP Lambda handler
    blueprints    Blueprint
    routing       RouteEntry, RouteMatcher (pure data, for the gateway), RouteMatch
    requests      Request          responses  Response
    cors          CORSConfig       authorizers  AuthResponse, AuthRoute, *Authorizer
    middleware    ConvertToMiddleware          errors  ChaliceViewError and friends
    schedules, events, event_sources   Rate/Cron, S3Event/SQSEvent/..., @app.schedule/...
    websockets, websocket_api          WebsocketEvent, @app.on_ws_*, app.websocket_api
    proxy_events  create_rest_event (API Gateway REST v1 events)
    registry      functions(app) -> [FunctionSpec], route_table(app)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambic.app._decorators import DecoratorAPI
from lambic.app._lazy import lazy_attribute as _lazy_attribute
from lambic.app._mappings import CaseInsensitiveMapping, MultiDict
from lambic.app.application import APIGateway, Chalice, Lambic
from lambic.app.authorizers import (
    Authorizer,
    AuthRequest,
    AuthResponse,
    AuthRoute,
    BuiltinAuthConfig,
    ChaliceAuthorizer,
    CognitoUserPoolAuthorizer,
    CustomAuthorizer,
    IAMAuthorizer,
)
from lambic.app.blueprints import Blueprint
from lambic.app.cors import CORSConfig
from lambic.app.errors import (
    ALL_ERRORS,
    BadRequestError,
    ChaliceError,
    ChaliceUnhandledError,
    ChaliceViewError,
    ConflictError,
    ForbiddenError,
    LambicError,
    MethodNotAllowedError,
    NotFoundError,
    RequestTimeoutError,
    RouteError,
    TooManyRequestsError,
    UnauthorizedError,
    UnprocessableEntityError,
    WebsocketDisconnectedError,
)
from lambic.app.middleware import ConvertToMiddleware
from lambic.app.proxy_events import create_rest_event
from lambic.app.registry import FunctionSpec, functions, route_table
from lambic.app.requests import Request
from lambic.app.responses import Response, handle_extra_types
from lambic.app.routing import RouteEntry, RouteMatch, RouteMatcher

if TYPE_CHECKING:
    from lambic.app.event_sources import (
        BaseEventSourceConfig,
        CloudWatchEventConfig,
        DynamoDBEventConfig,
        EventSourceConfigError,
        KinesisEventConfig,
        LambdaFunction,
        S3EventConfig,
        ScheduledEventConfig,
        SNSEventConfig,
        SQSEventConfig,
    )
    from lambic.app.events import (
        BaseLambdaEvent,
        CloudWatchEvent,
        DynamoDBEvent,
        DynamoDBRecord,
        KinesisEvent,
        KinesisRecord,
        LambdaFunctionEvent,
        S3Event,
        SNSEvent,
        SQSEvent,
        SQSRecord,
    )
    from lambic.app.schedules import (
        Cron,
        Rate,
        ScheduleExpression,
        ScheduleExpressionError,
        parse_schedule,
    )
    from lambic.app.websocket_api import WebsocketAPI
    from lambic.app.websockets import (
        WebsocketConnectConfig,
        WebsocketDisconnectConfig,
        WebsocketEvent,
        WebsocketEventSourceHandler,
        WebsocketMessageConfig,
    )

__all__ = [
    "ALL_ERRORS",
    "APIGateway",
    "AuthRequest",
    "AuthResponse",
    "AuthRoute",
    "Authorizer",
    "BadRequestError",
    "BaseEventSourceConfig",
    "BaseLambdaEvent",
    "Blueprint",
    "BuiltinAuthConfig",
    "CORSConfig",
    "CaseInsensitiveMapping",
    "Chalice",
    "ChaliceAuthorizer",
    "ChaliceError",
    "ChaliceUnhandledError",
    "ChaliceViewError",
    "CloudWatchEvent",
    "CloudWatchEventConfig",
    "CognitoUserPoolAuthorizer",
    "ConflictError",
    "ConvertToMiddleware",
    "Cron",
    "CustomAuthorizer",
    "DecoratorAPI",
    "DynamoDBEvent",
    "DynamoDBEventConfig",
    "DynamoDBRecord",
    "EventSourceConfigError",
    "ForbiddenError",
    "FunctionSpec",
    "IAMAuthorizer",
    "KinesisEvent",
    "KinesisEventConfig",
    "KinesisRecord",
    "LambdaFunction",
    "LambdaFunctionEvent",
    "Lambic",
    "LambicError",
    "MethodNotAllowedError",
    "MultiDict",
    "NotFoundError",
    "Rate",
    "Request",
    "RequestTimeoutError",
    "Response",
    "RouteEntry",
    "RouteError",
    "RouteMatch",
    "RouteMatcher",
    "S3Event",
    "S3EventConfig",
    "SNSEvent",
    "SNSEventConfig",
    "SQSEvent",
    "SQSEventConfig",
    "SQSRecord",
    "ScheduleExpression",
    "ScheduleExpressionError",
    "ScheduledEventConfig",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "WebsocketAPI",
    "WebsocketConnectConfig",
    "WebsocketDisconnectConfig",
    "WebsocketDisconnectedError",
    "WebsocketEvent",
    "WebsocketEventSourceHandler",
    "WebsocketMessageConfig",
    "create_rest_event",
    "functions",
    "handle_extra_types",
    "parse_schedule",
    "route_table",
]

# The event half (schedules, event objects, event-source configs) loads on first access:
# an HTTP-only app then never pays its import cost in a Lambda cold start (PEP 562).
_LAZY = {
    "BaseEventSourceConfig": "lambic.app.event_sources",
    "BaseLambdaEvent": "lambic.app.events",
    "CloudWatchEvent": "lambic.app.events",
    "CloudWatchEventConfig": "lambic.app.event_sources",
    "Cron": "lambic.app.schedules",
    "DynamoDBEvent": "lambic.app.events",
    "DynamoDBEventConfig": "lambic.app.event_sources",
    "DynamoDBRecord": "lambic.app.events",
    "EventSourceConfigError": "lambic.app.event_sources",
    "KinesisEvent": "lambic.app.events",
    "KinesisEventConfig": "lambic.app.event_sources",
    "KinesisRecord": "lambic.app.events",
    "LambdaFunction": "lambic.app.event_sources",
    "LambdaFunctionEvent": "lambic.app.events",
    "Rate": "lambic.app.schedules",
    "S3Event": "lambic.app.events",
    "S3EventConfig": "lambic.app.event_sources",
    "SNSEvent": "lambic.app.events",
    "SNSEventConfig": "lambic.app.event_sources",
    "SQSEvent": "lambic.app.events",
    "SQSEventConfig": "lambic.app.event_sources",
    "SQSRecord": "lambic.app.events",
    "ScheduleExpression": "lambic.app.schedules",
    "ScheduleExpressionError": "lambic.app.schedules",
    "ScheduledEventConfig": "lambic.app.event_sources",
    "parse_schedule": "lambic.app.schedules",
    "WebsocketAPI": "lambic.app.websocket_api",
    "WebsocketConnectConfig": "lambic.app.websockets",
    "WebsocketDisconnectConfig": "lambic.app.websockets",
    "WebsocketEvent": "lambic.app.websockets",
    "WebsocketEventSourceHandler": "lambic.app.websockets",
    "WebsocketMessageConfig": "lambic.app.websockets",
}


def __getattr__(name: str) -> Any:
    return _lazy_attribute(globals(), _LAZY, __name__, name)
