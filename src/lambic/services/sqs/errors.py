"""SQS's errors, carrying both of the codes AWS answers with.

SQS moved from the query protocol to JSON in 2023 and kept its old error codes for
old clients: a JSON error names the modelled shape in `__type`
(`com.amazonaws.sqs#QueueDoesNotExist`) and the legacy query code in the
`x-amzn-query-error` header (`AWS.SimpleQueueService.NonExistentQueue;Sender`),
which botocore reports as the error code. The query protocol answers the legacy code
in its XML `<Code>`. One `SqsError` carries both so each protocol renders its own.

Hierarchy: `ServiceError` → `SqsError`.
"""

from __future__ import annotations

from lambic.services.base import ServiceError


class SqsError(ServiceError):
    """An SQS request failed; rendered as AWS's error for the request's protocol."""

    def __init__(
        self,
        shape: str,
        message: str,
        *,
        query_code: str | None = None,
        status: int = 400,
        sender_fault: bool = True,
    ) -> None:
        super().__init__(message)
        self.shape = shape
        self.message = message
        self.query_code = query_code or shape
        self.status = status
        self.sender_fault = sender_fault


def queue_does_not_exist() -> SqsError:
    return SqsError(
        "QueueDoesNotExist",
        "The specified queue does not exist.",
        query_code="AWS.SimpleQueueService.NonExistentQueue",
    )


def queue_name_exists(name: str) -> SqsError:
    return SqsError(
        "QueueNameExists",
        f"A queue already exists with the same name and a different value for attribute(s) {name}",
        query_code="QueueAlreadyExists",
    )


def invalid_parameter(message: str) -> SqsError:
    return SqsError("InvalidParameterValue", message, query_code="InvalidParameterValue")


def invalid_parameter_value(name: str, value: object, reason: str) -> SqsError:
    return invalid_parameter(f"Value {value} for parameter {name} is invalid. Reason: {reason}")


def missing_parameter(name: str) -> SqsError:
    return SqsError("MissingParameter", f"The request must contain the parameter {name}.")


def invalid_attribute_name(name: str) -> SqsError:
    return SqsError("InvalidAttributeName", f"Unknown Attribute {name}.")


def invalid_attribute_value(name: str, reason: str = "") -> SqsError:
    message = f"Invalid value for the parameter {name}."
    if reason:
        message = f"{message} Reason: {reason}"
    return SqsError("InvalidAttributeValue", message)


def receipt_handle_invalid(handle: str) -> SqsError:
    return SqsError(
        "ReceiptHandleIsInvalid",
        f'The input receipt handle "{handle}" is not a valid receipt handle.',
    )


def message_not_inflight() -> SqsError:
    return SqsError(
        "MessageNotInflight",
        "The message referred to isn't in flight.",
        query_code="AWS.SimpleQueueService.MessageNotInflight",
    )


def batch_error(shape: str, message: str) -> SqsError:
    return SqsError(shape, message, query_code=f"AWS.SimpleQueueService.{shape}")


def unsupported_operation(message: str) -> SqsError:
    return SqsError(
        "UnsupportedOperation", message, query_code="AWS.SimpleQueueService.UnsupportedOperation"
    )


def invalid_action(action: str) -> SqsError:
    return SqsError(
        "InvalidAction",
        f"The action {action} is not valid for this endpoint.",
        query_code="InvalidAction",
    )
