"""The services' edge on Lambic's HTTP/1.1 core: parsed requests straight into `EdgeApp`.

`lambic._http_core` (the server the gateway runs on too) reads the sockets; this module
is the edge's side of it (`EdgeSite`): every AWS call is one small request and one small
response, so a parsed request becomes a `ServiceRequest` directly (no ASGI messages),
and the status line, headers and body leave in one write.

Per connection, requests are answered in order (pipelining), one at a time; an SQS long
poll on one connection never holds up another, and is cancelled if its client leaves.
`Expect: 100-continue` is answered as soon as the headers are in (botocore waits for it
before sending a PutObject body), unless the request is refused whatever its body (an
unsigned upload to a private bucket, a SigV2 request with a bad date): that answer goes
out instead and the body is never read (`EdgeApp.refuse_at_head`).

Limits and read timeouts are the core's (`lambic._http_limits`); refusals are drawn in
the addressed service's error shape (`_edge_refusals`). A body declared over 1 MiB for
a service that takes files (S3's uploads) is written to a file in that service's spool
directory as it arrives, never held in memory, and the service renames the finished
file into place; whatever it leaves is removed once the request is answered or the
client goes away.
"""

from __future__ import annotations

from typing import Any

from lambic._http_core import HttpConnection, HttpServer, new_event_loop
from lambic._http_limits import (
    S3_MAX_UPLOAD_BYTES,
    SERVICES_LIMITS,
    SERVICES_MAX_BODY_BYTES,
    SPOOL_THRESHOLD_BYTES,
    EdgeLimits,
)
from lambic._http_site import (
    HEAD_TOO_LARGE,
    MALFORMED,
    REASONS,
    TIMED_OUT_BODY,
    UPGRADE,
    Exchange,
    date_line,
)
from lambic.services._edge_refusals import (
    Refusal,
    body_timed_out,
    body_too_large,
    head_too_large,
    render_refusal,
)
from lambic.services._spool import BodySpool
from lambic.services.base import Headers, ServiceRequest, ServiceResponse
from lambic.services.edge import EdgeApp, error_protocol, route_service

__all__ = ["EdgeSite", "edge_http_server", "new_event_loop"]

_NO_BODY_STATUSES = frozenset({204, 304})
_CHUNKED = b"transfer-encoding: chunked\r\n"


class _EdgeExchange(Exchange):
    """One request for the services: dispatched, answered, its spooled body removed."""

    __slots__ = ("app", "connection", "refusal", "request", "response")

    def __init__(
        self,
        app: EdgeApp,
        connection: HttpConnection,
        request: ServiceRequest,
        keep_alive: bool,
        refusal: Refusal | None = None,
        *,
        response: ServiceResponse | None = None,
    ) -> None:
        self.keep_alive = keep_alive
        self.app = app
        self.connection = connection
        self.request = request
        self.refusal = refusal  # over the body limit: answered without dispatching
        self.response = response  # refused at the head: answered as is

    async def run(self) -> None:
        request = self.request
        try:
            if self.response is not None:
                response = self.response
            elif self.refusal is not None:
                service = route_service(request)
                protocol = error_protocol(service, request)
                response = render_refusal(self.refusal, service, protocol)
            else:
                body_file = request.body_file
                try:
                    response = await self.app.dispatch(request)
                except Exception:
                    response = ServiceResponse(
                        500, [("Content-Type", "text/plain")], b"Internal error"
                    )
                finally:
                    # Kept (renamed away) or not, a spooled body goes before the answer.
                    if body_file is not None:
                        body_file.discard()
            await _write(self.connection, request.method, response, self.keep_alive)
        except BaseException:
            self.keep_alive = False  # cut off mid-answer (a failing stream, a cancel)
            raise
        finally:
            self.connection.finish(self)

    def drop(self) -> None:
        if self.request.body_file is not None:
            self.request.body_file.discard()


class EdgeSite:
    """The edge's side of the HTTP core: `ServiceRequest`s in, AWS's error shapes out."""

    cancel_on_disconnect = True  # a long poll whose client left stops taking messages
    max_body_bytes = SERVICES_MAX_BODY_BYTES
    plan_above = SPOOL_THRESHOLD_BYTES

    def __init__(self, app: EdgeApp, limits: EdgeLimits = SERVICES_LIMITS) -> None:
        self.app = app
        self.limits = limits

    def plan_body(self, connection: HttpConnection) -> int:
        """A body that may be large: its service's limit, and a spool file when the
        service takes files (S3 uploads)."""
        head = _request(connection, b"")
        upload, directory = self.app.upload_spool(route_service(head), head)
        if directory is not None and connection.declared <= S3_MAX_UPLOAD_BYTES:
            sha = head.headers.get("x-amz-content-sha256", "")
            connection.sink = BodySpool(directory, sha256=len(sha) == 64)
        return S3_MAX_UPLOAD_BYTES if upload else self.max_body_bytes

    def refuse_at_head(self, connection: HttpConnection) -> ServiceResponse | None:
        for name, value in connection.headers:
            if len(name) == 13 and name.lower() == b"authorization":
                if value.startswith(b"AWS4"):
                    return None  # SigV4 (every SDK's upload): decided with the body
                break
        return self.app.refuse_at_head(_request(connection, b""))

    def exchange(self, connection: HttpConnection, keep_alive: bool) -> Exchange:
        early = connection.early
        if isinstance(early, ServiceResponse):
            head = _request(connection, b"")
            return _EdgeExchange(self.app, connection, head, False, response=early)
        if connection.too_large:
            head = _request(connection, b"")
            service = route_service(head)
            upload, _ = self.app.upload_spool(service, head)
            size = max(connection.declared, connection.size)
            return _EdgeExchange(
                self.app, connection, head, False, body_too_large(service, size, upload=upload)
            )
        sink = connection.sink
        if sink is not None:
            request = _request(connection, b"", sink.finish())
        else:
            chunks = connection.body
            request = _request(connection, chunks[0] if len(chunks) == 1 else b"".join(chunks))
        return _EdgeExchange(self.app, connection, request, keep_alive)

    def refusal(self, connection: HttpConnection, reason: int) -> bytes | None:
        if reason == MALFORMED:
            return _plain(400, b"Malformed HTTP request")
        if reason == UPGRADE:
            return _plain(400, b"Protocol upgrades are not supported")
        if reason == HEAD_TOO_LARGE:
            refusal = head_too_large()
        elif reason == TIMED_OUT_BODY and route_service(_request(connection, b"")) == "s3":
            # S3 answers a stalled body with RequestTimeout; the others just close.
            refusal = body_timed_out()
        else:
            return None  # idle and slow heads close without a word (as AWS's front ends)
        request = _request(connection, b"")
        service = route_service(request)
        response = render_refusal(refusal, service, error_protocol(service, request))
        return _head_bytes(request.method, response, False) + response.body


def edge_http_server(app: EdgeApp, limits: EdgeLimits = SERVICES_LIMITS) -> HttpServer:
    """The edge port's server (start it with `await server.start(sock)`)."""
    return HttpServer(EdgeSite(app, limits))


def _request(connection: HttpConnection, body: bytes, body_file: Any = None) -> ServiceRequest:
    path, _, query = connection.url.partition(b"?")
    headers = Headers([(n.decode("latin-1"), v.decode("latin-1")) for n, v in connection.headers])
    return ServiceRequest(
        method=connection.parser.get_method().decode("latin-1"),
        path=path.partition(b"#")[0].decode("latin-1") or "/",
        query_string=query.decode("latin-1"),
        headers=headers,
        body=body,
        client_host=connection.client_host or "127.0.0.1",
        host=headers.get("host", ""),
        body_file=body_file,
    )


async def _write(
    connection: HttpConnection, method: str, response: ServiceResponse, keep_alive: bool
) -> None:
    transport = connection.transport
    if transport is None:
        return
    head = _head_lines(method, response, keep_alive)
    no_body = method == "HEAD" or response.status in _NO_BODY_STATUSES
    stream = response.stream
    chunked = stream is not None and head[-1] == _CHUNKED
    head.append(b"\r\n")
    if stream is None or no_body:
        if not no_body:
            head.append(response.body)
        transport.write(b"".join(head))
        if stream is not None:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
        return
    connection.write(b"".join(head))
    async for chunk in stream:
        if connection.transport is None:
            break
        if chunk:
            connection.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        await connection.drain()
    if chunked:
        connection.write(b"0\r\n\r\n")


def _head_lines(method: str, response: ServiceResponse, keep_alive: bool) -> list[bytes]:
    """Status line and headers (without the blank line); the last line is `_CHUNKED`
    when the body goes out in chunks."""
    status = response.status
    head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Unknown"))]
    has_length = has_connection = False
    # Names go out lower-cased (clients fold case).
    for name, value in response.headers:
        lower = name.lower()
        if lower == "content-length":
            has_length = True
        elif lower == "connection":
            has_connection = True
        head.append(f"{lower}: {value}\r\n".encode("latin-1"))
    head.append(date_line())
    if not keep_alive and not has_connection:
        head.append(b"connection: close\r\n")
    no_body = method == "HEAD" or status in _NO_BODY_STATUSES
    stream = response.stream
    if stream is None and not has_length and status not in _NO_BODY_STATUSES:
        head.append(b"content-length: %d\r\n" % len(response.body))
    if stream is not None and not has_length and not no_body:
        head.append(_CHUNKED)
    return head


def _head_bytes(method: str, response: ServiceResponse, keep_alive: bool) -> bytes:
    return b"".join(_head_lines(method, response, keep_alive)) + b"\r\n"


def _plain(status: int, message: bytes) -> bytes:
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n"
        % (
            status,
            REASONS.get(status, b"Error"),
            len(message),
        )
        + b"connection: close\r\n\r\n"
        + message
    )
