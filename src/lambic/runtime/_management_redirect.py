"""In an execution environment of `lambic local`: @connections calls for the local API stay local.

Chalice's `app.websocket_api` (the real `chalice` package, which Lambic reads as it is)
builds its `apigatewaymanagementapi` client with an explicit endpoint:
`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}` inside a WebSocket handler
(`configure_from_api_id`, from the event), `https://{domainName}/{stage}` after
`configure(domain_name, stage)` in any other handler. An explicit endpoint wins over
`AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`, so those calls would leave for AWS (with
local credentials) although the connection is local.

`install(environ)` registers a `before-sign` handler for this one service on every
botocore session of the process (the ones that exist and, through botocore's built-in
handler list, every one created later). A request whose host is the local API's
(`{api id}.execute-api.*`, the id `lambic local` puts in its events) or the local
@connections address over https (the events' `domainName`) goes to the local endpoint
instead, over plain HTTP. Rewritten before signing, so the signature names the host the
request reaches. Any other host (another API, on AWS) is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["API_ID_VARIABLE", "ENDPOINT_VARIABLE", "install", "local_url"]

#: botocore's service-specific endpoint variable: the local @connections endpoint.
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"
#: The local WebSocket API's id, as its events' `requestContext.apiId` carry it.
API_ID_VARIABLE = "LAMBIC_WEBSOCKET_API_ID"

_EVENT = "before-sign.apigatewaymanagementapi"


def local_url(url: str, *, api_id: str, local_netloc: str) -> str | None:
    """`url` sent to the local @connections endpoint, or None if it names another API.

    >>> local_url("https://abc.execute-api.us-east-1.amazonaws.com/api/@connections/x",
    ...           api_id="abc", local_netloc="127.0.0.1:8001")
    'http://127.0.0.1:8001/api/@connections/x'
    >>> local_url("https://127.0.0.1:8001/api/@connections/x",
    ...           api_id="abc", local_netloc="127.0.0.1:8001")
    'http://127.0.0.1:8001/api/@connections/x'
    >>> local_url("https://zzz.execute-api.us-east-1.amazonaws.com/api/@connections/x",
    ...           api_id="abc", local_netloc="127.0.0.1:8001") is None
    True
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    ours = host.startswith(f"{api_id.lower()}.execute-api.") or (
        parts.scheme == "https" and parts.netloc.lower() == local_netloc.lower()
    )
    if not ours:
        return None
    return urlunsplit(("http", local_netloc, parts.path, parts.query, parts.fragment))


def install(environ: Mapping[str, str]) -> bool:
    """Redirect this process's calls for the local API; False when there is none."""
    endpoint = environ.get(ENDPOINT_VARIABLE)
    api_id = environ.get(API_ID_VARIABLE)
    if not endpoint or not api_id:
        return False
    local_netloc = urlsplit(endpoint).netloc
    if not local_netloc:
        return False
    try:
        import boto3
        from botocore import handlers
    except ImportError:  # no boto3 in this environment: nothing can call the API
        return False

    def redirect(request: Any, **_: Any) -> None:
        url = local_url(request.url, api_id=api_id, local_netloc=local_netloc)
        if url is not None:
            request.url = url

    handlers.BUILTIN_HANDLERS.append((_EVENT, redirect))
    default = boto3.DEFAULT_SESSION  # made before us (the zygote warms boto3 with it)
    if default is not None:
        default._session.register(_EVENT, redirect)
    return True
