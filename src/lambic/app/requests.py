"""The request a view sees as `app.current_request` (Chalice's Request).

It is built from an API Gateway REST (v1) proxy event; HTTP API (v2) and Function URL
events are first converted to that shape by `lambic.app._proxy_formats`, and
`to_original_event()` still gives the event as it arrived.

    @app.route("/users/{id}", methods=["PUT"])
    def put_user(id):
        req = app.current_request
        req.headers["content-type"], req.query_params.get("dry"), req.json_body
"""

from __future__ import annotations

import json
from typing import Any

from lambic.app._mappings import CaseInsensitiveMapping, MultiDict
from lambic.app.errors import BadRequestError

__all__ = ["Request"]

_DECODER = json.JSONDecoder()


def _decode_base64(text: str | bytes) -> bytes:
    import base64
    import binascii

    data = text if isinstance(text, bytes) else text.encode("ascii", errors="replace")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        # AWS always sends valid base64 when isBase64Encoded is true; hand-written events
        # sometimes set the flag on plain text, so the text is taken as it is.
        return data


class Request:
    """The current HTTP request: method, path, params, headers and body.

    `path` is the matched resource path ("/users/{id}"), as in Chalice.
    """

    __slots__ = (
        "_body",
        "_event_dict",
        "_headers",
        "_is_base64_encoded",
        "_json_body",
        "_original_event",
        "_raw_body",
        "context",
        "lambda_context",
        "method",
        "path",
        "payload_version",
        "query_params",
        "stage_vars",
        "uri_params",
    )

    def __init__(
        self,
        event_dict: dict[str, Any],
        lambda_context: Any = None,
        original_event: dict[str, Any] | None = None,
    ) -> None:
        query = event_dict.get("multiValueQueryStringParameters")
        if query is None and event_dict.get("queryStringParameters"):
            # Events from before 2018 carry only the single-value map.
            query = {k: [v] for k, v in event_dict["queryStringParameters"].items()}
        self.query_params: MultiDict | None = None if query is None else MultiDict(query)
        self._headers: CaseInsensitiveMapping | None = None
        self.uri_params: dict[str, str] | None = event_dict.get("pathParameters")
        context: dict[str, Any] = event_dict.get("requestContext") or {}
        self.context = context
        self.method: str = context.get("httpMethod") or event_dict.get("httpMethod", "")
        self._is_base64_encoded: bool = bool(event_dict.get("isBase64Encoded"))
        self._body: Any = event_dict.get("body")
        self._json_body: Any = None
        self._raw_body: bytes = b""
        self.stage_vars: dict[str, str] | None = event_dict.get("stageVariables")
        self.path: str = context.get("resourcePath") or event_dict.get("resource", "")
        self.lambda_context = lambda_context
        self._event_dict = event_dict
        self._original_event = event_dict if original_event is None else original_event
        #: "1.0" (REST API) or "2.0" (HTTP API, Function URL): the event's payload format.
        self.payload_version = "1.0" if original_event is None else "2.0"

    @property
    def headers(self) -> CaseInsensitiveMapping:
        """Request headers; names match whatever their case."""
        headers = self._headers
        if headers is None:
            source = self._event_dict.get("headers")
            if source is None:
                multi = self._event_dict.get("multiValueHeaders")
                if multi:
                    source = {k: v[-1] for k, v in multi.items() if v}
            headers = self._headers = CaseInsensitiveMapping(source)
        return headers

    @property
    def raw_body(self) -> bytes:
        """The body as bytes (base64-decoded when the event says it is encoded)."""
        if not self._raw_body and self._body is not None:
            body = self._body
            if self._is_base64_encoded:
                self._raw_body = _decode_base64(body)
            elif isinstance(body, bytes):
                self._raw_body = body
            else:
                self._raw_body = body.encode("utf-8")
        return self._raw_body

    @property
    def json_body(self) -> Any:
        """The parsed JSON body when Content-Type is application/json, else None.

        Bad JSON raises BadRequestError("Error Parsing JSON"), a 400, as in Chalice.
        """
        content_type = self.headers.get("content-type", "")
        if not content_type.startswith("application/json"):
            return None
        if self._json_body is None:
            body = self._body
            try:
                if isinstance(body, str) and not self._is_base64_encoded:
                    # Text bodies skip the bytes round trip and encoding detection.
                    self._json_body = _DECODER.decode(body)
                else:
                    self._json_body = json.loads(self.raw_body)
            except ValueError:
                raise BadRequestError("Error Parsing JSON") from None
        return self._json_body

    def to_dict(self) -> dict[str, Any]:
        """The request's public attributes as JSON-serialisable data (as Chalice's)."""
        return {
            "query_params": None if self.query_params is None else dict(self.query_params),
            "headers": dict(self.headers),
            "uri_params": self.uri_params,
            "method": self.method,
            "context": self.context,
            "stage_vars": self.stage_vars,
            "path": self.path,
        }

    def to_original_event(self) -> dict[str, Any]:
        """The Lambda event exactly as it arrived (v1, v2 or Function URL)."""
        return self._original_event
