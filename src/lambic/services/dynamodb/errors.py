"""DynamoDB's errors, each carrying the code, HTTP status and message AWS returns.

Hierarchy (root of this package: `DynamoDBError`, itself a `ServiceError`):

    DynamoDBError
    ├── ValidationError                 400 com.amazon.coral.validate#ValidationException
    ├── SerializationError              400 com.amazon.coral.service#SerializationException
    ├── UnknownOperationError           400 com.amazon.coral.service#UnknownOperationException
    ├── ResourceNotFoundError           400 ...v20120810#ResourceNotFoundException
    ├── TableNotFoundError              400 ...v20120810#TableNotFoundException
    ├── ResourceInUseError              400 ...v20120810#ResourceInUseException
    ├── ConditionalCheckFailedError     400 ...v20120810#ConditionalCheckFailedException
    ├── DuplicateItemError              400 ...v20120810#DuplicateItemException (PartiQL)
    ├── TransactionCanceledError        400 ...v20120810#TransactionCanceledException
    ├── IdempotentParameterMismatchError 400
    └── TrimmedDataAccessError / ExpiredIteratorError (Streams)

The protocol layer renders any of them as AWS's JSON error body. Messages are AWS's
own words so that code matching on them (and humans searching for them) behaves the
same locally as in the cloud.
"""

from __future__ import annotations

from typing import Any

from lambic.services.base import ServiceError

_DYNAMODB_NS = "com.amazonaws.dynamodb.v20120810#"


class DynamoDBError(ServiceError):
    """An error DynamoDB answers with: `code`, `status`, `message` and optional extra fields."""

    code = "InternalServerError"
    namespace = _DYNAMODB_NS
    status = 400
    # AWS spells the message key "message" for most errors, "Message" for a few.
    message_key = "message"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.namespace + self.code}
        body.update(self.extra)
        body[self.message_key] = self.message
        return body


class ValidationError(DynamoDBError):
    code = "ValidationException"
    namespace = "com.amazon.coral.validate#"


class SerializationError(DynamoDBError):
    code = "SerializationException"
    namespace = "com.amazon.coral.service#"
    message_key = "Message"


class UnknownOperationError(DynamoDBError):
    code = "UnknownOperationException"
    namespace = "com.amazon.coral.service#"


class ResourceNotFoundError(DynamoDBError):
    code = "ResourceNotFoundException"


class TableNotFoundError(DynamoDBError):
    """What the backup operations answer for a missing table."""

    code = "TableNotFoundException"


class ResourceInUseError(DynamoDBError):
    code = "ResourceInUseException"


class ConditionalCheckFailedError(DynamoDBError):
    code = "ConditionalCheckFailedException"

    def __init__(self, item: dict[str, Any] | None = None, *, units: float = 1.0) -> None:
        extra = {"Item": item} if item is not None else {}
        super().__init__("The conditional request failed", **extra)
        # AWS bills a failed conditional write by the existing item's size (at least
        # one unit); the metering counts these.
        self.consumed_units = units


class DuplicateItemError(DynamoDBError):
    """A PartiQL INSERT of an item whose key exists."""

    code = "DuplicateItemException"


class TransactionCanceledError(DynamoDBError):
    code = "TransactionCanceledException"
    message_key = "Message"


class IdempotentParameterMismatchError(DynamoDBError):
    code = "IdempotentParameterMismatchException"
    message_key = "Message"


class TrimmedDataAccessError(DynamoDBError):
    code = "TrimmedDataAccessException"


class ExpiredIteratorError(DynamoDBError):
    code = "ExpiredIteratorException"


class InternalServerError(DynamoDBError):
    code = "InternalServerError"
    status = 500


def table_not_found(name: str) -> ResourceNotFoundError:
    """The error table-level operations (DescribeTable, DeleteTable...) answer with."""
    return ResourceNotFoundError(f"Requested resource not found: Table: {name} not found")


def resource_not_found() -> ResourceNotFoundError:
    """The error item-level operations answer with for a missing table."""
    return ResourceNotFoundError("Requested resource not found")
