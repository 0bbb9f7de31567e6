"""Lambic: write serverless Python once, run it locally as a faithful cloud, deploy to AWS.

The programming model (`Lambic`, `Blueprint`, `Response`, the errors...) is re-exported
here from `lambic.app`, which uses only the standard library.

    from lambic import Lambic      # or: from lambic import Chalice
    app = Lambic("hello")
"""

from __future__ import annotations

from lambic.app import (
    AuthResponse,
    AuthRoute,
    BadRequestError,
    Blueprint,
    Chalice,
    ChaliceError,
    ChaliceUnhandledError,
    ChaliceViewError,
    CognitoUserPoolAuthorizer,
    ConflictError,
    ConvertToMiddleware,
    CORSConfig,
    CustomAuthorizer,
    ForbiddenError,
    IAMAuthorizer,
    Lambic,
    LambicError,
    MethodNotAllowedError,
    NotFoundError,
    Request,
    RequestTimeoutError,
    Response,
    TooManyRequestsError,
    UnauthorizedError,
    UnprocessableEntityError,
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
    "CognitoUserPoolAuthorizer",
    "ConflictError",
    "ConvertToMiddleware",
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
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "__version__",
]
