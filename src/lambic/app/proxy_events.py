"""Build API Gateway REST (v1) proxy events exactly as API Gateway does.

The local gateway and the test client both turn an HTTP request into the event a
Lambda function behind an API Gateway REST API receives; they call
`create_rest_event` so the two can never drift.

    >>> event = create_rest_event(
    ...     method="GET", path="/users/42", resource_path="/users/{id}",
    ...     path_params={"id": "42"}, query=[("a", "1"), ("a", "2")],
    ...     headers=[("Accept", "*/*")], body=b"", binary_types=[], stage="api")
    >>> event["queryStringParameters"], event["multiValueQueryStringParameters"]
    ({'a': '2'}, {'a': ['1', '2']})
"""

from __future__ import annotations

import base64
import functools
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "LOCAL_API_ID",
    "SAMPLE_ACCOUNT_ID",
    "create_rest_event",
    "format_request_time",
    "is_binary_media_type",
]

#: The account id of AWS's sample events and of Chalice's test client: events built
#: without an account (the test client's) carry it. `lambic local` passes its own
#: account (`lambic.project.account.LOCAL_ACCOUNT_ID`) explicitly.
SAMPLE_ACCOUNT_ID = "123456789012"
#: The API id the local gateway reports, as a deployed API would report its own.
LOCAL_API_ID = "lambiclocal"

# AWS formats requestTime with English month names whatever the host locale is;
# strftime("%b") would follow the locale, so the names are spelled out.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# The last second formatted: at gateway rates most requests share their second.
_last_request_time: tuple[int, str] = (-1, "")


def format_request_time(epoch_ms: int) -> str:
    """Return API Gateway's `requestTime` ("25/Nov/2026:09:05:28 +0000") for epoch ms."""
    global _last_request_time
    second = epoch_ms // 1000
    cached = _last_request_time
    if cached[0] == second:
        return cached[1]
    t = time.gmtime(second)
    text = (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )
    _last_request_time = (second, text)
    return text


def is_binary_media_type(content_type: str | None, binary_types: Iterable[str]) -> bool:
    """Whether API Gateway treats a Content-Type as binary under `binaryMediaTypes`.

    API Gateway compares the media type (parameters such as `; charset=` ignored,
    case-insensitively) with each entry, where an entry may use a `*` wildcard
    (`image/*`, `*/*`).
    """
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if not media:
        return False
    main, _, sub = media.partition("/")
    for pattern in binary_types:
        wanted = pattern.strip().lower()
        if wanted == media or wanted == "*/*":
            return True
        w_main, _, w_sub = wanted.partition("/")
        if (w_main in ("*", main)) and (w_sub in ("*", sub)):
            return True
    return False


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        values = grouped.get(name)
        if values is None:
            grouped[name] = [value]
        else:
            values.append(value)
    return grouped


def _identity(source_ip: str, user_agent: str | None) -> dict[str, Any]:
    # The key set API Gateway sends for an unauthenticated caller; absent values are null.
    return {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": source_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": user_agent,
        "user": None,
    }


def create_rest_event(
    *,
    method: str,
    path: str,
    resource_path: str,
    path_params: Mapping[str, str] | None,
    query: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    body: bytes,
    binary_types: Iterable[str],
    stage: str,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    request_time_epoch_ms: int | None = None,
    stage_vars: Mapping[str, str] | None = None,
    api_id: str = LOCAL_API_ID,
    account_id: str = SAMPLE_ACCOUNT_ID,
    domain_name: str | None = None,
) -> dict[str, Any]:
    """Return the API Gateway REST API (payload 1.0) proxy event for one request.

    `path` is the request path without the stage (as API Gateway's `path` field),
    `query` the decoded query pairs in request order, `headers` the header pairs in
    request order. API Gateway puts the LAST value of a repeated header or query key
    in the single-value maps and all values in the `multiValue*` maps; empty maps are
    null. The body is base64-encoded when the request's Content-Type is one of the
    API's binary media types.
    """
    method = method.upper()
    epoch_ms = int(time.time() * 1000) if request_time_epoch_ms is None else request_time_epoch_ms
    if request_id is None:
        import uuid  # deferred: only event builders need it, not every cold start

        request_id = str(uuid.uuid4())
    multi_headers = _group(headers)
    multi_query = _group(query)
    single_headers = {name: values[-1] for name, values in multi_headers.items()}
    content_type = None
    user_agent = None
    for name, value in single_headers.items():
        lowered = name.lower()
        if lowered == "content-type":
            content_type = value
        elif lowered == "user-agent":
            user_agent = value
    if domain_name is None:
        domain_name = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    event_body: str | None
    is_base64 = False
    if not body:
        event_body = None
    elif is_binary_media_type(content_type, binary_types):
        event_body = base64.b64encode(body).decode("ascii")
        is_base64 = True
    else:
        # API Gateway passes non-binary payloads as text; undecodable bytes become U+FFFD.
        event_body = body.decode("utf-8", errors="replace")
    return {
        "resource": resource_path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_params) if path_params else None,
        "stageVariables": dict(stage_vars) if stage_vars else None,
        "requestContext": {
            "resourceId": _resource_id(resource_path),
            "resourcePath": resource_path,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": format_request_time(epoch_ms),
            "path": f"/{stage}{path}",
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": domain_name.split(".", 1)[0],
            "requestTimeEpoch": epoch_ms,
            "requestId": request_id,
            "identity": _identity(source_ip, user_agent),
            "domainName": domain_name,
            "apiId": api_id,
        },
        "body": event_body,
        "isBase64Encoded": is_base64,
    }


@functools.lru_cache(maxsize=1024)
def _resource_id(resource_path: str) -> str:
    # API Gateway resource ids are short stable tokens per resource; derive one from the
    # path so the same resource always reports the same id.
    return format(zlib.crc32(resource_path.encode("utf-8")) & 0xFFFFFFFF, "08x")[:6]
