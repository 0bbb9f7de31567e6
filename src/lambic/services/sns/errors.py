"""SNS's errors, in the query protocol's XML `ErrorResponse` shape.

Codes and statuses come from botocore's SNS model (`NotFound` 404, `InvalidParameter`
400, ...); messages follow AWS's wording ("Invalid parameter: Topic Name").

Hierarchy: `ServiceError` → `SnsError`.
"""

from __future__ import annotations

from lambic.services.base import ServiceError


class SnsError(ServiceError):
    """An SNS request failed; rendered as AWS's XML error."""

    def __init__(
        self, code: str, message: str, *, status: int = 400, sender_fault: bool = True
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault


def not_found(message: str) -> SnsError:
    return SnsError("NotFound", message, status=404)


def topic_not_found() -> SnsError:
    return not_found("Topic does not exist")


def subscription_not_found() -> SnsError:
    return not_found("Subscription does not exist")


def invalid_parameter(detail: str) -> SnsError:
    return SnsError("InvalidParameter", f"Invalid parameter: {detail}")


def invalid_parameter_value(message: str) -> SnsError:
    return SnsError("ParameterValueInvalid", message)


def batch_error(code: str, message: str) -> SnsError:
    return SnsError(code, message)


def invalid_action(action: str) -> SnsError:
    return SnsError("InvalidAction", f"The action {action} is not valid for this endpoint.")


def missing_parameter(name: str) -> SnsError:
    return SnsError(
        "ValidationError",
        f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' failed to "
        "satisfy constraint: Member must not be null",
    )


def not_implemented(action: str) -> SnsError:
    return SnsError(
        "NotImplemented",
        f"Lambic's local SNS does not serve {action} (SMS and data protection policies are "
        "not emulated). Point this client at AWS (set AWS_ENDPOINT_URL_SNS to SNS's "
        "endpoint) or replace the call with a stub while running locally.",
        status=501,
    )
