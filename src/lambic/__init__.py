"""Lambic: write serverless Python once, run it locally as a faithful cloud, deploy to AWS.

The programming model (`Lambic`, `Blueprint`, `Response`, the errors...) is re-exported
here from `lambic.app`, which uses only the standard library.

    from lambic import Lambic      # or: from lambic import Chalice
    app = Lambic("hello")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambic.app import (
        AuthResponse,
        AuthRoute,
        BadRequestError,
        Blueprint,
        Chalice,
        ChaliceError,
        ChaliceUnhandledError,
        ChaliceViewError,
        CloudWatchEvent,
        CognitoUserPoolAuthorizer,
        ConflictError,
        ConvertToMiddleware,
        CORSConfig,
        Cron,
        CustomAuthorizer,
        DynamoDBEvent,
        DynamoDBRecord,
        EventSourceConfigError,
        ForbiddenError,
        IAMAuthorizer,
        KinesisEvent,
        KinesisRecord,
        LambdaFunctionEvent,
        Lambic,
        LambicError,
        MethodNotAllowedError,
        NotFoundError,
        Rate,
        Request,
        RequestTimeoutError,
        Response,
        RouteError,
        S3Event,
        ScheduleExpressionError,
        SNSEvent,
        SQSEvent,
        SQSRecord,
        TooManyRequestsError,
        UnauthorizedError,
        UnprocessableEntityError,
        WebsocketDisconnectedError,
        WebsocketEvent,
    )

__version__ = "0.1.0"

__all__ = [
    "AuthResponse",
    "AuthRoute",
    "BadRequestError",
    "Blueprint",
    "CORSConfig",
    "Chalice",
    "ChaliceError",
    "ChaliceUnhandledError",
    "ChaliceViewError",
    "CloudWatchEvent",
    "CognitoUserPoolAuthorizer",
    "ConflictError",
    "ConvertToMiddleware",
    "Cron",
    "CustomAuthorizer",
    "DynamoDBEvent",
    "DynamoDBRecord",
    "EventSourceConfigError",
    "ForbiddenError",
    "IAMAuthorizer",
    "KinesisEvent",
    "KinesisRecord",
    "LambdaFunctionEvent",
    "Lambic",
    "LambicError",
    "MethodNotAllowedError",
    "NotFoundError",
    "Rate",
    "Request",
    "RequestTimeoutError",
    "Response",
    "RouteError",
    "S3Event",
    "SNSEvent",
    "SQSEvent",
    "SQSRecord",
    "ScheduleExpressionError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "WebsocketDisconnectedError",
    "WebsocketEvent",
    "__version__",
]

# Every name loads from lambic.app on first access (PEP 562): schedules and event
# classes so that an HTTP-only app does not pay for them in a Lambda cold start (see
# lambic.app), and the rest so that `lambic services` and the local cloud's helper
# processes (`python -m lambic...`) do not import the programming model they never use.
_LAZY = frozenset(
    {
        "AuthResponse",
        "AuthRoute",
        "BadRequestError",
        "Blueprint",
        "Chalice",
        "ChaliceError",
        "ChaliceUnhandledError",
        "ChaliceViewError",
        "CognitoUserPoolAuthorizer",
        "ConflictError",
        "ConvertToMiddleware",
        "CORSConfig",
        "CustomAuthorizer",
        "ForbiddenError",
        "IAMAuthorizer",
        "Lambic",
        "LambicError",
        "MethodNotAllowedError",
        "NotFoundError",
        "Request",
        "RequestTimeoutError",
        "Response",
        "RouteError",
        "TooManyRequestsError",
        "UnauthorizedError",
        "UnprocessableEntityError",
        "CloudWatchEvent",
        "Cron",
        "DynamoDBEvent",
        "DynamoDBRecord",
        "EventSourceConfigError",
        "KinesisEvent",
        "KinesisRecord",
        "LambdaFunctionEvent",
        "Rate",
        "S3Event",
        "SNSEvent",
        "SQSEvent",
        "SQSRecord",
        "ScheduleExpressionError",
        "WebsocketDisconnectedError",
        "WebsocketEvent",
    }
)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lambic' has no attribute {name!r}")
    import lambic.app

    value = getattr(lambic.app, name)
    globals()[name] = value
    return value
