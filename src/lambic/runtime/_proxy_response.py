"""Turn a Lambda proxy response (payload 1.0) into status, headers and body, as API Gateway.

API Gateway REST APIs accept a JSON object with `statusCode`, `headers`,
`multiValueHeaders`, `body` and `isBase64Encoded`. Anything else is a "Malformed Lambda
proxy response" and the client gets 502 `{"message": "Internal server error"}`; a
base64 body that does not decode is an API configuration error (500). We mirror both:

- `statusCode`: an integer, or a string of digits (API Gateway parses it), 100-599;
- `headers`: an object of scalar values; `multiValueHeaders`: an object of lists of
  scalars. Both may be null. API Gateway merges them; a name present in both keeps
  only the `multiValueHeaders` values;
- `body`: a string or null (an object here is the classic "forgot json.dumps" error);
- `isBase64Encoded`: a boolean or absent.

Framing headers a function returns (`Content-Length`, `Connection`, `Date`, `Server`,
`Transfer-Encoding`) are API Gateway's own: it renames the function's copies to
`x-amzn-Remapped-<name>`; we do the same, so a function cannot break HTTP framing.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["MalformedProxyResponseError", "ProxyResponse", "parse_proxy_response"]

_REMAPPED = frozenset({"connection", "content-length", "date", "server", "transfer-encoding"})


class MalformedProxyResponseError(Exception):
    """The function's result is not a proxy response API Gateway accepts.

    `status` is what API Gateway answers: 502 for a malformed response, 500 for a
    base64 body that does not decode.
    """

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ProxyResponse:
    """A validated proxy response: header pairs in order, body as bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    has_content_type: bool


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise MalformedProxyResponseError(f"{where} must be a string, got {type(value).__name__}")


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise MalformedProxyResponseError("statusCode must be an integer, got a boolean")
    if isinstance(value, int):
        status = value
    elif isinstance(value, str) and value.isdigit():
        status = int(value)
    else:
        raise MalformedProxyResponseError(f"statusCode must be an integer, got {value!r}")
    if not 100 <= status <= 599:
        raise MalformedProxyResponseError(f"statusCode {status} is not an HTTP status")
    return status


def _header_pairs(single: Any, multi: Any) -> list[tuple[str, str]]:
    if single is not None and not isinstance(single, dict):
        raise MalformedProxyResponseError("headers must be an object")
    if multi is not None and not isinstance(multi, dict):
        raise MalformedProxyResponseError("multiValueHeaders must be an object")
    pairs: list[tuple[str, str]] = []
    if single:
        for name, value in single.items():
            if multi and name in multi:
                continue
            pairs.append((name, _scalar(value, f"headers.{name}")))
    if multi:
        for name, values in multi.items():
            if not isinstance(values, list):
                raise MalformedProxyResponseError(f"multiValueHeaders.{name} must be a list")
            for value in values:
                pairs.append((name, _scalar(value, f"multiValueHeaders.{name}")))
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise MalformedProxyResponseError(f"header {name!r} contains a line break")
        if name.lower() in _REMAPPED:
            name = f"x-amzn-Remapped-{name}"
        out.append((name, value))
    return out


def parse_proxy_response(payload: bytes, *, decode_base64: bool) -> ProxyResponse:
    """Validate a function's result as API Gateway does and return what to send.

    `decode_base64` says whether the request's Accept header names a binary media
    type: only then does API Gateway turn an `isBase64Encoded` body back into bytes;
    otherwise the client receives the base64 text, as on AWS.
    """
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        # orjson refuses what Python's json module accepts (NaN, huge integers);
        # the runtime wrote this payload with the json module, so ask it too.
        try:
            doc = json.loads(payload)
        except ValueError as exc:
            raise MalformedProxyResponseError("the result is not JSON") from exc
    if not isinstance(doc, dict):
        raise MalformedProxyResponseError(f"the result is a JSON {type(doc).__name__}")
    status = _status(doc.get("statusCode"))
    headers = _header_pairs(doc.get("headers"), doc.get("multiValueHeaders"))
    body = doc.get("body")
    is_base64 = doc.get("isBase64Encoded", False)
    if not isinstance(is_base64, bool):
        raise MalformedProxyResponseError("isBase64Encoded must be a boolean")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise MalformedProxyResponseError(
            f"body must be a string, got {type(body).__name__}; serialise it with json.dumps"
        )
    elif is_base64 and decode_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedProxyResponseError("body is not valid base64", status=500) from exc
    else:
        raw = body.encode("utf-8")
    has_content_type = any(name.lower() == "content-type" for name, _ in headers)
    return ProxyResponse(status, headers, raw, has_content_type)
