"""SQS's values as the engine hands them around, independent of the wire protocol."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambic._http_limits import loads_json

# AWS's defaults for a new queue; values are strings because that is how the API
# carries every queue attribute.
QUEUE_DEFAULTS: dict[str, str] = {
    "VisibilityTimeout": "30",
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}


@dataclass(frozen=True)
class AttributeValue:
    """One message attribute: `String`, `Number` or `Binary`, optionally `.custom`."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    def to_json(self) -> dict[str, str]:
        """The JSON protocol's shape (`BinaryValue` base64-encoded)."""
        out = {"DataType": self.data_type}
        if self.binary_value is not None:
            out["BinaryValue"] = base64.b64encode(self.binary_value).decode()
        else:
            out["StringValue"] = self.string_value or ""
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttributeValue:
        binary = data.get("BinaryValue")
        return cls(
            data_type=str(data.get("DataType", "")),
            string_value=data.get("StringValue"),
            binary_value=base64.b64decode(binary) if binary is not None else None,
        )

    def size(self) -> int:
        """Bytes this value counts against the message size limit (AWS counts all parts)."""
        value = self.binary_value if self.binary_value is not None else self.string_value
        raw = value if isinstance(value, bytes) else (value or "").encode()
        return len(self.data_type.encode()) + len(raw)


def dump_attributes(attributes: Mapping[str, AttributeValue]) -> str | None:
    if not attributes:
        return None
    return json.dumps({name: value.to_json() for name, value in attributes.items()})


def load_attributes(text: str | None) -> dict[str, AttributeValue]:
    if not text:
        return {}
    return {name: AttributeValue.from_json(value) for name, value in loads_json(text).items()}


@dataclass
class Queue:
    name: str
    arn: str
    attributes: dict[str, str]
    tags: dict[str, str]
    created: int  # epoch seconds, as AWS reports CreatedTimestamp
    modified: int

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    def int_attribute(self, name: str) -> int:
        return int(self.attributes.get(name, QUEUE_DEFAULTS.get(name, "0")))

    @property
    def content_based_deduplication(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication") == "true"

    def redrive(self) -> tuple[str, int] | None:
        """(dead-letter queue ARN, maxReceiveCount) when a RedrivePolicy is set."""
        text = self.attributes.get("RedrivePolicy")
        if not text:
            return None
        policy = loads_json(text)
        return str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])


@dataclass(frozen=True)
class SendResult:
    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None
    md5_of_system_attributes: str | None = None
    sequence_number: str | None = None


@dataclass
class ReceivedMessage:
    """A message as ReceiveMessage returns it, before attribute filtering."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    message_attributes: dict[str, AttributeValue]
    system_attributes: dict[str, str] = field(default_factory=dict)
