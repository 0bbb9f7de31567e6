"""Input checks SNS makes before it changes anything, with AWS's codes and messages."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from lambic._http_limits import loads_json
from lambic.services.sns.errors import SnsError, invalid_parameter, invalid_parameter_value
from lambic.services.sns.model import MessageAttribute

MAX_MESSAGE_BYTES = 262144  # 256 KiB, message and attributes together, as AWS counts
MAX_ATTRIBUTES = 10
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_GROUP_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

TOPIC_SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "DisplayName",
        "Policy",
        "TracingConfig",
        "KmsMasterKeyId",
        "SignatureVersion",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "DataProtectionPolicy",
        "FifoThroughputScope",
        "ApplicationSuccessFeedbackRoleArn",
        "ApplicationSuccessFeedbackSampleRate",
        "ApplicationFailureFeedbackRoleArn",
        "HTTPSuccessFeedbackRoleArn",
        "HTTPSuccessFeedbackSampleRate",
        "HTTPFailureFeedbackRoleArn",
        "LambdaSuccessFeedbackRoleArn",
        "LambdaSuccessFeedbackSampleRate",
        "LambdaFailureFeedbackRoleArn",
        "SQSSuccessFeedbackRoleArn",
        "SQSSuccessFeedbackSampleRate",
        "SQSFailureFeedbackRoleArn",
        "FirehoseSuccessFeedbackRoleArn",
        "FirehoseSuccessFeedbackSampleRate",
        "FirehoseFailureFeedbackRoleArn",
    }
)
SUBSCRIPTION_SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
        "ReplayPolicy",
    }
)
PROTOCOLS = frozenset(
    {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}
)


def check_topic_name(name: str, fifo: bool) -> None:
    if fifo:
        if not _FIFO_TOPIC_NAME.fullmatch(name):
            raise invalid_parameter(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
                "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between "
                "1 and 256 characters long."
            )
    elif not _TOPIC_NAME.fullmatch(name):
        raise invalid_parameter("Topic Name")


def check_subject(subject: str | None) -> None:
    if subject is None:
        return
    if not subject or len(subject) >= 100 or _CONTROL.search(subject):
        raise invalid_parameter("Subject")


def check_group_id(name: str, value: str) -> None:
    if not _GROUP_ID.fullmatch(value):
        raise invalid_parameter(
            f"{name} Reason: {name} can only include alphanumeric and punctuation characters. "
            "1 to 128 in length."
        )


def parse_attributes(raw: Any) -> dict[str, MessageAttribute]:
    """Publish's MessageAttributes (JSON-protocol-shaped) checked as AWS checks them."""
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise invalid_parameter("MessageAttributes")
    if len(raw) > MAX_ATTRIBUTES:
        raise invalid_parameter(
            f"MessageAttributes Reason: Number of message attributes [{len(raw)}] exceeds the "
            f"allowed maximum [{MAX_ATTRIBUTES}]."
        )
    out: dict[str, MessageAttribute] = {}
    for name, value in raw.items():
        if not _ATTRIBUTE_NAME.fullmatch(name) or name.lower().startswith(("aws.", "amazon.")):
            raise invalid_parameter_value(f"The message attribute name '{name}' is invalid.")
        value = value if isinstance(value, Mapping) else {}
        data_type = str(value.get("DataType", ""))
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise invalid_parameter_value(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        if base == "Binary":
            binary = value.get("BinaryValue")
            try:
                decoded = base64.b64decode(binary, validate=True) if binary else b""
            except (binascii.Error, ValueError, TypeError) as exc:
                raise invalid_parameter_value(
                    f"The message attribute '{name}' has an invalid binary value."
                ) from exc
            if not decoded:
                raise _empty_value(name, data_type)
            out[name] = MessageAttribute(data_type, None, decoded)
            continue
        text = value.get("StringValue")
        if not text:
            raise _empty_value(name, data_type)
        _check_typed_value(name, data_type, str(text))
        out[name] = MessageAttribute(data_type, str(text))
    return out


def _empty_value(name: str, data_type: str) -> SnsError:
    return invalid_parameter_value(
        f"The message attribute '{name}' must contain non-empty message attribute value for "
        f"message attribute type '{data_type.split('.', 1)[0]}'."
    )


def _check_typed_value(name: str, data_type: str, text: str) -> None:
    if data_type.startswith("Number"):
        try:
            float(text)
        except ValueError as exc:
            raise invalid_parameter_value(
                f"Could not cast message attribute '{name}' value to number."
            ) from exc
    if data_type == "String.Array":
        try:
            decoded = loads_json(text)
        except ValueError as exc:
            raise _bad_array(name) from exc
        if not isinstance(decoded, list):
            raise _bad_array(name)


def _bad_array(name: str) -> SnsError:
    return invalid_parameter_value(
        f"The message attribute '{name}' with type 'String.Array' must use a JSON array as its "
        "value."
    )


def message_size(message: str, attributes: Mapping[str, MessageAttribute]) -> int:
    return len(message.encode()) + sum(
        len(name.encode()) + value.size() for name, value in attributes.items()
    )


def parse_structure(message: str) -> dict[str, str]:
    """A MessageStructure=json message: a JSON object with a string `default` entry."""
    try:
        decoded = loads_json(message)
    except ValueError as exc:
        raise invalid_parameter("Message Structure - JSON message body failed to parse") from exc
    if not isinstance(decoded, dict):
        raise invalid_parameter("Message Structure - JSON message body failed to parse")
    if "default" not in decoded:
        raise invalid_parameter("Message Structure - No default entry in JSON message body")
    if not all(isinstance(v, str) for v in decoded.values()):
        raise invalid_parameter("Message Structure - JSON message body failed to parse")
    return {str(k): str(v) for k, v in decoded.items()}


def check_redrive_policy(text: str) -> None:
    """A subscription RedrivePolicy: `{"deadLetterTargetArn": "<SQS queue ARN>"}`."""
    try:
        policy = loads_json(text)
    except ValueError as exc:
        raise invalid_parameter("RedrivePolicy: failed to parse JSON") from exc
    target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
    if not isinstance(target, str) or not target.startswith("arn:aws:sqs:"):
        raise invalid_parameter("RedrivePolicy: deadLetterTargetArn must be an SQS queue ARN")
