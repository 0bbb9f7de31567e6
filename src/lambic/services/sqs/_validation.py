"""Input checks SQS makes before it changes anything, with AWS's error codes and messages."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambic._http_limits import loads_json
from lambic.services.sqs.errors import (
    SqsError,
    invalid_attribute_name,
    invalid_attribute_value,
    invalid_parameter,
    invalid_parameter_value,
)
from lambic.services.sqs.model import AttributeValue

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")
# The W3C XML character set; AWS rejects anything outside it with InvalidMessageContents.
_INVALID_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_GROUP_OR_DEDUP_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")

# Settable queue attributes and their AWS ranges (inclusive).
_RANGES: dict[str, tuple[int, int]] = {
    "VisibilityTimeout": (0, 43200),
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1048576),
    "MessageRetentionPeriod": (60, 1209600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
_OTHER_SETTABLE = frozenset(
    {"Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "SqsManagedSseEnabled"}
)
_FIFO_ONLY = frozenset({"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
_BOOLEANS = frozenset({"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"})
_ENUMS = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
MAX_MESSAGE_ATTRIBUTES = 10


def check_queue_name(name: str, fifo: bool) -> None:
    if fifo or name.endswith(".fifo"):
        if not (fifo and _FIFO_NAME.fullmatch(name)):
            raise invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                "or underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
    elif not _QUEUE_NAME.fullmatch(name):
        raise invalid_parameter(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def normalise_queue_attributes(
    attributes: Mapping[str, str], *, fifo: bool, creating: bool
) -> dict[str, str]:
    """Check settable attributes against AWS's names and ranges; return them normalised."""
    out: dict[str, str] = {}
    for name, raw in attributes.items():
        value = str(raw)
        if name in _RANGES:
            low, high = _RANGES[name]
            if not _is_int(value) or not low <= int(value) <= high:
                raise invalid_attribute_value(name)
            value = str(int(value))
        elif name == "FifoQueue":
            if not creating:
                raise invalid_attribute_name(name)
        elif name in _FIFO_ONLY:
            if not fifo:
                raise invalid_attribute_name(name)
        elif name not in _OTHER_SETTABLE:
            raise invalid_attribute_name(name)
        if name in _ENUMS and value not in _ENUMS[name]:
            raise invalid_attribute_value(name)
        if name == "Policy" and value and not _is_json_object(value):
            raise invalid_attribute_value(name, "Policy must be a JSON policy document.")
        if name == "RedriveAllowPolicy" and value:
            check_redrive_allow_policy(value)
        if name in _BOOLEANS:
            if value.lower() not in ("true", "false"):
                raise invalid_attribute_value(name)
            value = value.lower()
        out[name] = value
    return out


def parse_redrive_policy(text: str) -> tuple[str, int]:
    """(deadLetterTargetArn, maxReceiveCount) from a RedrivePolicy, or InvalidParameterValue."""
    try:
        policy = loads_json(text)
        arn = policy["deadLetterTargetArn"]
        count = int(policy["maxReceiveCount"])
    except (ValueError, TypeError, KeyError) as exc:
        raise invalid_parameter_value(
            "RedrivePolicy",
            text,
            "Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.",
        ) from exc
    if not isinstance(arn, str) or not 1 <= count <= 1000:
        raise invalid_parameter_value(
            "RedrivePolicy", text, "Invalid value for maxReceiveCount: must be 1 to 1000."
        )
    return arn, count


def check_redrive_allow_policy(text: str) -> None:
    """`{"redrivePermission": "allowAll" | "denyAll" | "byQueue", "sourceQueueArns": [...]}`."""
    try:
        policy = loads_json(text)
    except ValueError as exc:
        raise invalid_parameter_value("RedriveAllowPolicy", text, "Invalid JSON.") from exc
    permission = policy.get("redrivePermission") if isinstance(policy, dict) else None
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_parameter_value(
            "RedriveAllowPolicy", text, "redrivePermission must be allowAll, denyAll or byQueue."
        )
    sources = policy.get("sourceQueueArns")
    if permission == "byQueue":
        if not isinstance(sources, list) or not 1 <= len(sources) <= 10:
            raise invalid_parameter_value(
                "RedriveAllowPolicy", text, "byQueue needs 1 to 10 sourceQueueArns."
            )
    elif sources is not None:
        raise invalid_parameter_value(
            "RedriveAllowPolicy", text, "sourceQueueArns is allowed only with byQueue."
        )


def check_body(body: str) -> None:
    if not body:
        raise SqsError("MissingParameter", "The request must contain the parameter MessageBody.")
    bad = _INVALID_CHARS.search(body)
    if bad:
        raise SqsError(
            "InvalidMessageContents",
            f"Invalid characters found. Invalid binary character '#x{ord(bad.group()):X}' was "
            "found in the message body, the set of allowed characters is #x9 | #xA | #xD | "
            "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )


def check_message_attributes(attributes: Mapping[str, AttributeValue]) -> None:
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise invalid_parameter(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_MESSAGE_ATTRIBUTES}]."
        )
    for name, value in attributes.items():
        lowered = name.lower()
        if (
            not _ATTRIBUTE_NAME.fullmatch(name)
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
            or lowered.startswith(("aws.", "amazon."))
        ):
            raise invalid_parameter(f"Message (user) attribute name '{name}' is invalid.")
        base = value.data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise invalid_parameter(
                f"The type of message (user) attribute '{name}' is invalid. You must use only "
                "the following supported type prefixes: Binary, Number, String."
            )
        if base == "Binary":
            if not value.binary_value:
                raise invalid_parameter(
                    f"Message (user) attribute '{name}' must contain a non-empty value of type "
                    "'Binary'."
                )
        elif not value.string_value:
            raise invalid_parameter(
                f"Message (user) attribute '{name}' must contain a non-empty value of type "
                f"'{base}'."
            )
        elif base == "Number" and not _is_number(value.string_value):
            raise invalid_parameter(
                f"Can't cast the value of message (user) attribute '{name}' to a number."
            )


def check_system_attributes(attributes: Mapping[str, AttributeValue]) -> None:
    # AWSTraceHeader is the only message system attribute a sender may set.
    for name, value in attributes.items():
        if name != "AWSTraceHeader":
            raise invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        if value.data_type != "String" or not value.string_value:
            raise invalid_parameter(
                "Message system attribute 'AWSTraceHeader' must be a non-empty String."
            )


def check_group_or_dedup_id(parameter: str, value: str) -> None:
    if not _GROUP_OR_DEDUP_ID.fullmatch(value):
        raise invalid_parameter_value(
            parameter,
            value,
            f"{parameter} can only include alphanumeric and punctuation characters. "
            "1 to 128 in length.",
        )


def check_range(parameter: str, value: int, low: int, high: int, reason: str) -> None:
    if not low <= value <= high:
        raise invalid_parameter_value(parameter, value, reason)


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(loads_json(text), dict)
    except ValueError:
        return False


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
