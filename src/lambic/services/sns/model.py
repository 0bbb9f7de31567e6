"""SNS's values as the engine hands them around, independent of the wire protocol."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from lambic.services.sqs.model import AttributeValue


@dataclass(frozen=True)
class MessageAttribute(AttributeValue):
    """One SNS message attribute: String, String.Array, Number or Binary.

    AWS's MessageAttributeValue, the structure SQS takes too: the same fields and the
    same size rule, plus the form SNS writes into a notification.
    """

    def envelope_value(self) -> dict[str, str]:
        """`{"Type": ..., "Value": ...}` as SNS writes it into a notification."""
        if self.binary_value is not None:
            return {"Type": "Binary", "Value": base64.b64encode(self.binary_value).decode()}
        return {"Type": self.data_type, "Value": self.string_value or ""}


@dataclass
class Topic:
    arn: str
    name: str
    attributes: dict[str, str]
    tags: dict[str, str]

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic") == "true"


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    attributes: dict[str, str]
    confirmed: bool
    token: str

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false").lower() == "true"


@dataclass(frozen=True)
class Notification:
    """One published message on its way to one subscription."""

    message_id: str
    topic_arn: str
    message: str
    subject: str | None
    timestamp: str
    attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    group_id: str | None = None
    deduplication_id: str | None = None
    sequence_number: str | None = None


@dataclass(frozen=True)
class LambdaDelivery:
    """What a lambda subscription receives; `event` is the Lambda `Records` payload."""

    subscription_arn: str
    function_arn: str
    event: dict[str, Any]
