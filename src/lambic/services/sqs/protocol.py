"""SQS on the wire: the JSON protocol current SDKs use and the query protocol older ones use.

Data flow: `ServiceRequest` → `parse_request` (operation name + JSON-shaped
parameters, whichever protocol) → `operations.OPERATIONS[name]` → result dict →
`render_result` / `render_error` in the request's protocol.

JSON: `POST /` with `X-Amz-Target: AmazonSQS.SendMessage`, body
`application/x-amz-json-1.0`; errors carry `__type` plus the legacy query code in
`x-amzn-query-error`, as AWS sends them. Query: form-encoded `Action=...`, XML
answers in the 2012-11-05 namespace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from lambic._http_limits import loads_json
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.sqs import _query
from lambic.services.sqs.errors import SqsError

_JSON_TYPE = "application/x-amz-json-1.0"
_XML_TYPE = "text/xml"
_SHAPE_PREFIX = "com.amazonaws.sqs#"


@dataclass(frozen=True)
class ParsedRequest:
    action: str
    params: dict[str, Any]
    json_protocol: bool


def parse_request(request: ServiceRequest) -> ParsedRequest:
    """Decode either protocol into (operation, JSON-shaped parameters)."""
    target = request.headers.get("x-amz-target")
    if target:
        action = target.split(".", 1)[1] if "." in target else target
        try:
            params = loads_json(request.body) if request.body.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise SqsError("SerializationException", "The request body is not valid JSON.") from exc
        if not isinstance(params, dict):
            raise SqsError("SerializationException", "The request body must be a JSON object.")
        return ParsedRequest(action, params, json_protocol=True)
    fields = list(request.query_params)
    if request.method == "POST":
        fields += parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    action, params = _query.parse_form(fields)
    return ParsedRequest(action, params, json_protocol=False)


def is_json(request: ServiceRequest) -> bool:
    return "x-amz-target" in request.headers


def _response(status: int, headers: list[tuple[str, str]], body: bytes) -> ServiceResponse:
    # An explicit Content-Length lets the server send headers and body in one write;
    # a chunked answer costs a delayed-ACK round trip per request on loopback.
    headers.append(("Content-Length", str(len(body))))
    return ServiceResponse(status, headers, body)


def render_result(
    parsed: ParsedRequest, result: Mapping[str, Any], request_id: str
) -> ServiceResponse:
    if parsed.json_protocol:
        return _response(
            200,
            [("Content-Type", _JSON_TYPE), ("x-amzn-RequestId", request_id)],
            json.dumps(result).encode(),
        )
    return _response(
        200,
        [("Content-Type", _XML_TYPE), ("x-amzn-RequestId", request_id)],
        _query.render_result(parsed.action, result, request_id),
    )


def render_error(json_protocol: bool, error: SqsError, request_id: str) -> ServiceResponse:
    fault = "Sender" if error.sender_fault else "Receiver"
    if json_protocol:
        body = {"__type": _SHAPE_PREFIX + error.shape, "message": error.message}
        return _response(
            error.status,
            [
                ("Content-Type", _JSON_TYPE),
                ("x-amzn-RequestId", request_id),
                ("x-amzn-query-error", f"{error.query_code};{fault}"),
            ],
            json.dumps(body).encode(),
        )
    return _response(
        error.status,
        [("Content-Type", _XML_TYPE), ("x-amzn-RequestId", request_id)],
        _query.render_error(error.query_code, error.message, error.sender_fault, request_id),
    )
