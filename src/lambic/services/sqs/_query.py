"""SQS's query protocol: flattened form parameters in, XML out.

Older SDKs (botocore before 1.31, the AWS CLI v1 of that era, most other languages'
v1 SDKs) POST `Action=SendMessage&Version=2012-11-05&MessageAttribute.1.Name=...`
and read XML. We turn the form into the same nested parameters the JSON protocol
carries, run the same operation, and render its result as the query protocol's XML,
so the two protocols can never disagree about semantics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambic.services._query_xml import error_response, text

NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"

# Flattened maps: form prefix → (parameter name, key field, value field).
_MAPS = {
    "Attribute": ("Attributes", "Name", "Value"),
    "Tag": ("Tags", "Key", "Value"),
    "Tags": ("Tags", "Key", "Value"),
    "MessageAttribute": ("MessageAttributes", "Name", "Value"),
    "MessageSystemAttribute": ("MessageSystemAttributes", "Name", "Value"),
}
# Flattened lists: form prefix → parameter name.
_LISTS = {
    "AttributeName": "AttributeNames",
    "MessageAttributeName": "MessageAttributeNames",
    "MessageSystemAttributeName": "MessageSystemAttributeNames",
    "TagKey": "TagKeys",
    "TagKeys": "TagKeys",
    "AWSAccountId": "AWSAccountIds",
    "ActionName": "Actions",
}


def parse_form(fields: list[tuple[str, str]]) -> tuple[str, dict[str, Any]]:
    """(Action, parameters shaped as the JSON protocol's request) from a query form."""
    tree: dict[str, Any] = {}
    action = ""
    for key, value in fields:
        if key == "Action":
            action = value
            continue
        if key in ("Version", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp"):
            continue
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(_index(part), {})
            if not isinstance(node, dict):
                break
        else:
            node[_index(parts[-1])] = value
    return action, _normalise(tree)


def _index(part: str) -> Any:
    return int(part) if part.isdigit() else part


def _ordered(node: Any) -> list[Any]:
    if not isinstance(node, dict):
        return [node]
    return [node[k] for k in sorted(k for k in node if isinstance(k, int))]


def _normalise(tree: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if not isinstance(key, str):
            continue
        if key in _MAPS:
            name, key_field, value_field = _MAPS[key]
            target = out.setdefault(name, {})
            for entry in _ordered(value):
                if isinstance(entry, dict) and key_field in entry:
                    item = entry.get(value_field, "")
                    target[entry[key_field]] = item
        elif key in _LISTS:
            out[_LISTS[key]] = _ordered(value)
        elif key.endswith("RequestEntry"):
            out["Entries"] = [
                _normalise(entry) if isinstance(entry, dict) else entry for entry in _ordered(value)
            ]
        elif isinstance(value, dict):
            out[key] = _normalise(value)
        else:
            out[key] = value
    return out


def _element(name: str, inner: str) -> str:
    return f"<{name}>{inner}</{name}>"


def _name_values(tag: str, key_field: str, mapping: Mapping[str, Any]) -> str:
    return "".join(
        _element(tag, _element(key_field, text(k)) + _element("Value", text(v)))
        for k, v in mapping.items()
    )


def _message_attributes(attributes: Mapping[str, Mapping[str, str]]) -> str:
    parts = []
    for name, value in attributes.items():
        inner = "".join(_element(k, text(v)) for k, v in value.items() if k != "DataType")
        inner += _element("DataType", text(value["DataType"]))
        parts.append(_element("MessageAttribute", _element("Name", text(name)) + _value(inner)))
    return "".join(parts)


def _value(inner: str) -> str:
    return _element("Value", inner)


def _fields(action: str, result: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, value in result.items():
        if key in ("QueueUrls", "queueUrls"):
            parts.extend(_element("QueueUrl", text(url)) for url in value)
        elif key == "Attributes":
            parts.append(_name_values("Attribute", "Name", value))
        elif key == "Tags":
            parts.append(_name_values("Tag", "Key", value))
        elif key == "MessageAttributes":
            parts.append(_message_attributes(value))
        elif key == "Messages":
            parts.extend(_element("Message", _fields(action, message)) for message in value)
        elif key in ("Successful", "Results"):
            parts.extend(_element(f"{action}ResultEntry", _fields(action, e)) for e in value)
        elif key == "Failed":
            parts.extend(_element("BatchResultErrorEntry", _fields(action, e)) for e in value)
        else:
            parts.append(_element(key, text(value)))
    return "".join(parts)


def render_result(action: str, result: Mapping[str, Any], request_id: str) -> bytes:
    body = _fields(action, result)
    result_element = f"<{action}Result>{body}</{action}Result>" if body else ""
    return (
        f'<?xml version="1.0"?><{action}Response xmlns="{NAMESPACE}">{result_element}'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()


def render_error(code: str, message: str, sender_fault: bool, request_id: str) -> bytes:
    return error_response(
        NAMESPACE,
        code,
        message,
        request_id,
        sender_fault=sender_fault,
        prologue='<?xml version="1.0"?>',
        detail=True,
    )
