"""REQUEST Lambda authorizers: identity sources, the cache key, the REQUEST event.

A REQUEST authorizer (a `CustomAuthorizer` whose `to_swagger()` says
`"type": "request"`, naming a function of this app) gets the request itself rather
than one header: API Gateway's REQUEST event, the REST proxy event's fields without
the body, plus `type` and `methodArn`. Its identity sources
(`method.request.header.NAME`, `method.request.querystring.NAME`) are the cache key:
with caching on (a TTL above 0) every source must be present and non-empty, else 401
with no call; with caching off they are not required and every request calls it.

Stage variables and `$context` sources are refused at start-up: the local API has
neither, so the authorizer could never be reached with its cache on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from lambic.app.proxy_events import create_rest_event

__all__ = ["IdentitySource", "identity_values", "parse_identity_sources", "request_event"]

#: ("header" | "query", name)
IdentitySource = tuple[str, str]

_PREFIXES = (("method.request.header.", "header"), ("method.request.querystring.", "query"))


def parse_identity_sources(sources: str | Iterable[str]) -> tuple[IdentitySource, ...]:
    """`identitySource` ("method.request.header.Auth, method.request.querystring.t", or
    a list of them) as (kind, name) pairs; ValueError names one Lambic cannot supply.

    >>> parse_identity_sources("method.request.header.Auth, method.request.querystring.t")
    (('header', 'Auth'), ('query', 't'))
    """
    items = sources.split(",") if isinstance(sources, str) else list(sources)
    parsed: list[IdentitySource] = []
    for item in items:
        text = item.strip()
        for prefix, kind in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                parsed.append((kind, text[len(prefix) :]))
                break
        else:
            raise ValueError(
                f"identity source {text!r} cannot be supplied locally; use "
                "method.request.header.NAME or method.request.querystring.NAME"
            )
    return tuple(parsed)


def identity_values(
    sources: Iterable[IdentitySource], headers: Iterable[tuple[str, str]], query_string: str
) -> list[str | None]:
    """Each source's value in the request (the last of repeated ones), None if absent."""
    query: dict[str, str] | None = None
    values: list[str | None] = []
    for kind, name in sources:
        if kind == "header":
            lowered = name.lower()
            found = None
            for key, value in headers:
                if key.lower() == lowered:
                    found = value
            values.append(found)
        else:
            if query is None:
                query = dict(parse_qsl(query_string, keep_blank_values=True))
            values.append(query.get(name))
    return values


def request_event(
    *,
    method: str,
    path: str,
    resource_path: str,
    path_params: Mapping[str, str] | None,
    headers: Iterable[tuple[str, str]],
    query_string: str,
    source_ip: str,
    method_arn: str,
    stage: str,
    api_id: str,
    account_id: str,
) -> dict[str, Any]:
    """API Gateway's REQUEST authorizer event for one request."""
    event = create_rest_event(
        method=method,
        path=path,
        resource_path=resource_path,
        path_params=path_params,
        query=parse_qsl(query_string, keep_blank_values=True) if query_string else [],
        headers=list(headers),
        body=b"",
        binary_types=(),
        stage=stage,
        source_ip=source_ip,
        api_id=api_id,
        account_id=account_id,
    )
    del event["body"], event["isBase64Encoded"]
    return {"type": "REQUEST", "methodArn": method_arn, **event}
