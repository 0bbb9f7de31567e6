from __future__ import annotations

import pytest

from lambic.app import errors


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (errors.ChaliceViewError, 500),
        (errors.BadRequestError, 400),
        (errors.UnauthorizedError, 401),
        (errors.ForbiddenError, 403),
        (errors.NotFoundError, 404),
        (errors.MethodNotAllowedError, 405),
        (errors.RequestTimeoutError, 408),
        (errors.ConflictError, 409),
        (errors.UnprocessableEntityError, 422),
        (errors.TooManyRequestsError, 429),
    ],
)
def test_view_errors_carry_chalice_status_codes(
    cls: type[errors.ChaliceViewError], status: int
) -> None:
    assert status == cls.STATUS_CODE
    assert issubclass(cls, errors.ChaliceError)
    assert cls in errors.ALL_ERRORS


def test_route_error_is_a_value_error_under_the_layer_root() -> None:
    assert issubclass(errors.RouteError, ValueError)
    assert issubclass(errors.RouteError, errors.LambicError)
