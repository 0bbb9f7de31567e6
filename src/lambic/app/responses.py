"""What a view returns, serialised to an API Gateway proxy response as Chalice does.

A view may return a `Response`, or any JSON-serialisable value (dict, list, str...)
which becomes a 200 with that body. Header values that are lists are sent as repeated
headers (API Gateway's `multiValueHeaders`), e.g. two cookies:

    return Response(body={"ok": True}, status_code=201,
                    headers={"Set-Cookie": ["a=1", "b=2"], "Location": "/items/7"})
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "HeadersType",
    "Response",
    "error_response",
    "handle_extra_types",
    "matches_cached",
    "matches_content_type",
]

HeadersType = dict[str, str | list[str]]

_SPLIT_MEDIA = re.compile("[,;]")


def handle_extra_types(obj: Any) -> Any:
    """`json.dumps`'s `default=` for response bodies (Chalice's public name)."""
    # Lambda serialises Decimal (e.g. from DynamoDB) as a number; Chalice mirrors it.
    from decimal import Decimal

    from lambic.app._mappings import MultiDict

    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, MultiDict):
        # Chalice keeps the last value for every key when serialising a MultiDict.
        return dict(obj)
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


# Same output as json.dumps(body, separators=(",", ":"), default=...), without the
# per-call encoder construction.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=handle_extra_types)


def matches_content_type(content_type: str, valid_content_types: Iterable[str]) -> bool:
    """Chalice's media-type test: '*/*' on either side matches; else a shared type.

    `content_type` may be a full header value ("text/html; charset=utf-8" or an Accept
    list "image/png, */*;q=0.8").
    """
    content_type = content_type.lower()
    valid = {v.lower() for v in valid_content_types}
    if "*/*" in content_type or "*/*" in valid:
        return True
    if content_type in valid:
        return True
    parts = {p.strip() for p in _SPLIT_MEDIA.split(content_type)}
    return not valid.isdisjoint(parts)


_MATCH_CACHE: dict[tuple[str, ...], dict[str, bool]] = {}


def matches_cached(content_type: str, valid_content_types: tuple[str, ...]) -> bool:
    """`matches_content_type` memoised per (type list, header value); the hot path."""
    per_types = _MATCH_CACHE.get(valid_content_types)
    if per_types is None:
        if len(_MATCH_CACHE) > 64:
            _MATCH_CACHE.clear()
        per_types = _MATCH_CACHE[valid_content_types] = {}
    result = per_types.get(content_type)
    if result is None:
        result = matches_content_type(content_type, valid_content_types)
        if len(per_types) < 1024:
            per_types[content_type] = result
    return result


class Response:
    """An HTTP response: body, status code and headers (a list value repeats a header)."""

    __slots__ = ("body", "headers", "status_code")

    def __init__(
        self,
        body: Any,
        headers: HeadersType | None = None,
        status_code: int = 200,
    ) -> None:
        self.body = body
        self.headers: HeadersType = {} if headers is None else headers
        self.status_code = status_code

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        """The API Gateway REST (v1) proxy response for this response.

        With `binary_types`, a body whose Content-Type is binary is base64-encoded and
        flagged `isBase64Encoded`, as Chalice does.
        """
        body = self.body
        if not isinstance(body, (str, bytes)):
            body = _ENCODER.encode(body)
        single: dict[str, Any] = {}
        multi: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            if isinstance(value, list):
                multi[name] = value
            else:
                single[name] = value
        response: dict[str, Any] = {
            "headers": single,
            "multiValueHeaders": multi,
            "statusCode": self.status_code,
            "body": body,
        }
        if binary_types is not None:
            _b64encode_body_if_needed(response, binary_types)
        return response

    def __repr__(self) -> str:
        return f"Response(status_code={self.status_code}, headers={self.headers!r})"


def header_value(headers: dict[str, Any], name: str, default: Any = None) -> Any:
    """Case-insensitive lookup in a plain header dict (responses are small)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return default


def _b64encode_body_if_needed(response: dict[str, Any], binary_types: list[str]) -> None:
    headers = response["headers"]
    content_type = header_value(headers, "content-type", "") if headers else ""
    if not binary_types or not matches_cached(content_type, tuple(binary_types)):
        return
    body = response["body"]
    if not content_type or matches_cached(content_type, ("application/json",)):
        # A body serialised from a Python value is JSON text; when application/json
        # (or no type) is configured as binary, Chalice encodes that text to bytes.
        body = body if isinstance(body, bytes) else body.encode("utf-8")
    if not isinstance(body, bytes):
        raise ValueError(
            "Expected bytes type for body with binary Content-Type. "
            f"Got {type(body)} type body instead."
        )
    import base64

    response["body"] = base64.b64encode(body).decode("ascii")
    response["isBase64Encoded"] = True


def error_response(
    message: str, error_code: str, http_status_code: int, headers: HeadersType | None = None
) -> Response:
    """A Chalice error body: {"Code": error_code, "Message": message}."""
    return Response(
        body={"Code": error_code, "Message": message},
        status_code=http_status_code,
        headers=headers,
    )
