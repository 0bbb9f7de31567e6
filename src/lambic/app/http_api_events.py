"""Build API Gateway HTTP API (payload format 2.0) events, as API Gateway sends them.

The app converts a 2.0 event to the REST (v1) shape on the way in
(`lambic.app._proxy_formats`); this module builds the 2.0 event itself, for
`lambic generate-event apigateway-http` and `EventGenerator.http_api`:

- headers lower-cased, a repeated header's values joined with commas; the Cookie
  header becomes the `cookies` list;
- `rawQueryString` as sent, `queryStringParameters` with a repeated key's values
  joined with commas (absent with no query);
- `rawPath` with the stage in front for a named stage (not for `$default`);
- the body as text for text media types, base64 otherwise (`isBase64Encoded`);
- absent, not null: `body`, `cookies`, `queryStringParameters`, `pathParameters`,
  `stageVariables` when there is nothing to put there.

    >>> e = create_http_api_event(method="get", path="/users/42", query=[("a", "1"),
    ...     ("a", "2")], headers=[("Accept", "*/*")], body=b"", stage="$default")
    >>> e["rawQueryString"], e["queryStringParameters"], e["requestContext"]["http"]["method"]
    ('a=1&a=2', {'a': '1,2'}, 'GET')
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from lambic.app.proxy_events import LOCAL_API_ID, SAMPLE_ACCOUNT_ID, format_request_time

__all__ = ["DEFAULT_STAGE", "create_http_api_event", "is_text_media_type"]

#: An HTTP API's default stage: served at the root, not named in the path.
DEFAULT_STAGE = "$default"

_TEXT_SUBTYPES = ("json", "xml", "javascript", "yaml", "x-www-form-urlencoded")


def is_text_media_type(content_type: str | None) -> bool:
    """Whether a request body of this Content-Type reaches the function as text.

    Text: no Content-Type, `text/*`, and JSON, XML, JavaScript, YAML and form media
    types (also as `+json`-style suffixes); anything else is base64-encoded.
    """
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "text" or any(sub == t or sub.endswith("+" + t) for t in _TEXT_SUBTYPES)


def _joined(pairs: Sequence[tuple[str, str]], *, lower: bool) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def create_http_api_event(
    *,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    body: bytes,
    stage: str = DEFAULT_STAGE,
    route_key: str | None = None,
    path_params: Mapping[str, str] | None = None,
    stage_vars: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    request_time_epoch_ms: int | None = None,
    api_id: str = LOCAL_API_ID,
    account_id: str = SAMPLE_ACCOUNT_ID,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """The payload 2.0 event for one request to `path` (without the stage).

    `route_key` defaults to the route a request to exactly this path would match,
    "GET /users/42"; pass "$default" (or the route with `{params}` and `path_params`)
    to name another.
    """
    method = method.upper()
    epoch_ms = int(time.time() * 1000) if request_time_epoch_ms is None else request_time_epoch_ms
    if request_id is None:
        import uuid  # deferred: only event builders need it

        request_id = str(uuid.uuid4())
    cookies: list[str] = []
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            kept.append((name, value))
    single_headers = _joined(kept, lower=True)
    domain_name = f"{api_id}.execute-api.{region}.amazonaws.com"
    raw_path = path if stage == DEFAULT_STAGE else f"/{stage}{path}"
    raw_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key if route_key is not None else f"{method} {path}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = single_headers
    if query:
        event["queryStringParameters"] = _joined(list(query), lower=False)
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": api_id,
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": single_headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": event["routeKey"],
        "stage": stage,
        "time": format_request_time(epoch_ms),
        "timeEpoch": epoch_ms,
    }
    if body:
        if is_text_media_type(single_headers.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if path_params:
        event["pathParameters"] = dict(path_params)
    if stage_vars:
        event["stageVariables"] = dict(stage_vars)
    return event
