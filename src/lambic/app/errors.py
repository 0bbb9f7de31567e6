"""Errors a view raises to answer with an HTTP status, as Chalice defines them.

    ChaliceError                     root of lambic.app's exceptions
    ├── ChaliceViewError (500)       raise from a view: {"Code": <class>, "Message": str(e)}
    │   ├── BadRequestError (400)
    │   ├── UnauthorizedError (401)
    │   ├── ForbiddenError (403)
    │   ├── NotFoundError (404)
    │   ├── MethodNotAllowedError (405)
    │   ├── RequestTimeoutError (408)
    │   ├── ConflictError (409)
    │   ├── UnprocessableEntityError (422)
    │   └── TooManyRequestsError (429)
    ├── ChaliceUnhandledError        propagates past the view so middleware can handle it
    ├── WebsocketDisconnectedError   app.websocket_api on a gone connection (GoneException)
    └── RouteError (ValueError)      a route declaration is invalid (raised at import time)

Example::

    @app.route("/users/{id}")
    def get_user(id):
        raise NotFoundError(f"no user {id}")   # -> 404 {"Code": "NotFoundError", ...}
"""

from __future__ import annotations

__all__ = [
    "ALL_ERRORS",
    "BadRequestError",
    "ChaliceError",
    "ChaliceUnhandledError",
    "ChaliceViewError",
    "ConflictError",
    "ForbiddenError",
    "LambicError",
    "MethodNotAllowedError",
    "NotFoundError",
    "RequestTimeoutError",
    "RouteError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "WebsocketDisconnectedError",
]


class ChaliceError(Exception):
    """Root of every exception `lambic.app` raises (named as Chalice names it)."""


#: The same root under Lambic's own name.
LambicError = ChaliceError


class WebsocketDisconnectedError(ChaliceError):
    """`app.websocket_api` was used on a connection that is gone (API Gateway's 410)."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(connection_id)
        self.connection_id = connection_id


class ChaliceViewError(ChaliceError):
    """Raise from a view to answer with `STATUS_CODE` and a Chalice error body."""

    STATUS_CODE: int = 500


class ChaliceUnhandledError(ChaliceError):
    """Not turned into a response by the view dispatcher, so middleware can handle it."""


class BadRequestError(ChaliceViewError):
    STATUS_CODE = 400


class UnauthorizedError(ChaliceViewError):
    STATUS_CODE = 401


class ForbiddenError(ChaliceViewError):
    STATUS_CODE = 403


class NotFoundError(ChaliceViewError):
    STATUS_CODE = 404


class MethodNotAllowedError(ChaliceViewError):
    STATUS_CODE = 405


class RequestTimeoutError(ChaliceViewError):
    STATUS_CODE = 408


class ConflictError(ChaliceViewError):
    STATUS_CODE = 409


class UnprocessableEntityError(ChaliceViewError):
    STATUS_CODE = 422


class TooManyRequestsError(ChaliceViewError):
    STATUS_CODE = 429


class RouteError(ChaliceError, ValueError):
    """A route declaration is invalid; raised when the decorator runs.

    It is a `ValueError` because Chalice raises `ValueError` for the same mistakes.
    """


ALL_ERRORS: list[type[ChaliceViewError]] = [
    ChaliceViewError,
    BadRequestError,
    NotFoundError,
    UnauthorizedError,
    ForbiddenError,
    MethodNotAllowedError,
    RequestTimeoutError,
    ConflictError,
    UnprocessableEntityError,
    TooManyRequestsError,
]
