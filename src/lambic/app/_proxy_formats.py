"""Converting HTTP API (v2) / Function URL events and responses to and from REST (v1).

The app's HTTP handling works on the REST API (payload 1.0) event shape, as Chalice
does. An HTTP API or Function URL event (payload 2.0) is converted to that shape on
the way in, and the v1 proxy response back to a 2.0 response on the way out:

- v2 headers are already lower-cased and repeated values comma-joined; cookies arrive
  in `cookies` (AWS strips the Cookie header) and are rejoined into `cookie`.
- `queryStringParameters` in v2 comma-joins repeated keys and has decoded `+` wrongly
  in some captures, so the query is re-parsed from `rawQueryString`.
- Set-Cookie response headers go to `cookies`; other repeated headers are comma-joined.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

__all__ = ["is_v2_event", "v1_response_to_v2", "v2_event_to_v1"]

Resolver = Callable[[str], "tuple[str, dict[str, str]] | None"]


def is_v2_event(event: dict[str, Any]) -> bool:
    """Whether an event uses payload format 2.0 (HTTP API, Function URL)."""
    if event.get("version") == "2.0":
        return True
    context = event.get("requestContext")
    return "rawPath" in event or (isinstance(context, dict) and "http" in context)


def _parse_query(raw: str) -> dict[str, list[str]] | None:
    if not raw:
        return None
    from urllib.parse import parse_qsl

    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    return grouped or None


def v2_event_to_v1(
    event: dict[str, Any], resolve: Resolver, known: Container[str]
) -> dict[str, Any]:
    """The REST (v1) view of a payload 2.0 event.

    `known` holds the app's resource paths; `resolve(path)` matches a request path
    against them when the event's route key does not name one.
    """
    context: dict[str, Any] = event.get("requestContext") or {}
    http: dict[str, Any] = context.get("http") or {}
    method = str(http.get("method") or "GET").upper()
    raw_path = str(event.get("rawPath") or http.get("path") or "/")
    path, resource, params = _locate(
        event, raw_path, str(context.get("stage") or ""), resolve, known
    )
    headers: dict[str, str] = dict(event.get("headers") or {})
    cookies = event.get("cookies")
    if cookies and not any(k.lower() == "cookie" for k in headers):
        headers["cookie"] = "; ".join(cookies)
    query = _parse_query(str(event.get("rawQueryString") or ""))
    if query is None and event.get("queryStringParameters"):
        query = {k: v.split(",") for k, v in event["queryStringParameters"].items()}

    v1_context = dict(context)
    v1_context["httpMethod"] = method
    v1_context["resourcePath"] = resource
    v1_context["path"] = raw_path
    identity = dict(v1_context.get("identity") or {})
    identity.setdefault("sourceIp", http.get("sourceIp"))
    identity.setdefault("userAgent", http.get("userAgent"))
    v1_context["identity"] = identity
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None if query is None else {k: v[-1] for k, v in query.items()},
        "multiValueQueryStringParameters": query,
        "pathParameters": params or None,
        "stageVariables": event.get("stageVariables"),
        "requestContext": v1_context,
        "body": event.get("body"),
        "isBase64Encoded": bool(event.get("isBase64Encoded")),
    }


def _locate(
    event: dict[str, Any], raw_path: str, stage: str, resolve: Resolver, known: Container[str]
) -> tuple[str, str, dict[str, str]]:
    """(path without stage, resource path, path parameters) for a 2.0 event."""
    path = raw_path
    if stage and stage != "$default" and (raw_path + "/").startswith(f"/{stage}/"):
        # A named HTTP API stage shows up as a prefix of rawPath.
        path = raw_path[len(stage) + 1 :] or "/"
    route_key = str(event.get("routeKey") or "$default")
    if " " in route_key:
        resource = route_key.split(" ", 1)[1]
        if resource in known:
            # API Gateway already matched this resource; keep its parameters.
            return path, resource, dict(event.get("pathParameters") or {})
    for candidate in (path, raw_path):
        found = resolve(candidate)
        if found is not None:
            return candidate, found[0], found[1]
    # No route of this app matches: keep the route key so the app answers as for any
    # undeclared resource.
    resource = route_key.split(" ", 1)[1] if " " in route_key else route_key
    return path, resource, dict(event.get("pathParameters") or {})


def v1_response_to_v2(response: dict[str, Any]) -> dict[str, Any]:
    """A payload 2.0 response from a v1 proxy response (cookies, joined headers)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in (response.get("headers") or {}).items():
        if name.lower() == "set-cookie":
            cookies.append(value)
        else:
            headers[name] = value
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if name.lower() == "set-cookie":
            cookies.extend(values)
            continue
        joined = ",".join(str(v) for v in values)
        headers[name] = f"{headers[name]},{joined}" if name in headers else joined
    converted: dict[str, Any] = {
        "statusCode": response["statusCode"],
        "headers": headers,
        "body": response.get("body"),
        "isBase64Encoded": bool(response.get("isBase64Encoded", False)),
    }
    if cookies:
        converted["cookies"] = cookies
    return converted
