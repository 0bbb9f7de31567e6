"""SNS on the wire: the query protocol (form POST or GET with `Action=`), XML answers.

SNS's query members are not flattened: maps are `Attributes.entry.N.key`/`.value`
(`MessageAttributes.entry.N.Name`/`.Value.DataType`), lists are `X.member.N`. We turn
the form into nested parameters shaped like the API's members, run the operation, and
render its result dict: lists as `<member>`s, attribute maps as `<entry><key/>
<value/></entry>`, in the 2010-03-31 namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambic.services._query_xml import error_response, text

NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
_SKIP = frozenset({"Action", "Version", "Signature", "SignatureMethod", "SignatureVersion"})


def parse_form(fields: list[tuple[str, str]]) -> tuple[str, dict[str, Any]]:
    """(Action, nested parameters) from SNS's query form."""
    action = ""
    tree: dict[Any, Any] = {}
    for key, value in fields:
        if key == "Action":
            action = value
        if key in _SKIP:
            continue
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(int(part) if part.isdigit() else part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            last = parts[-1]
            node[int(last) if last.isdigit() else last] = value
    return action, _normalise(tree)


def _ordered(node: Mapping[Any, Any]) -> list[Any]:
    return [node[k] for k in sorted(k for k in node if isinstance(k, int))]


def _normalise(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == {"entry"} and isinstance(node["entry"], dict):
        out: dict[str, Any] = {}
        for entry in _ordered(node["entry"]):
            if not isinstance(entry, dict):
                continue
            key = entry.get("key", entry.get("Name"))
            value = entry.get("value", entry.get("Value"))
            if key is not None:
                out[str(key)] = _normalise(value)
        return out
    if set(node) == {"member"} and isinstance(node["member"], dict):
        return [_normalise(member) for member in _ordered(node["member"])]
    return {k: _normalise(v) for k, v in node.items() if isinstance(k, str)}


def _render(key: str, value: Any) -> str:
    if isinstance(value, list):
        members = "".join(f"<member>{_render_fields(v)}</member>" for v in value)
        return f"<{key}>{members}</{key}>"
    if isinstance(value, dict) and key == "Attributes":
        entries = "".join(
            f"<entry><key>{text(k)}</key><value>{text(v)}</value></entry>" for k, v in value.items()
        )
        return f"<{key}>{entries}</{key}>"
    if isinstance(value, dict):
        return f"<{key}>{_render_fields(value)}</{key}>"
    return f"<{key}>{text(value)}</{key}>"


def _render_fields(value: Any) -> str:
    if isinstance(value, dict):
        return "".join(_render(k, v) for k, v in value.items())
    return text(value)


def render_result(action: str, result: Mapping[str, Any], request_id: str) -> bytes:
    body = _render_fields(dict(result))
    return (
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{body}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()


def render_empty(action: str, request_id: str) -> bytes:
    return (
        f'<{action}Response xmlns="{NAMESPACE}"><ResponseMetadata><RequestId>{request_id}'
        f"</RequestId></ResponseMetadata></{action}Response>"
    ).encode()


def render_error(code: str, message: str, sender_fault: bool, request_id: str) -> bytes:
    return error_response(NAMESPACE, code, message, request_id, sender_fault=sender_fault)
