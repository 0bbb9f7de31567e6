"""Kinesis Data Streams' errors: the code, HTTP status and message AWS answers with.

Kinesis speaks JSON 1.1: an error is `{"__type": "<Code>", "message": "..."}` with the
code also in `x-amzn-ErrorType`. Hierarchy (root `KinesisError`, a `ServiceError`):

    KinesisError
    ├── ValidationError            400 ValidationException (a member breaks its shape)
    ├── InvalidArgumentError       400 InvalidArgumentException (a value Kinesis refuses)
    ├── ResourceNotFoundError      400 ResourceNotFoundException
    ├── ResourceInUseError         400 ResourceInUseException
    ├── LimitExceededError         400 LimitExceededException
    ├── ExpiredIteratorError       400 ExpiredIteratorException
    ├── ExpiredNextTokenError      400 ExpiredNextTokenException
    ├── SerializationError         400 SerializationException (the body is not JSON, or
    │                                  a member has the wrong JSON type: `shapes`)
    ├── UnknownOperationError      400 UnknownOperationException (not a Kinesis operation)
    ├── UnservedOperationError       501 NotImplemented (a Kinesis operation not served locally)
    └── InternalFailure            500 InternalFailure
"""

from __future__ import annotations

from lambic.project.account import LOCAL_ACCOUNT_ID
from lambic.services.base import ServiceError


class KinesisError(ServiceError):
    """An error Kinesis answers with: `code`, `status`, `message`."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(KinesisError):
    code = "ValidationException"


class InvalidArgumentError(KinesisError):
    code = "InvalidArgumentException"


class ResourceNotFoundError(KinesisError):
    code = "ResourceNotFoundException"


class ResourceInUseError(KinesisError):
    code = "ResourceInUseException"


class LimitExceededError(KinesisError):
    code = "LimitExceededException"


class ExpiredIteratorError(KinesisError):
    code = "ExpiredIteratorException"


class ExpiredNextTokenError(KinesisError):
    code = "ExpiredNextTokenException"


class SerializationError(KinesisError):
    code = "SerializationException"


class UnknownOperationError(KinesisError):
    code = "UnknownOperationException"


class UnservedOperationError(KinesisError):
    code = "NotImplemented"
    status = 501


class InternalFailure(KinesisError):
    code = "InternalFailure"
    status = 500


def stream_not_found(name: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(f"Stream {name} under account {LOCAL_ACCOUNT_ID} not found.")


def shard_not_found(shard: str, stream: str) -> ResourceNotFoundError:
    """GetShardIterator's and GetRecords' answer for a shard the stream lacks (or a
    missing stream): `shard` is the canonical id, `shardId-000000000005`."""
    return ResourceNotFoundError(
        f"Shard {shard} in stream {stream} under account {LOCAL_ACCOUNT_ID} does not exist"
    )


def shard_not_resolved(shard: str, stream: str) -> ResourceNotFoundError:
    """A ShardId naming no shard index, or (SplitShard, MergeShards) a missing shard,
    whether or not the stream exists."""
    return ResourceNotFoundError(
        f"Could not find shard {shard} in stream {stream} under account {LOCAL_ACCOUNT_ID}."
    )


def constraint(value: object, member: str, rule: str) -> ValidationError:
    """botocore-shape violation in AWS's words ("1 validation error detected: ...")."""
    shown = "null" if value is None else f"'{value}'"
    return ValidationError(
        f"1 validation error detected: Value {shown} at '{member}' failed to satisfy "
        f"constraint: {rule}"
    )
