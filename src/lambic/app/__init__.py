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
    proxy_events  create_rest_event (API Gateway REST v1 events)
    registry      functions(app) -> [FunctionSpec], route_table(app)
"""

from __future__ import annotations

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
)
from lambic.app.middleware import ConvertToMiddleware
from lambic.app.proxy_events import create_rest_event
from lambic.app.registry import FunctionSpec, functions, route_table
from lambic.app.requests import Request
from lambic.app.responses import Response
from lambic.app.routing import RouteEntry, RouteMatch, RouteMatcher

__all__ = [
    "ALL_ERRORS",
    "APIGateway",
    "AuthRequest",
    "AuthResponse",
    "AuthRoute",
    "Authorizer",
    "BadRequestError",
    "Blueprint",
    "BuiltinAuthConfig",
    "CORSConfig",
    "CaseInsensitiveMapping",
    "Chalice",
    "ChaliceAuthorizer",
    "ChaliceError",
    "ChaliceUnhandledError",
    "ChaliceViewError",
    "CognitoUserPoolAuthorizer",
    "ConflictError",
    "ConvertToMiddleware",
    "CustomAuthorizer",
    "ForbiddenError",
    "FunctionSpec",
    "IAMAuthorizer",
    "Lambic",
    "LambicError",
    "MethodNotAllowedError",
    "MultiDict",
    "NotFoundError",
    "Request",
    "RequestTimeoutError",
    "Response",
    "RouteEntry",
    "RouteError",
    "RouteMatch",
    "RouteMatcher",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "create_rest_event",
    "functions",
    "route_table",
]
