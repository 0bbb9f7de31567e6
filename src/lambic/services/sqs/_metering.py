"""SQS's billed requests: every API action, one per started 64 KB of payload.

AWS counts each 64 KB chunk of a request's payload as one request (a 256 KB
SendMessage is 4 requests; a batch of ten 1 KB messages is one). The payload is the
messages sent or received: bodies plus message attributes (name, type and value).
FIFO queues are priced apart from standard ones, so their requests are counted as
`fifo_requests`.

    >>> billed_requests("SendMessage", {"MessageBody": "x" * 70000}, None)
    2
    >>> billed_requests("ReceiveMessage", {}, {"Messages": [{"Body": "hi"}]})
    1
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from lambic.services._metering import chunks_64k

__all__ = ["billed_requests", "metric_and_queue"]


def metric_and_queue(params: Mapping[str, Any], path: str) -> tuple[str, str]:
    """(`requests` or `fifo_requests`, queue name or "" for account-level actions)."""
    named = params.get("QueueUrl") or params.get("QueueName")
    if named is None or type(named) is str:
        return _metric_and_queue(named, path)  # a queue's requests ask the same each time
    return _metric_and_queue.__wrapped__(named, path)


@lru_cache(maxsize=1024)
def _metric_and_queue(named: object, path: str) -> tuple[str, str]:
    if named is None:
        segments = [s for s in path.split("/") if s]
        named = segments[-1] if len(segments) >= 2 else ""
    queue = str(named).rstrip("/").rsplit("/", 1)[-1]
    return ("fifo_requests" if queue.endswith(".fifo") else "requests"), queue


def billed_requests(
    action: str, params: Mapping[str, Any], result: Mapping[str, Any] | None
) -> int:
    if action == "SendMessage":
        return chunks_64k(_message_size(params))
    if action == "SendMessageBatch":
        entries = params.get("Entries") or []
        return chunks_64k(sum(_message_size(e) for e in entries if isinstance(e, Mapping)))
    if action == "ReceiveMessage" and result:
        return chunks_64k(sum(_message_size(m) for m in result.get("Messages") or []))
    return 1


def _message_size(message: Mapping[str, Any]) -> int:
    body = message.get("MessageBody", message.get("Body")) or ""
    # An ASCII body's length is its UTF-8 length: no need to encode it.
    ascii_text = type(body) is str and body.isascii()
    size = len(body) if ascii_text else len(str(body).encode("utf-8"))
    attributes = message.get("MessageAttributes")
    if not attributes:
        return size
    if isinstance(attributes, Mapping):
        for name, value in attributes.items():
            size += len(str(name).encode("utf-8"))
            if isinstance(value, Mapping):
                size += len(str(value.get("DataType", "")).encode("utf-8"))
                text = value.get("StringValue")
                if text is not None:
                    size += len(str(text).encode("utf-8"))
                binary = value.get("BinaryValue")
                if binary is not None:
                    size += len(binary) * 3 // 4  # sent base64-encoded
    return size
