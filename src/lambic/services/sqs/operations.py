"""SQS's API operations, protocol-neutral: JSON-shaped parameters in, JSON-shaped results out.

Both wire protocols land here: the JSON protocol passes its decoded body, the query
protocol its form turned into the same shape (`_query.parse_form`). Results use the
JSON protocol's member names; `_query.render_result` turns them into XML.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lambic.services.sqs._checksums import md5_of_attributes
from lambic.services.sqs.engine import SqsEngine
from lambic.services.sqs.errors import (
    SqsError,
    batch_error,
    invalid_parameter,
    invalid_parameter_value,
    missing_parameter,
    queue_does_not_exist,
)
from lambic.services.sqs.model import AttributeValue, ReceivedMessage

Params = Mapping[str, Any]
Result = dict[str, Any]

_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_MAX_BATCH = 10
_BATCH_BYTES = 1048576
_SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


@dataclass(frozen=True)
class Context:
    """What an operation needs from the request besides its parameters."""

    base_url: str  # "http://127.0.0.1:4566": queue URLs follow the Host the client used
    path: str = "/"  # query-protocol clients may address the queue by posting to its URL


Operation = Callable[[SqsEngine, Params, Context], Awaitable[Result]]


def queue_url(engine: SqsEngine, context: Context, name: str) -> str:
    return f"{context.base_url}/{engine.account}/{name}"


def _queue_name(engine: SqsEngine, params: Params, context: Context) -> str:
    url = params.get("QueueUrl")
    if url is None:
        path = context.path
        if path.count("/") < 2:
            raise missing_parameter("QueueUrl")
    else:
        path = urlsplit(str(url)).path if "://" in str(url) else str(url)
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        # AWS answers a URL with no queue path as a queue that does not exist.
        raise queue_does_not_exist()
    if len(segments) >= 2 and segments[-2] != engine.account:
        raise queue_does_not_exist()
    return segments[-1]


def _required(params: Params, name: str) -> Any:
    value = params.get(name)
    if value is None:
        raise missing_parameter(name)
    return value


def _int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid_parameter_value(name, value, "Must be an integer.")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise invalid_parameter_value(name, value, "Must be an integer.") from exc


def _strings(params: Params, name: str, *, required: bool = False) -> list[str]:
    value = params.get(name)
    if value is None:
        if required:
            raise missing_parameter(name)
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_parameter(f"{name} must be a list of strings.")
    return list(value)


def _str_map(params: Params, name: str) -> dict[str, str]:
    value = params.get(name) or {}
    if not isinstance(value, Mapping):
        raise invalid_parameter(f"{name} must be a map of strings.")
    return {str(k): str(v) for k, v in value.items()}


def _message_attributes(raw: Any) -> dict[str, AttributeValue]:
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise invalid_parameter("MessageAttributes must be a map.")
    out = {}
    for name, value in raw.items():
        if not isinstance(value, Mapping):
            raise invalid_parameter(f"Message (user) attribute '{name}' is invalid.")
        binary = value.get("BinaryValue")
        try:
            decoded = base64.b64decode(binary, validate=True) if binary is not None else None
        except (binascii.Error, ValueError) as exc:
            raise invalid_parameter(
                f"Message (user) attribute '{name}' has an invalid base64 BinaryValue."
            ) from exc
        out[str(name)] = AttributeValue(
            data_type=str(value.get("DataType", "")),
            string_value=value.get("StringValue"),
            binary_value=decoded,
        )
    return out


# Queues ----------------------------------------------------------------------------


async def create_queue(engine: SqsEngine, params: Params, context: Context) -> Result:
    name = str(_required(params, "QueueName"))
    queue = engine.create_queue(
        name, _str_map(params, "Attributes"), _str_map(params, "tags") or _str_map(params, "Tags")
    )
    return {"QueueUrl": queue_url(engine, context, queue.name)}


async def get_queue_url(engine: SqsEngine, params: Params, context: Context) -> Result:
    name = str(_required(params, "QueueName"))
    owner = params.get("QueueOwnerAWSAccountId")
    if owner is not None and owner != engine.account:
        raise queue_does_not_exist()
    return {"QueueUrl": queue_url(engine, context, engine.get_queue(name).name)}


async def list_queues(engine: SqsEngine, params: Params, context: Context) -> Result:
    names = engine.list_queues(str(params.get("QueueNamePrefix") or ""))
    max_results = _int(params, "MaxResults")
    token = params.get("NextToken")
    if max_results is not None and not 1 <= max_results <= 1000:
        raise invalid_parameter_value(
            "MaxResults", max_results, "MaxResults must be an integer between 1 and 1000."
        )
    if token:
        try:
            after = base64.b64decode(str(token), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise invalid_parameter("Invalid NextToken value.") from exc
        names = [name for name in names if name > after]
    result: Result = {}
    limit = max_results or 1000
    page = names[:limit]
    if page:
        result["QueueUrls"] = [queue_url(engine, context, name) for name in page]
    # AWS pages only when MaxResults is given.
    if max_results is not None and len(names) > limit:
        result["NextToken"] = base64.b64encode(page[-1].encode()).decode()
    return result


async def delete_queue(engine: SqsEngine, params: Params, context: Context) -> Result:
    engine.delete_queue(_queue_name(engine, params, context))
    return {}


async def purge_queue(engine: SqsEngine, params: Params, context: Context) -> Result:
    engine.purge_queue(_queue_name(engine, params, context))
    return {}


async def get_queue_attributes(engine: SqsEngine, params: Params, context: Context) -> Result:
    names = _strings(params, "AttributeNames")
    attributes = engine.get_queue_attributes(_queue_name(engine, params, context), names)
    return {"Attributes": attributes} if attributes else {}


async def set_queue_attributes(engine: SqsEngine, params: Params, context: Context) -> Result:
    _required(params, "Attributes")
    engine.set_queue_attributes(
        _queue_name(engine, params, context), _str_map(params, "Attributes")
    )
    return {}


async def tag_queue(engine: SqsEngine, params: Params, context: Context) -> Result:
    engine.tag_queue(_queue_name(engine, params, context), _str_map(params, "Tags"))
    return {}


async def untag_queue(engine: SqsEngine, params: Params, context: Context) -> Result:
    keys = _strings(params, "TagKeys")
    engine.untag_queue(_queue_name(engine, params, context), [str(k) for k in keys])
    return {}


async def list_queue_tags(engine: SqsEngine, params: Params, context: Context) -> Result:
    tags = engine.get_queue(_queue_name(engine, params, context)).tags
    return {"Tags": dict(tags)} if tags else {}


async def list_dead_letter_source_queues(
    engine: SqsEngine, params: Params, context: Context
) -> Result:
    names = engine.list_dead_letter_source_queues(_queue_name(engine, params, context))
    return {"queueUrls": [queue_url(engine, context, name) for name in names]}


async def add_permission(engine: SqsEngine, params: Params, context: Context) -> Result:
    engine.add_permission(
        _queue_name(engine, params, context),
        str(_required(params, "Label")),
        _strings(params, "AWSAccountIds", required=True),
        _strings(params, "Actions", required=True),
    )
    return {}


async def remove_permission(engine: SqsEngine, params: Params, context: Context) -> Result:
    engine.remove_permission(_queue_name(engine, params, context), str(_required(params, "Label")))
    return {}


async def start_message_move_task(engine: SqsEngine, params: Params, context: Context) -> Result:
    destination = params.get("DestinationArn")
    handle = engine.start_message_move_task(
        str(_required(params, "SourceArn")),
        str(destination) if destination else None,
        _int(params, "MaxNumberOfMessagesPerSecond"),
    )
    return {"TaskHandle": handle}


async def list_message_move_tasks(engine: SqsEngine, params: Params, context: Context) -> Result:
    results = engine.list_message_move_tasks(
        str(_required(params, "SourceArn")), _int(params, "MaxResults") or 1
    )
    return {"Results": results}


async def cancel_message_move_task(engine: SqsEngine, params: Params, context: Context) -> Result:
    moved = engine.cancel_message_move_task(str(_required(params, "TaskHandle")))
    return {"ApproximateNumberOfMessagesMoved": moved}


# Messages --------------------------------------------------------------------------


def _send(engine: SqsEngine, queue: str, entry: Params) -> Result:
    body = entry.get("MessageBody")
    if body is None:
        raise missing_parameter("MessageBody")
    sent = engine.send_message(
        queue,
        str(body),
        delay_seconds=_int(entry, "DelaySeconds"),
        message_attributes=_message_attributes(entry.get("MessageAttributes")),
        system_attributes=_message_attributes(entry.get("MessageSystemAttributes")),
        group_id=entry.get("MessageGroupId"),
        deduplication_id=entry.get("MessageDeduplicationId"),
    )
    result: Result = {"MD5OfMessageBody": sent.md5_of_body}
    if sent.md5_of_attributes:
        result["MD5OfMessageAttributes"] = sent.md5_of_attributes
    if sent.md5_of_system_attributes:
        result["MD5OfMessageSystemAttributes"] = sent.md5_of_system_attributes
    result["MessageId"] = sent.message_id
    if sent.sequence_number:
        result["SequenceNumber"] = sent.sequence_number
    return result


async def send_message(engine: SqsEngine, params: Params, context: Context) -> Result:
    return _send(engine, _queue_name(engine, params, context), params)


def _entries(params: Params, entry_name: str) -> list[Params]:
    entries = params.get("Entries") or []
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise invalid_parameter(f"Entries must be a list of {entry_name} structures.")
    if not entries:
        raise batch_error(
            "EmptyBatchRequest", f"There should be at least one {entry_name} in the request."
        )
    if len(entries) > _MAX_BATCH:
        raise batch_error(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {_MAX_BATCH}. "
            f"You have sent {len(entries)}.",
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = str(entry.get("Id", ""))
        if not _BATCH_ID.fullmatch(entry_id):
            raise batch_error(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long.",
            )
        if entry_id in seen:
            raise batch_error("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return list(entries)


def _each_entry(entries: list[Params], apply: Callable[[Params], Result]) -> Result:
    """A *Batch call's entries one by one: an SqsError fails that entry, not the call."""
    successful, failed = [], []
    for entry in entries:
        try:
            successful.append({"Id": entry["Id"], **apply(entry)})
        except SqsError as error:
            failed.append(_failure(str(entry["Id"]), error))
    return {"Successful": successful, "Failed": failed}


def _failure(entry_id: str, error: SqsError) -> Result:
    return {
        "Id": entry_id,
        "SenderFault": error.sender_fault,
        "Code": error.query_code,
        "Message": error.message,
    }


async def send_message_batch(engine: SqsEngine, params: Params, context: Context) -> Result:
    queue = _queue_name(engine, params, context)
    entries = _entries(params, "SendMessageBatchRequestEntry")
    engine.get_queue(queue)
    total = sum(
        len(str(e.get("MessageBody", "")).encode())
        + sum(a.size() + len(n) for n, a in _message_attributes(e.get("MessageAttributes")).items())
        for e in entries
    )
    if total > _BATCH_BYTES:
        raise batch_error(
            "BatchRequestTooLong",
            f"Batch requests cannot be longer than {_BATCH_BYTES} bytes. "
            f"You have sent {total} bytes.",
        )
    return _each_entry(entries, lambda entry: _send(engine, queue, entry))


def _wanted_system_attributes(params: Params) -> list[str]:
    names = _strings(params, "AttributeNames") + _strings(params, "MessageSystemAttributeNames")
    if "All" in names:
        return list(_SYSTEM_ATTRIBUTES)
    return [name for name in _SYSTEM_ATTRIBUTES if name in names]


def _wanted_message_attribute(names: list[str], name: str) -> bool:
    for wanted in names:
        if wanted in ("All", ".*") or wanted == name:
            return True
        if wanted.endswith(".*") and name.startswith(wanted[:-1]):
            return True
    return False


def _render_message(
    message: ReceivedMessage, system_names: list[str], attribute_names: list[str]
) -> Result:
    out: Result = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    }
    system = {
        n: message.system_attributes[n] for n in system_names if n in message.system_attributes
    }
    if system:
        out["Attributes"] = system
    chosen = {
        name: value
        for name, value in message.message_attributes.items()
        if _wanted_message_attribute(attribute_names, name)
    }
    if chosen:
        out["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
        out["MessageAttributes"] = {name: value.to_json() for name, value in chosen.items()}
    return out


async def receive_message(engine: SqsEngine, params: Params, context: Context) -> Result:
    queue = _queue_name(engine, params, context)
    messages = await engine.receive_messages(
        queue,
        max_messages=_int(params, "MaxNumberOfMessages") or 1,
        visibility_timeout=_int(params, "VisibilityTimeout"),
        wait_seconds=_int(params, "WaitTimeSeconds"),
        attempt_id=params.get("ReceiveRequestAttemptId"),
    )
    if not messages:
        return {}
    system_names = _wanted_system_attributes(params)
    attribute_names = _strings(params, "MessageAttributeNames")
    return {"Messages": [_render_message(m, system_names, attribute_names) for m in messages]}


async def delete_message(engine: SqsEngine, params: Params, context: Context) -> Result:
    queue = _queue_name(engine, params, context)
    engine.delete_message(queue, str(_required(params, "ReceiptHandle")))
    return {}


async def delete_message_batch(engine: SqsEngine, params: Params, context: Context) -> Result:
    queue = _queue_name(engine, params, context)
    entries = _entries(params, "DeleteMessageBatchRequestEntry")
    engine.get_queue(queue)

    def delete(entry: Params) -> Result:
        engine.delete_message(queue, str(_required(entry, "ReceiptHandle")))
        return {}

    return _each_entry(entries, delete)


async def change_message_visibility(engine: SqsEngine, params: Params, context: Context) -> Result:
    queue = _queue_name(engine, params, context)
    timeout = _int(params, "VisibilityTimeout")
    if timeout is None:
        raise missing_parameter("VisibilityTimeout")
    engine.change_message_visibility(queue, str(_required(params, "ReceiptHandle")), timeout)
    return {}


async def change_message_visibility_batch(
    engine: SqsEngine, params: Params, context: Context
) -> Result:
    queue = _queue_name(engine, params, context)
    entries = _entries(params, "ChangeMessageVisibilityBatchRequestEntry")
    engine.get_queue(queue)

    def change(entry: Params) -> Result:
        timeout = _int(entry, "VisibilityTimeout")
        engine.change_message_visibility(
            queue, str(_required(entry, "ReceiptHandle")), timeout or 0
        )
        return {}

    return _each_entry(entries, change)


OPERATIONS: dict[str, Operation] = {
    "CreateQueue": create_queue,
    "GetQueueUrl": get_queue_url,
    "ListQueues": list_queues,
    "DeleteQueue": delete_queue,
    "PurgeQueue": purge_queue,
    "GetQueueAttributes": get_queue_attributes,
    "SetQueueAttributes": set_queue_attributes,
    "TagQueue": tag_queue,
    "UntagQueue": untag_queue,
    "ListQueueTags": list_queue_tags,
    "ListDeadLetterSourceQueues": list_dead_letter_source_queues,
    "AddPermission": add_permission,
    "RemovePermission": remove_permission,
    "StartMessageMoveTask": start_message_move_task,
    "ListMessageMoveTasks": list_message_move_tasks,
    "CancelMessageMoveTask": cancel_message_move_task,
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "ReceiveMessage": receive_message,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
    "ChangeMessageVisibility": change_message_visibility,
    "ChangeMessageVisibilityBatch": change_message_visibility_batch,
}
